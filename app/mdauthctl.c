/*
 * mdauthctl.c -- the admin command.
 *
 *	main			global options, then the command table
 *	ctl_password_read	--password-stdin, or a no-echo prompt twice
 *	ctl_password_hash	read, check and hash a new password
 *	cmd_migrate		mdauthctl migrate [--sql-dir DIR]
 *	cmd_user		mdauthctl user add|passwd|disable|enable|delete|list
 *	cmd_session		mdauthctl session list|revoke
 *	cmd_prune		mdauthctl prune
 *	cmd_hash_password	mdauthctl hash-password [--password-stdin]
 *	ctl_report		print the outcome of a database change
 *
 * Exit status: 0 done, 1 failed (the message says why), 2 usage error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "conf.h"
#include "db_admin.h"
#include "log.h"
#include "password.h"
#include "text.h"

#define EXIT_USAGE 2

struct ctl {
	struct conf	 conf;
	const char	*conninfo;	/* -D, or the configuration's database */
};

struct ctl_command {
	const char	*name;
	int		(*run)(struct ctl *, int, char **);
	const char	*usage;
};

static int cmd_migrate(struct ctl *, int, char **);
static int cmd_user(struct ctl *, int, char **);
static int cmd_session(struct ctl *, int, char **);
static int cmd_prune(struct ctl *, int, char **);
static int cmd_hash_password(struct ctl *, int, char **);

static const struct ctl_command ctl_commands[] = {
	{ "migrate", cmd_migrate, "migrate [--sql-dir DIR]" },
	{ "user", cmd_user, "user add NAME [--password-stdin]\n"
	    "  mdauthctl user passwd NAME [--password-stdin] [--keep-sessions]\n"
	    "  mdauthctl user disable|enable|delete NAME\n"
	    "  mdauthctl user list" },
	{ "session", cmd_session, "session list [--user NAME]\n"
	    "  mdauthctl session revoke ID\n"
	    "  mdauthctl session revoke --user NAME" },
	{ "prune", cmd_prune, "prune" },
	{ "hash-password", cmd_hash_password, "hash-password [--password-stdin]" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: mdauthctl [-c file] [-D conninfo] command ...\n"
	    "  -c file      configuration file (default %s;\n"
	    "               with -D and no -c, none is read: the built-in "
	    "defaults apply)\n"
	    "  -D conninfo  database to administer (default: the "
	    "configuration's database)\ncommands:\n", CONF_DEFAULT_PATH);
	for (i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
		fprintf(f, "  mdauthctl %s\n", ctl_commands[i].usage);
}

/*
 * Read one line from fd into buf (which holds max + 2), without its
 * newline.  Returns its length, or -1 on failure or when longer than max.
 */
static ssize_t
ctl_read_line(int fd, char *buf, size_t max)
{
	size_t len = 0;
	char c;

	for (;;) {
		ssize_t n = read(fd, &c, 1);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;	/* never half a password */
		if (n == 0) {
			if (len == 0 && n == 0)
				return -1;
			break;
		}
		if (c == '\n')
			break;
		if (len > max)
			continue;	/* keep draining the line */
		buf[len++] = c;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return len > max ? -1 : (ssize_t)len;
}

/* Prompt on the terminal with echo off.  Returns the length or -1. */
static ssize_t
ctl_prompt(int tty, const char *prompt, char *buf, size_t max)
{
	struct termios old, quiet;
	ssize_t len;

	if (tcgetattr(tty, &old) == -1)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	if (write(tty, prompt, strlen(prompt)) == -1 ||
	    tcsetattr(tty, TCSAFLUSH, &quiet) == -1)
		return -1;
	len = ctl_read_line(tty, buf, max);
	tcsetattr(tty, TCSAFLUSH, &old);
	/* The newline the user typed was not echoed; a failure to show it
	 * changes nothing. */
	if (write(tty, "\n", 1) == -1)
		log_debug("write to the terminal: %m");
	return len;
}

/* A password from stdin or the terminal (typed twice).  Returns its length or -1. */
static ssize_t
ctl_password_read(bool from_stdin, char *buf, size_t max)
{
	char again[PASSWORD_MAX + 2];
	ssize_t len, len2;
	int tty;

	if (from_stdin) {
		if ((len = ctl_read_line(STDIN_FILENO, buf, max)) == -1)
			fprintf(stderr, "mdauthctl: no password on standard "
			    "input, or longer than %zu bytes\n", max);
		return len;
	}
	if ((tty = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1) {
		fprintf(stderr, "mdauthctl: no terminal to ask for the "
		    "password: use --password-stdin\n");
		return -1;
	}
	len = ctl_prompt(tty, "Password: ", buf, max);
	len2 = len < 0 ? -1 : ctl_prompt(tty, "Retype password: ", again, max);
	close(tty);
	if (len < 0 || len2 != len || memcmp(buf, again, (size_t)len) != 0) {
		fprintf(stderr, "mdauthctl: the passwords do not match, or "
		    "one is longer than %zu bytes\n", max);
		len = -1;
	}
	explicit_bzero(again, sizeof(again));
	return len;
}

/* Read and hash a new password into hash.  Returns 1 on success. */
static int
ctl_password_hash(struct ctl *ctl, bool from_stdin, char *hash, size_t hashlen)
{
	struct password_params params = {
		ctl->conf.argon2_memory, ctl->conf.argon2_iterations,
		ctl->conf.argon2_parallelism,
	};
	char pw[PASSWORD_MAX + 2];
	ssize_t len;
	int rc = 0;

	if ((len = ctl_password_read(from_stdin, pw, PASSWORD_MAX)) < 0)
		goto out;
	/* A new password only: a login never checks the length (SPEC 4). */
	if (password_length(pw, (size_t)len) < ctl->conf.min_password_length) {
		fprintf(stderr, "mdauthctl: the password is too short: at least "
		    "%" PRIu32 " characters (min_password_length) and at most "
		    "%d bytes\n", ctl->conf.min_password_length, PASSWORD_MAX);
		goto out;
	}
	if (password_hash(&params, pw, (size_t)len, hash, hashlen) !=
	    PASSWORD_MATCH) {
		fprintf(stderr, "mdauthctl: hashing the password failed\n");
		goto out;
	}
	rc = 1;
out:
	explicit_bzero(pw, sizeof(pw));
	return rc;
}

/*
 * Options after a command: --password-stdin, --keep-sessions and
 * --sql-dir DIR, each where its pointer is not NULL.
 */
static int
ctl_options(int argc, char **argv, int first, bool *pw_stdin, bool *keep,
    const char **sqldir)
{
	int i;

	for (i = first; i < argc; i++) {
		if (pw_stdin != NULL && strcmp(argv[i], "--password-stdin") == 0)
			*pw_stdin = true;
		else if (keep != NULL && strcmp(argv[i], "--keep-sessions") == 0)
			*keep = true;
		else if (sqldir != NULL && strcmp(argv[i], "--sql-dir") == 0 &&
		    i + 1 < argc)
			*sqldir = argv[++i];
		else {
			fprintf(stderr, "mdauthctl: unexpected argument \"%s\"\n",
			    argv[i]);
			return 0;
		}
	}
	return 1;
}

static int
cmd_migrate(struct ctl *ctl, int argc, char **argv)
{
	const char *sqldir = PKGDATADIR "/sql";
	PGconn *conn;
	int rc;

	if (!ctl_options(argc, argv, 1, NULL, NULL, &sqldir))
		return EXIT_USAGE;
	if ((conn = admin_connect(ctl->conninfo)) == NULL)
		return 1;
	rc = admin_migrate(conn, sqldir) ? 0 : 1;
	PQfinish(conn);
	return rc;
}

/*
 * Print the outcome of a change: done on stdout (exit 0), or why not on
 * stderr (exit 1).  kind and name make "no such user: NAME".
 */
static int
ctl_report(enum admin_result r, const char *done, const char *kind,
    const char *name)
{
	switch (r) {
	case ADMIN_OK:
		printf("%s\n", done);
		return 0;
	case ADMIN_EXISTS:
		fprintf(stderr, "mdauthctl: %s %s already exists (usernames "
		    "are case-insensitive)\n", kind, name);
		return 1;
	case ADMIN_NOT_FOUND:
		fprintf(stderr, "mdauthctl: no such %s: %s\n", kind, name);
		return 1;
	default:
		return 1;	/* the message is printed */
	}
}

static int
ctl_user_usage(void)
{
	fprintf(stderr, "usage: mdauthctl user add NAME [--password-stdin]\n"
	    "       mdauthctl user passwd NAME [--password-stdin] "
	    "[--keep-sessions]\n"
	    "       mdauthctl user disable|enable|delete NAME\n"
	    "       mdauthctl user list\n");
	return EXIT_USAGE;
}

static int
cmd_user(struct ctl *ctl, int argc, char **argv)
{
	char hash[PASSWORD_HASH_MAX], done[256];
	const char *sub, *name;
	bool pw_stdin = false, keep = false;
	enum admin_result r;
	long long ended = 0;
	PGconn *conn;

	if (argc < 2)
		return ctl_user_usage();
	sub = argv[1];
	if (strcmp(sub, "list") == 0) {
		if (argc != 2)
			return ctl_user_usage();
		if ((conn = admin_connect(ctl->conninfo)) == NULL)
			return 1;
		r = admin_user_list(conn);
		PQfinish(conn);
		return r == ADMIN_OK ? 0 : 1;
	}
	if (argc < 3)
		return ctl_user_usage();
	name = argv[2];
	if (strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0) {
		if (!ctl_options(argc, argv, 3, &pw_stdin,
		    strcmp(sub, "passwd") == 0 ? &keep : NULL, NULL))
			return EXIT_USAGE;
	} else if (strcmp(sub, "disable") != 0 && strcmp(sub, "enable") != 0 &&
	    strcmp(sub, "delete") != 0)
		return ctl_user_usage();
	else if (argc != 3)
		return ctl_user_usage();
	if (!text_username_valid(name, strlen(name))) {
		fprintf(stderr, "mdauthctl: invalid username: 1 to %d bytes of "
		    "UTF-8, no control characters, no leading or trailing "
		    "space\n", USERNAME_MAX);
		return 1;
	}
	if ((conn = admin_connect(ctl->conninfo)) == NULL)
		return 1;

	if (strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0) {
		bool add = strcmp(sub, "add") == 0;

		if (!ctl_password_hash(ctl, pw_stdin, hash, sizeof(hash))) {
			PQfinish(conn);
			return 1;
		}
		r = add ? admin_user_add(conn, name, hash) :
		    admin_user_passwd(conn, name, hash, keep, &ended);
		explicit_bzero(hash, sizeof(hash));
		if (add)
			snprintf(done, sizeof(done), "created user %s", name);
		else if (keep)
			snprintf(done, sizeof(done), "password changed for %s; "
			    "sessions kept", name);
		else
			snprintf(done, sizeof(done), "password changed for %s; "
			    "%lld sessions revoked", name, ended);
	} else if (strcmp(sub, "disable") == 0) {
		r = admin_user_disable(conn, name);
		snprintf(done, sizeof(done), "disabled user %s", name);
	} else if (strcmp(sub, "enable") == 0) {
		r = admin_user_enable(conn, name);
		snprintf(done, sizeof(done), "enabled user %s", name);
	} else {
		r = admin_user_delete(conn, name);
		snprintf(done, sizeof(done), "deleted user %s", name);
	}
	PQfinish(conn);
	return ctl_report(r, done, "user", name);
}

static int
ctl_session_usage(void)
{
	fprintf(stderr, "usage: mdauthctl session list [--user NAME]\n"
	    "       mdauthctl session revoke ID\n"
	    "       mdauthctl session revoke --user NAME\n");
	return EXIT_USAGE;
}

static int
cmd_session(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *id = NULL;
	enum admin_result r;
	char done[256];
	long long n = 0;
	PGconn *conn;
	bool list;

	if (argc < 2)
		return ctl_session_usage();
	list = strcmp(argv[1], "list") == 0;
	if (list && argc == 2)
		;
	else if (argc == 4 && strcmp(argv[2], "--user") == 0 &&
	    (list || strcmp(argv[1], "revoke") == 0))
		user = argv[3];
	else if (!list && argc == 3 && strcmp(argv[1], "revoke") == 0 &&
	    argv[2][0] != '-')
		id = argv[2];
	else
		return ctl_session_usage();
	if (id != NULL && !text_uuid_valid(id)) {
		fprintf(stderr, "mdauthctl: not a session id: %s\n", id);
		return 1;
	}
	if ((conn = admin_connect(ctl->conninfo)) == NULL)
		return 1;
	if (list) {
		r = admin_session_list(conn, user);
		PQfinish(conn);
		return r == ADMIN_OK ? 0 : ctl_report(r, "", "user", user);
	}
	if (id != NULL) {
		r = admin_session_revoke(conn, id);
		snprintf(done, sizeof(done), "revoked session %s", id);
		PQfinish(conn);
		return ctl_report(r, done, "live session", id);
	}
	r = admin_session_revoke_user(conn, user, &n);
	snprintf(done, sizeof(done), "revoked %lld sessions of %s", n, user);
	PQfinish(conn);
	return ctl_report(r, done, "user", user);
}

static int
cmd_prune(struct ctl *ctl, int argc, char **argv)
{
	long long sessions = 0, events = 0;
	enum admin_result r;
	PGconn *conn;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: mdauthctl prune\n");
		return EXIT_USAGE;
	}
	if ((conn = admin_connect(ctl->conninfo)) == NULL)
		return 1;
	r = admin_prune(conn, &sessions, &events);
	PQfinish(conn);
	if (r != ADMIN_OK)
		return 1;
	printf("pruned %lld sessions and %lld events\n", sessions, events);
	return 0;
}

static int
cmd_hash_password(struct ctl *ctl, int argc, char **argv)
{
	char hash[PASSWORD_HASH_MAX];
	bool pw_stdin = false;

	if (!ctl_options(argc, argv, 1, &pw_stdin, NULL, NULL))
		return EXIT_USAGE;
	if (!ctl_password_hash(ctl, pw_stdin, hash, sizeof(hash)))
		return 1;
	printf("%s\n", hash);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *path = CONF_DEFAULT_PATH;
	bool path_given = false;
	struct ctl ctl;
	char err[512];
	size_t i;
	int ch, rc;

	memset(&ctl, 0, sizeof(ctl));
	/* "+": stop at the command, whose own options follow it. */
	while ((ch = getopt(argc, argv, "+c:D:hV")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			path_given = true;
			break;
		case 'D':
			ctl.conninfo = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("mdauthctl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}

	log_init("mdauthctl", LOG_LEVEL_WARNING, false);
	conf_defaults(&ctl.conf);
	/*
	 * With -D the file is read only when -c names it: the prune job runs
	 * as the database owner (postgres), who may not read a file that
	 * holds the daemon's password.  Without -D the default file may be
	 * absent (defaults then); a named one must exist.
	 */
	if ((path_given || (ctl.conninfo == NULL && access(path, F_OK) == 0)) &&
	    !conf_load(&ctl.conf, path, err, sizeof(err))) {
		fprintf(stderr, "mdauthctl: %s\n", err);
		conf_free(&ctl.conf);
		return 1;
	}
	if (ctl.conninfo == NULL)
		ctl.conninfo = ctl.conf.database;

	for (i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
		if (strcmp(argv[0], ctl_commands[i].name) == 0)
			break;
	if (i == sizeof(ctl_commands) / sizeof(ctl_commands[0])) {
		fprintf(stderr, "mdauthctl: unknown command \"%s\"\n", argv[0]);
		usage(stderr);
		conf_free(&ctl.conf);
		return EXIT_USAGE;
	}
	rc = ctl_commands[i].run(&ctl, argc, argv);
	conf_free(&ctl.conf);
	return rc;
}
