/*
 * CURVE keys on disk: shmbox keygen makes DIR/key (the secret one, Z85,
 * mode 600) and DIR/key.pub; the other side's public keys go in
 * DIR/peers/NAME.pub.  A listener lets in the keys in its peers/; a
 * connecting bridge takes the listener's key from its peers/ (one only).
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include <zmq.h>

#include "bridge.h"

#define KEY_PATH_MAX (4096 + 256) /* a directory, "/peers/", a file name */

/* A key file: 40 Z85 characters and perhaps a newline.  0 or -1, logged. */
int bridge_read_key(const char *file, char key[BRIDGE_KEY_LEN + 1], bool secret)
{
	unsigned char raw[32];
	char buf[BRIDGE_KEY_LEN + 3];
	struct stat st;
	ssize_t n;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd == -1) {
		bridge_log(LOG_ERR, "%s: %s%s", file, strerror(errno),
			   errno == ENOENT && secret ? " (make it with shmbox keygen)" : "");
		return -1;
	}
	if (secret && fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
		bridge_log(LOG_ERR, "%s: a secret key others can read (mode %03o): chmod 600 it",
			   file, (unsigned)(st.st_mode & 0777));
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n >= 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
	}
	if (n < 0 || strlen(buf) != BRIDGE_KEY_LEN || zmq_z85_decode(raw, buf) == NULL) {
		bridge_log(LOG_ERR, "%s: not a CURVE key (40 Z85 characters, as shmbox keygen "
				    "writes)", file);
		return -1;
	}
	memcpy(key, buf, BRIDGE_KEY_LEN + 1);
	return 0;
}

int bridge_peer_keys(const char *dir, void (*each)(const char *file, const char *name, void *arg),
		     void *arg)
{
	char peers[4096], file[KEY_PATH_MAX];
	struct dirent *e;
	int found = 0;
	DIR *d;

	snprintf(peers, sizeof(peers), "%s/peers", dir);
	if ((d = opendir(peers)) == NULL) {
		bridge_log(LOG_ERR, "%s: %s", peers, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char name[256];

		if (len < 5 || strcmp(e->d_name + len - 4, ".pub") != 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", peers, e->d_name);
		snprintf(name, sizeof(name), "%.*s", (int)len - 4, e->d_name);
		each(file, name, arg);
		found++;
	}
	closedir(d);
	return found;
}

static void first_key(const char *file, const char *name, void *arg)
{
	char *first = arg;

	(void)name;
	if (first[0] == '\0')
		snprintf(first, KEY_PATH_MAX, "%s", file);
}

/* The one .pub file in DIR/peers/, for a connecting bridge. */
static int server_key(const char *dir, char key[BRIDGE_KEY_LEN + 1])
{
	char file[KEY_PATH_MAX] = "";
	int found = bridge_peer_keys(dir, first_key, file);

	if (found == 0 || found > 1)
		bridge_log(LOG_ERR, "%s/peers: %s", dir,
			   found == 0 ? "no .pub file: put the listener's key.pub there"
				      : "more than one .pub file: a connecting bridge needs "
					"exactly one, the listener's");
	if (found != 1)
		return -1;
	return bridge_read_key(file, key, false);
}

int bridge_keys_load(struct bridge *br)
{
	char file[4096];

	snprintf(file, sizeof(file), "%s/key", br->o.keys);
	if (bridge_read_key(file, br->keys.secret, true) == -1)
		return -1;
	if (zmq_curve_public(br->keys.pub, br->keys.secret) == -1) {
		bridge_log(LOG_ERR, "%s: %s", file, zmq_strerror(zmq_errno()));
		return -1;
	}
	return br->o.listen ? 0 : server_key(br->o.keys, br->keys.server);
}

static void write_key(const char *file, const char *key, mode_t mode)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	if (fd == -1)
		err(errno == EEXIST ? EX_CANTCREAT : EX_OSERR, "keygen: %s%s", file,
		    errno == EEXIST ? " (remove it first to make a new pair)" : "");
	if (dprintf(fd, "%s\n", key) < 0 || fsync(fd) == -1 || close(fd) == -1)
		err(EX_IOERR, "keygen: %s", file);
}

int cli_keygen(const struct cli_cmd *cmd, int argc, char **argv)
{
	char pub[BRIDGE_KEY_LEN + 1], secret[BRIDGE_KEY_LEN + 1], file[4096];
	static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
	const char *dir;

	while (cli_getopt(cmd, argc, argv, ":", longopts) != -1)
		cli_usage(cmd);
	if (optind >= argc || argv[optind][0] == '\0') {
		warnx("keygen: a directory is needed");
		cli_usage(cmd);
	}
	dir = argv[optind++];
	cli_no_more(cmd, argc, argv);
	if (zmq_curve_keypair(pub, secret) == -1)
		errx(EX_UNAVAILABLE, "keygen: %s (is this ZeroMQ built with CURVE?)",
		     zmq_strerror(zmq_errno()));
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		err(EX_CANTCREAT, "keygen: %s", dir);
	snprintf(file, sizeof(file), "%s/peers", dir);
	if (mkdir(file, 0700) == -1 && errno != EEXIST)
		err(EX_CANTCREAT, "keygen: %s", file);
	snprintf(file, sizeof(file), "%s/key", dir);
	write_key(file, secret, 0600);
	snprintf(file, sizeof(file), "%s/key.pub", dir);
	write_key(file, pub, 0644);
	printf("%s: %s\nCopy it into the other host's key directory, under peers/ (any "
	       "NAME.pub),\nand the other host's key.pub into %s/peers/ here.\n",
	       file, pub, dir);
	return EX_OK;
}
