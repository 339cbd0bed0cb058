/*
 * test-conf.c -- the configuration file: the default of every key, every
 * key with a valid value, the syntax (comments, blank lines, spaces,
 * CRLF), and every kind of bad line, each an error naming its line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "tap.h"

#define NAME	"t.conf"

static char err[512];

/* Defaults, then text.  Returns what conf_parse returned. */
static int
parse(struct conf *c, const char *text)
{
	conf_defaults(c);
	err[0] = '\0';
	return conf_parse(c, text, strlen(text), NAME, err, sizeof(err));
}

/* Does text parse? */
static int
accepts(const char *text)
{
	struct conf c;
	int rc = parse(&c, text);

	conf_free(&c);
	return rc == 1;
}

/*
 * Does text fail with an error that starts with "t.conf:LINE: " and
 * contains what (when not NULL)?
 */
static int
fails_at(const char *text, unsigned line, const char *what)
{
	struct conf c;
	char prefix[64];
	int rc = parse(&c, text);

	conf_free(&c);
	snprintf(prefix, sizeof(prefix), NAME ":%u: ", line);
	if (rc != 0 || strncmp(err, prefix, strlen(prefix)) != 0) {
		printf("#   error was: \"%s\"\n", err);
		return 0;
	}
	return what == NULL || strstr(err, what) != NULL;
}

static void
test_defaults(void)
{
	struct conf c;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int workers = ncpu < 1 ? 1 : ncpu > 256 ? 256 : (int)ncpu;

	conf_defaults(&c);
	ok(c.listen == NULL, "default listen is unset (inherit fd 0)");
	ok(c.listen_mode == 0660, "default listen_mode is 0660");
	ok(c.workers == workers, "default workers is the CPU count (%d)",
	    workers);
	ok(c.max_requests == 0, "default max_requests is 0 (never retire)");
	ok(c.shutdown_timeout == 10, "default shutdown_timeout is 10 s");
	ok(c.user == NULL, "default user is unset");
	ok(c.group == NULL, "default group is unset");
	ok(c.pid_file == NULL, "default pid_file is unset");
	ok(c.database != NULL && strcmp(c.database, "dbname=mdauth") == 0,
	    "default database is \"dbname=mdauth\"");
	ok(c.db_timeout == 5, "default db_timeout is 5 s");
	ok(c.realm != NULL && strcmp(c.realm, "mdauth") == 0,
	    "default realm is \"mdauth\"");
	ok(c.token_ttl == 3600, "default token_ttl is 3600 s");
	ok(c.token_max_lifetime == 43200,
	    "default token_max_lifetime is 43200 s");
	ok(c.sliding_expiration, "default sliding_expiration is yes");
	ok(c.touch_interval == 60, "default touch_interval is 60 s");
	ok(c.max_sessions_per_user == 5, "default max_sessions_per_user is 5");
	ok(c.session_limit_policy == SESSION_POLICY_EVICT_OLDEST,
	    "default session_limit_policy is evict_oldest");
	ok(c.argon2_memory == 19456, "default argon2_memory is 19456 KiB");
	ok(c.argon2_iterations == 2, "default argon2_iterations is 2");
	ok(c.argon2_parallelism == 1, "default argon2_parallelism is 1");
	ok(c.min_password_length == 12,
	    "default min_password_length is 12 (ASVS 4.0.3 V2.1.1)");
	ok(c.max_concurrent_hashes == 0,
	    "default max_concurrent_hashes is 0 (half the workers)");
	ok(c.login_max_failures == 5, "default login_max_failures is 5");
	ok(c.login_failure_window == 300,
	    "default login_failure_window is 300 s");
	ok(c.login_lockout == 900, "default login_lockout is 900 s");
	ok(c.login_max_delay == 60, "default login_max_delay is 60 s");
	ok(c.ip_max_failures == 50, "default ip_max_failures is 50");
	ok(c.ip_throttle_prefix6 == 64, "default ip_throttle_prefix6 is 64");
	ok(c.require_tls, "default require_tls is yes");
	ok(c.max_body == 16384, "default max_body is 16384 bytes");
	ok(c.log_level == LOG_LEVEL_INFO, "default log_level is info");
	conf_free(&c);

	ok(parse(&c, "") == 1 && c.workers == workers && c.token_ttl == 3600,
	    "an empty file is valid and keeps the defaults");
	conf_free(&c);
}

static void
test_every_key(void)
{
	static const char text[] =
	    "listen = /run/mdauth/mdauth.sock\n"
	    "listen_mode = 0600\n"
	    "workers = 7\n"
	    "max_requests = 10000\n"
	    "shutdown_timeout = 30\n"
	    "user = mdauth\n"
	    "group = www-data\n"
	    "pid_file = /run/mdauth/mdauth.pid\n"
	    "database = host=db1,db2 dbname=auth "
	    "target_session_attrs=read-write\n"
	    "db_timeout = 3\n"
	    "realm = example API\n"
	    "token_ttl = 600\n"
	    "token_max_lifetime = 86400\n"
	    "sliding_expiration = no\n"
	    "touch_interval = 0\n"
	    "max_sessions_per_user = 2\n"
	    "session_limit_policy = reject\n"
	    "argon2_memory = 65536\n"
	    "argon2_iterations = 3\n"
	    "argon2_parallelism = 4\n"
	    "max_concurrent_hashes = 6\n"
	    "login_max_failures = 10\n"
	    "login_failure_window = 600\n"
	    "login_lockout = 1800\n"
	    "login_max_delay = 120\n"
	    "ip_max_failures = 100\n"
	    "ip_throttle_prefix6 = 56\n"
	    "require_tls = no\n"
	    "max_body = 4096\n"
	    "log_level = debug\n";
	struct conf c;

	ok(parse(&c, text) == 1, "a file setting every key parses");
	ok(c.listen != NULL && strcmp(c.listen, "/run/mdauth/mdauth.sock") == 0,
	    "listen takes an absolute socket path");
	ok(c.listen_mode == 0600, "listen_mode takes an octal mode");
	ok(c.workers == 7, "workers is set");
	ok(c.max_requests == 10000, "max_requests is set");
	ok(c.shutdown_timeout == 30, "shutdown_timeout is set");
	ok(c.user != NULL && strcmp(c.user, "mdauth") == 0, "user is set");
	ok(c.group != NULL && strcmp(c.group, "www-data") == 0, "group is set");
	ok(c.pid_file != NULL &&
	    strcmp(c.pid_file, "/run/mdauth/mdauth.pid") == 0,
	    "pid_file is set");
	ok(c.database != NULL && strcmp(c.database,
	    "host=db1,db2 dbname=auth target_session_attrs=read-write") == 0,
	    "database keeps a multi-host conninfo with its own '=' whole");
	ok(c.db_timeout == 3, "db_timeout is set");
	ok(c.realm != NULL && strcmp(c.realm, "example API") == 0,
	    "realm is set, inner space kept");
	ok(c.token_ttl == 600, "token_ttl is set");
	ok(c.token_max_lifetime == 86400, "token_max_lifetime is set");
	ok(!c.sliding_expiration, "sliding_expiration = no is false");
	ok(c.touch_interval == 0, "touch_interval may be 0");
	ok(c.max_sessions_per_user == 2, "max_sessions_per_user is set");
	ok(c.session_limit_policy == SESSION_POLICY_REJECT,
	    "session_limit_policy = reject is set");
	ok(c.argon2_memory == 65536, "argon2_memory is set");
	ok(c.argon2_iterations == 3, "argon2_iterations is set");
	ok(c.argon2_parallelism == 4, "argon2_parallelism is set");
	ok(c.max_concurrent_hashes == 6, "max_concurrent_hashes is set");
	ok(c.login_max_failures == 10, "login_max_failures is set");
	ok(c.login_failure_window == 600, "login_failure_window is set");
	ok(c.login_lockout == 1800, "login_lockout is set");
	ok(c.login_max_delay == 120, "login_max_delay is set");
	ok(c.ip_max_failures == 100, "ip_max_failures is set");
	ok(c.ip_throttle_prefix6 == 56, "ip_throttle_prefix6 is set");
	ok(!c.require_tls, "require_tls = no is false");
	ok(c.max_body == 4096, "max_body is set");
	ok(c.log_level == LOG_LEVEL_DEBUG, "log_level = debug is set");
	conf_free(&c);

	ok(parse(&c, "session_limit_policy = reject\n"
	    "session_limit_policy = evict_oldest\n") == 1 &&
	    c.session_limit_policy == SESSION_POLICY_EVICT_OLDEST,
	    "session_limit_policy = evict_oldest is set");
	conf_free(&c);
	ok(parse(&c, "log_level = warning\n") == 1 &&
	    c.log_level == LOG_LEVEL_WARNING, "log_level = warning is set");
	conf_free(&c);
	ok(parse(&c, "log_level = error\n") == 1 &&
	    c.log_level == LOG_LEVEL_ERROR, "log_level = error is set");
	conf_free(&c);
	ok(parse(&c, "log_level = info\n") == 1 &&
	    c.log_level == LOG_LEVEL_INFO, "log_level = info is set");
	conf_free(&c);
	ok(parse(&c, "listen = 127.0.0.1:9000\n") == 1 &&
	    strcmp(c.listen, "127.0.0.1:9000") == 0,
	    "listen takes host:port");
	conf_free(&c);
	ok(parse(&c, "listen = [::1]:9000\n") == 1 &&
	    strcmp(c.listen, "[::1]:9000") == 0,
	    "listen takes [IPv6]:port");
	conf_free(&c);
	ok(parse(&c, "listen_mode = 660\n") == 1 && c.listen_mode == 0660,
	    "listen_mode is octal without a leading 0 too");
	conf_free(&c);
	ok(parse(&c, "realm = a\nrealm = b\n") == 1 &&
	    strcmp(c.realm, "b") == 0,
	    "a key given twice keeps the last value");
	conf_free(&c);
	ok(parse(&c, "token_ttl = 43200\n") == 1 && c.token_ttl == 43200,
	    "token_ttl equal to token_max_lifetime is allowed");
	conf_free(&c);
}

static void
test_booleans(void)
{
	static const char *const yes[] = { "yes", "YES", "true", "on", "1" };
	static const char *const no[] = { "no", "No", "false", "off", "0" };
	char text[64];
	struct conf c;
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(text, sizeof(text), "require_tls = no\n"
		    "require_tls = %s\n", yes[i]);
		ok(parse(&c, text) == 1 && c.require_tls,
		    "boolean \"%s\" is true", yes[i]);
		conf_free(&c);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		snprintf(text, sizeof(text), "require_tls = %s\n", no[i]);
		ok(parse(&c, text) == 1 && !c.require_tls,
		    "boolean \"%s\" is false", no[i]);
		conf_free(&c);
	}
}

static void
test_syntax(void)
{
	struct conf c;
	char *longline;

	ok(parse(&c, "# a comment\n\n   # an indented comment\n\t\n"
	    "workers = 3\n") == 1 && c.workers == 3,
	    "comments and blank lines are skipped");
	conf_free(&c);
	ok(parse(&c, "workers=3\n") == 1 && c.workers == 3,
	    "no spaces around '=' is fine");
	conf_free(&c);
	ok(parse(&c, "  \tworkers \t =\t  3  \t\n") == 1 && c.workers == 3,
	    "spaces and tabs around key, '=' and value are trimmed");
	conf_free(&c);
	ok(parse(&c, "# comment\r\nworkers = 3\r\nrealm = crlf\r\n\r\n") == 1 &&
	    c.workers == 3 && strcmp(c.realm, "crlf") == 0,
	    "CRLF line endings are accepted and the CR is not in the value");
	conf_free(&c);
	ok(parse(&c, "workers = 3\nmax_body = 100") == 1 && c.max_body == 100,
	    "a last line without a newline is parsed");
	conf_free(&c);

	ok(fails_at("# one\n\nbogus = 1\n", 3, "unknown key \"bogus\""),
	    "an unknown key is an error naming line 3 and the key");
	ok(parse(&c, "# one\n\nbogus = 1\n") == 0 &&
	    strcmp(err, "t.conf:3: unknown key \"bogus\"") == 0,
	    "the unknown-key message is exactly "
	    "t.conf:3: unknown key \"bogus\"");
	conf_free(&c);
	ok(fails_at("Workers = 3\n", 1, "unknown key"),
	    "keys are case-sensitive");
	ok(fails_at("workers = 2\njust some words\n", 2, "key = value"),
	    "a line without '=' is an error naming its line");
	ok(fails_at("= 3\n", 1, "unknown key"),
	    "a line with an empty key is an error");

	longline = malloc(5000);
	memset(longline, '#', 4999);
	longline[4999] = '\0';
	ok(fails_at(longline, 1, "too long"),
	    "a line of 4096 bytes or more is an error");
	free(longline);

	conf_defaults(&c);
	ok(conf_parse(&c, "workers = 2\n\0bogus\n", 19, NAME, err,
	    sizeof(err)) == 0 && strstr(err, "NUL") != NULL &&
	    strncmp(err, NAME ":", strlen(NAME ":")) == 0,
	    "a NUL byte in the text is an error naming the file");
	conf_free(&c);
}

static void
test_bad_values(void)
{
	char *text;
	int n;

	ok(fails_at("\n\nworkers = many\n", 3, "workers"),
	    "a non-integer is an error naming line 3 and the key");
	ok(fails_at("workers = 5x\n", 1, "integer"),
	    "trailing junk after an integer is an error");
	ok(fails_at("workers = -1\n", 1, "integer"),
	    "a negative integer is an error");
	ok(fails_at("workers = +5\n", 1, "integer"),
	    "a '+' sign on an integer is an error");
	ok(fails_at("workers =\n", 1, "workers"),
	    "an empty integer value is an error");
	ok(fails_at("workers = 0\n", 1, "from 1 to 256"),
	    "workers below its minimum is an error stating the range");
	ok(fails_at("workers = 257\n", 1, "from 1 to 256"),
	    "workers above its maximum is an error stating the range");
	ok(fails_at("max_requests = 99999999999999999999999\n", 1, "integer"),
	    "an integer that overflows is an error");
	ok(fails_at("ip_throttle_prefix6 = 31\n", 1, "from 32 to 128"),
	    "ip_throttle_prefix6 below 32 is an error stating the range");
	ok(fails_at("ip_throttle_prefix6 = 129\n", 1, "from 32 to 128"),
	    "ip_throttle_prefix6 above 128 is an error stating the range");
	ok(fails_at("login_max_delay = 0\n", 1, "login_max_delay"),
	    "login_max_delay = 0 is an error");
	ok(fails_at("db_timeout = 0\n", 1, "db_timeout"),
	    "db_timeout = 0 is an error");
	ok(fails_at("token_ttl = 0\n", 1, "token_ttl"),
	    "token_ttl = 0 is an error");
	ok(fails_at("argon2_memory = 7\n", 1, "argon2_memory"),
	    "argon2_memory below 8 KiB is an error");
	ok(fails_at("argon2_iterations = 0\n", 1, "argon2_iterations"),
	    "argon2_iterations = 0 is an error");
	ok(fails_at("argon2_parallelism = 0\n", 1, "argon2_parallelism"),
	    "argon2_parallelism = 0 is an error");
	ok(fails_at("min_password_length = 7\n", 1, "min_password_length"),
	    "min_password_length below 8 is an error");
	ok(fails_at("min_password_length = 1025\n", 1, "min_password_length"),
	    "min_password_length above 1024 is an error");
	ok(fails_at("max_sessions_per_user = 0\n", 1, "max_sessions_per_user"),
	    "max_sessions_per_user = 0 is an error");
	ok(fails_at("max_body = 63\n", 1, "max_body"),
	    "max_body below 64 bytes is an error");
	ok(fails_at("max_body = 1048577\n", 1, "max_body"),
	    "max_body above 1 MiB is an error");
	ok(fails_at("workers = 3 # three\n", 1, "integer"),
	    "a '#' after a value is not a comment (integer with junk)");

	ok(fails_at("require_tls = maybe\n", 1, "yes or no"),
	    "a bad boolean is an error");
	ok(fails_at("sliding_expiration =\n", 1, "sliding_expiration"),
	    "an empty boolean is an error");

	ok(fails_at("listen_mode = 0999\n", 1, "octal"),
	    "a mode with digits 8 or 9 is an error");
	ok(fails_at("listen_mode = 07777\n", 1, "octal"),
	    "a mode above 0777 is an error");
	ok(fails_at("listen_mode = rw-rw----\n", 1, "octal"),
	    "a symbolic mode is an error");
	ok(fails_at("listen_mode = -660\n", 1, "octal"),
	    "a negative mode is an error");

	ok(fails_at("session_limit_policy = drop\n", 1,
	    "evict_oldest or reject"),
	    "an unknown session_limit_policy is an error");
	ok(fails_at("log_level = verbose\n", 1, "log_level"),
	    "an unknown log_level is an error");

	ok(fails_at("listen = mdauth.sock\n", 1, "listen"),
	    "a relative socket path is an error");
	ok(fails_at("listen = localhost\n", 1, "listen"),
	    "a host without a port is an error");
	ok(fails_at("listen = :9000\n", 1, "listen"),
	    "a port without a host is an error");
	ok(fails_at("listen = localhost:0\n", 1, "listen"),
	    "port 0 is an error");
	ok(fails_at("listen = localhost:65536\n", 1, "listen"),
	    "a port above 65535 is an error");
	ok(fails_at("listen = localhost:http\n", 1, "listen"),
	    "a service name instead of a port number is an error");
	text = malloc(200);
	n = snprintf(text, 200, "listen = /");
	memset(text + n, 's', 107);
	strcpy(text + n + 107, "\n");
	ok(fails_at(text, 1, "listen"),
	    "a socket path of 108 bytes (longer than sun_path) is an error");
	free(text);

	ok(fails_at("realm = my \"realm\"\n", 1, "realm"),
	    "a realm with '\"' is an error");
	ok(fails_at("realm = a\\b\n", 1, "realm"),
	    "a realm with '\\' is an error");
	ok(fails_at("realm = caf\xc3\xa9\n", 1, "realm"),
	    "a realm with non-ASCII bytes is an error");
	ok(fails_at("realm = "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    1, "realm"), "a realm of 65 characters is an error");
	ok(accepts("realm = "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"),
	    "a realm of 64 characters is accepted");
	ok(fails_at("realm =\n", 1, "realm"), "an empty realm is an error");
	ok(fails_at("database =   \n", 1, "database"),
	    "an empty database is an error");

	ok(fails_at("token_ttl = 7200\ntoken_max_lifetime = 3600\n", 2,
	    "token_ttl is longer than token_max_lifetime"),
	    "token_ttl > token_max_lifetime is an error");
	ok(fails_at("token_ttl = 50000\n", 1,
	    "token_ttl is longer than token_max_lifetime"),
	    "token_ttl over the default token_max_lifetime is an error");
	ok(fails_at("token_ttl = 60\n# x\ntouch_interval = 60\n", 3,
	    "touch_interval must be shorter than token_ttl"),
	    "touch_interval >= token_ttl with sliding expiry is an error at "
	    "the later line");
	ok(fails_at("touch_interval = 30\ntoken_ttl = 20\n", 2,
	    "touch_interval must be shorter than token_ttl"),
	    "a token_ttl below touch_interval is named at its own line");
	ok(accepts("sliding_expiration = no\ntoken_ttl = 60\n"
	    "touch_interval = 600\n"),
	    "without sliding expiry touch_interval may exceed token_ttl");
	ok(accepts("token_ttl = 61\ntouch_interval = 60\n"),
	    "touch_interval just under token_ttl is accepted");
}

static void
test_hash_slots(void)
{
	struct conf c;

	conf_defaults(&c);
	c.workers = 1;
	ok(conf_hash_slots(&c) == 1, "1 worker: 1 hash slot");
	c.workers = 2;
	ok(conf_hash_slots(&c) == 1, "2 workers: 1 hash slot (half)");
	c.workers = 3;
	ok(conf_hash_slots(&c) == 1,
	    "3 workers: 1 hash slot (half, rounded down)");
	c.workers = 8;
	ok(conf_hash_slots(&c) == 4, "8 workers: 4 hash slots (half)");
	c.max_concurrent_hashes = 3;
	ok(conf_hash_slots(&c) == 3,
	    "an explicit max_concurrent_hashes wins over half the workers");
	c.max_concurrent_hashes = 20;
	ok(conf_hash_slots(&c) == 20,
	    "an explicit max_concurrent_hashes may exceed the workers");
	conf_free(&c);
	ok(parse(&c, "workers = 6\nmax_concurrent_hashes = 0\n") == 1 &&
	    conf_hash_slots(&c) == 3,
	    "max_concurrent_hashes = 0 in the file means half the workers");
	conf_free(&c);
}

static void
test_load(void)
{
	char path[] = "/tmp/test-conf.XXXXXX";
	const char *text = "# test\nworkers = 4\nrealm = loaded\n";
	struct conf c;
	FILE *f;
	int fd;

	conf_defaults(&c);
	ok(conf_load(&c, "/nonexistent/mdauth.conf", err, sizeof(err)) == 0 &&
	    strncmp(err, "/nonexistent/mdauth.conf: ", 26) == 0 &&
	    strstr(err, "No such file") != NULL,
	    "loading a missing file is an error naming the path and why");
	conf_free(&c);

	conf_defaults(&c);
	ok(conf_load(&c, "/tmp", err, sizeof(err)) == 0 &&
	    strncmp(err, "/tmp: ", 6) == 0,
	    "loading a directory is an error naming the path");
	conf_free(&c);

	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		ok(0, "a temporary file can be created");
		return;
	}
	fputs(text, f);
	fclose(f);
	conf_defaults(&c);
	ok(conf_load(&c, path, err, sizeof(err)) == 1 && c.workers == 4 &&
	    strcmp(c.realm, "loaded") == 0,
	    "loading a valid file sets its keys");
	conf_free(&c);

	if ((f = fopen(path, "w")) != NULL) {
		fputs("workers = 4\nnope = 1\n", f);
		fclose(f);
	}
	conf_defaults(&c);
	{
		char want[64];

		snprintf(want, sizeof(want), "%s:2: unknown key", path);
		ok(conf_load(&c, path, err, sizeof(err)) == 0 &&
		    strncmp(err, want, strlen(want)) == 0,
		    "an error in a loaded file names the path and line");
	}
	conf_free(&c);
	unlink(path);

	conf_defaults(&c);
	conf_free(&c);
	ok(c.realm == NULL && c.database == NULL && c.workers == 0,
	    "conf_free releases the strings and zeroes the struct");
}

int
main(void)
{
	test_defaults();
	test_every_key();
	test_booleans();
	test_syntax();
	test_bad_values();
	test_hash_slots();
	test_load();
	return tap_done();
}
