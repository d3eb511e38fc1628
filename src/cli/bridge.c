/*
 * shmbox bridge: options, the mailbox, signals as a descriptor, daemon
 * mode, then the connecting or the listening side.
 */
#include <err.h>
#include <errno.h>
#include <libutil.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sysexits.h>
#include <unistd.h>
#include <zmq.h>

#include "bridge.h"

/* A long option's number, min to max, or a usage error naming it. */
static long long number(const char *opt, const char *arg, const char *what, long long min,
			long long max)
{
	const char *errstr;
	long long n = strtonum(arg, min, max, &errstr);

	if (errstr != NULL)
		errx(EX_USAGE, "bridge: %s %s: %s is %s (%lld to %lld)", opt, arg, what, errstr,
		     min, max);
	return n;
}

enum { OPT_CONNECT = 256, OPT_LISTEN, OPT_KEYS, OPT_WINDOW, OPT_CALLS, OPT_INSECURE, OPT_STATS };

static void parse(const struct cli_cmd *cmd, int argc, char **argv, struct bridge_opts *o)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"connect", required_argument, NULL, OPT_CONNECT},
		{"listen", required_argument, NULL, OPT_LISTEN},
		{"keys", required_argument, NULL, OPT_KEYS},
		{"window", required_argument, NULL, OPT_WINDOW},
		{"calls", required_argument, NULL, OPT_CALLS},
		{"insecure", no_argument, NULL, OPT_INSECURE},
		{"stats", no_argument, NULL, OPT_STATS},
		{NULL, 0, NULL, 0},
	};
	bool window = false, calls = false;
	int c;

	*o = (struct bridge_opts){.window = BRIDGE_WINDOW, .calls = BRIDGE_CALLS};
	while ((c = cli_getopt(cmd, argc, argv, ":dp:", longopts)) != -1) {
		switch (c) {
		case OPT_CONNECT:
		case OPT_LISTEN:
			if (o->endpoint != NULL) {
				warnx("bridge: one of --connect or --listen, once");
				cli_usage(cmd);
			}
			o->endpoint = optarg;
			o->listen = c == OPT_LISTEN;
			break;
		case OPT_KEYS: o->keys = optarg; break;
		case OPT_WINDOW:
			o->window = (long)number("--window", optarg, "the window", 1, 65536);
			window = true;
			break;
		case OPT_CALLS:
			o->calls = (int)number("--calls", optarg, "the calls at once", 1, 1024);
			calls = true;
			break;
		case OPT_INSECURE: o->insecure = true; break;
		case OPT_STATS: o->stats = true; break;
		case 'd': o->daemon = true; break;
		default: cli_usage(cmd);
		}
	}
	o->path = cli_path(cmd, argc, argv);
	cli_no_more(cmd, argc, argv);
	if (o->endpoint == NULL) {
		warnx("bridge: --connect ENDPOINT or --listen ENDPOINT is needed");
		cli_usage(cmd);
	}
	if ((window && o->listen) || ((calls || o->insecure) && !o->listen)) {
		warnx("bridge: --window is for --connect; --calls and --insecure for --listen");
		cli_usage(cmd);
	}
	if (o->listen && o->keys == NULL && !o->insecure && !bridge_is_local(o->endpoint))
		errx(EX_USAGE, "bridge: %s can be reached from other hosts: give --keys DIR "
			       "(shmbox keygen), or --insecure to let anyone who reaches it in",
		     o->endpoint);
}

/* SIGINT, SIGTERM and SIGUSR1 come through a descriptor that the loop
 * polls; blocked before ZeroMQ starts its threads, so none takes them. */
static int signals_fd(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		err(EX_OSERR, "bridge: signalfd");
	signal(SIGPIPE, SIG_IGN);
	return fd;
}

static char *full_path(const char *path, const char *what)
{
	char *full = realpath(path, NULL);

	if (full == NULL)
		err(EX_NOINPUT, "bridge: %s %s", what, path);
	return full;
}

static struct pidfh *pidfile;

/* Whichever way a daemon ends (exit included), its pid file goes. */
static void remove_pidfile(void)
{
	pidfile_remove(pidfile);
}

/* -d: the pid file names the side and the mailbox's key, so that the two
 * bridges of one host, or of two mailboxes, do not meet in one file. */
static void daemonize(const struct bridge_opts *o)
{
	char file[128];
	struct pidfh *pf;
	pid_t other;
	key_t key = ftok(o->path, cli_proj);

	if (key == -1)
		cli_fail("bridge", o->path);
	snprintf(file, sizeof(file), "/run/shmbox-bridge-%s-0x%08x.pid",
		 o->listen ? "listen" : "connect", (unsigned)key);
	if ((pf = pidfile_open(file, 0644, &other)) == NULL) {
		if (errno == EEXIST)
			errx(EX_TEMPFAIL, "bridge: already running as process %ld (%s)",
			     (long)other, file);
		err(EX_CANTCREAT, "bridge: %s", file);
	}
	if (daemon(0, 0) == -1)
		err(EX_OSERR, "bridge: daemon");
	pidfile_write(pf);
	pidfile = pf;
	atexit(remove_pidfile);
}

int cli_bridge(const struct cli_cmd *cmd, int argc, char **argv)
{
	static struct bridge br;
	shmbox_attr_t attr;
	int rc;

	parse(cmd, argc, argv, &br.o);
	if (zmq_has("curve") == 0 && br.o.keys != NULL)
		errx(EX_UNAVAILABLE, "bridge: this ZeroMQ was built without CURVE: --keys cannot work");
	br.secure = br.o.keys != NULL;
	/* the keys, and the mailbox once, before -d: their errors reach the
	 * terminal, not syslog; then their full paths, as a daemon runs in / */
	if (br.secure && bridge_keys_load(&br) == -1)
		return EX_CONFIG;
	if (br.o.daemon) {
		shmbox_close(cli_open("bridge", br.o.path, 0));
		br.o.path = full_path(br.o.path, "bridge");
		if (br.secure)
			br.o.keys = full_path(br.o.keys, "--keys");
		daemonize(&br.o);
	}
	bridge_log_init(br.o.daemon);
	/* batches and ZeroMQ's frames come and go by the thousand: keep freed
	 * memory instead of mapping and trimming it each time (4 KiB messages
	 * moved three times as fast, page faults a twentieth) */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	br.sigfd = signals_fd();
	br.box = cli_open("bridge", br.o.path, 0);
	cli_getattr(br.box, "bridge", br.o.path, &attr);
	br.slot_size = attr.slot_size;
	if ((br.ctx = zmq_ctx_new()) == NULL)
		err(EX_OSERR, "bridge: zmq_ctx_new");
	rc = br.o.listen ? bridge_listen(&br) : bridge_connect(&br);
	if (br.o.stats)
		bridge_stats_print(&br);
	zmq_ctx_shutdown(br.ctx);
	if (br.secure && br.o.listen)
		bridge_zap_join();
	zmq_ctx_term(br.ctx);
	shmbox_close(br.box);
	return rc;
}
