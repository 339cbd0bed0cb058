/*
 * mdauthd.c -- the FastCGI authentication daemon: options and start-up.
 *
 *	main	parse options, load the configuration, open the socket,
 *		detach, drop privileges, hand over to the master
 *	usage	the help text
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "master.h"
#include "secmem.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mdauthd [-dhtV] [-c file]\n"
	    "  -c file  configuration file (default %s)\n"
	    "  -d       detach into the background, log to syslog, write pid_file;\n"
	    "           exit 0 once a worker has connected to the database, or\n"
	    "           print why and exit 1 if none can (within db_timeout + 3 s)\n"
	    "  -t       check the configuration and exit\n"
	    "  -V       print the version and exit\n"
	    "  -h       this help\n", CONF_DEFAULT_PATH);
}

int
main(int argc, char *argv[])
{
	const char *path = CONF_DEFAULT_PATH;
	char err[512], *abspath = NULL;
	struct conf conf;
	bool detach = false, test = false;
	int ch, fd, login_fd = -1, rc, ready = -1, untuned;

	/* Before getopt(3), which may reorder argv (secmem.c says why). */
	untuned = secmem_process_start(argv);
	/* Before the configuration (and its password) is read. */
	daemon_no_core();

	while ((ch = getopt(argc, argv, "c:dhtV")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			detach = true;
			break;
		case 't':
			test = true;
			break;
		case 'V':
			printf("mdauthd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	log_init("mdauthd", LOG_LEVEL_INFO, false);
	conf_defaults(&conf);
	rc = 1;
	if (!conf_load(&conf, path, err, sizeof(err))) {
		fprintf(stderr, "mdauthd: %s\n", err);
		goto out;
	}
	if (test) {
		printf("mdauthd: %s: configuration ok\n", path);
		rc = 0;
		goto out;
	}
	log_set_level(conf.log_level);

	/* SIGHUP reads the file again, after -d has changed to "/". */
	if ((abspath = realpath(path, NULL)) == NULL) {
		fprintf(stderr, "mdauthd: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if ((fd = daemon_listen(&conf)) == -1 ||
	    !daemon_chown_socket(&conf, conf.listen))
		goto out;
	if (conf.login_listen != NULL && ((login_fd = daemon_listen_at(&conf,
	    conf.login_listen)) == -1 ||
	    !daemon_chown_socket(&conf, conf.login_listen)))
		goto out;
	if (detach) {
		/* The master gives up after db_timeout + 3 s (master.c), and
		 * its workers are gone a second or two later. */
		if ((ready = daemon_detach(fd, conf.db_timeout + 10)) == -1)
			goto out;
		log_init("mdauthd", conf.log_level, true);
	}
	if (!daemon_write_pid(conf.pid_file, err, sizeof(err))) {
		daemon_start_failed(ready, err);
		goto out;
	}
	if (!daemon_drop_privileges(&conf))
		goto out;
	log_info("mdauthd %s: serving on %s", PACKAGE_VERSION,
	    conf.listen != NULL ? conf.listen : "fd 0");
	if (login_fd != -1)
		log_info("mdauthd: logins on %s too, by %d workers of their own",
		    conf.login_listen, conf_login_workers(&conf));
	if (conf_password_exposed(&conf))
		log_warn("%s holds a database password and is readable by "
		    "others (mode %04o): chmod o-rwx it", abspath,
		    conf.file_mode);
	secmem_process_warn(untuned);
	rc = master_run(&conf, abspath, fd, login_fd, ready);
	if (conf.pid_file != NULL && unlink(conf.pid_file) == -1)
		log_warn("unlink %s: %m (its directory must be writable by "
		    "the user mdauthd runs as)", conf.pid_file);
out:
	conf_free(&conf);
	free(abspath);
	return rc;
}
