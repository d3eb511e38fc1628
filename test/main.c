/* The test runner: every suite, in one run directory of key files that is
 * swept of IPC objects at the end, whatever the tests did. */
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

int main(void)
{
	SRunner *sr;
	int failed, left;

	tu_run_begin();
	sr = srunner_create(suite_basic());
	srunner_add_suite(sr, suite_errors());
	srunner_add_suite(sr, suite_procs());
	srunner_add_suite(sr, suite_crash());
	srunner_add_suite(sr, suite_race());
	srunner_add_suite(sr, suite_call());
	srunner_add_suite(sr, suite_call_remote());
	srunner_add_suite(sr, suite_observe());
	srunner_add_suite(sr, suite_zerocopy());
	srunner_add_suite(sr, suite_hostile());
	srunner_add_suite(sr, suite_limits());
	srunner_add_suite(sr, suite_survive());
	srunner_add_suite(sr, suite_unlink());
	srunner_add_suite(sr, suite_baton());
	srunner_add_suite(sr, suite_fd());
	srunner_add_suite(sr, suite_fd_poll());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	left = tu_sweep();
	tu_run_end();
	if (left > 0 && failed == 0) {
		fprintf(stderr, "tests left %d IPC objects behind (now removed)\n", left);
		return EXIT_FAILURE;
	}
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
