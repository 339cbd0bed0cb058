/*
 * conf.c -- the configuration file.
 *
 *	conf_defaults		the defaults of every key
 *	conf_parse		parse text held in memory
 *	conf_load		read and parse a file
 *	conf_hash_slots		resolve max_concurrent_hashes
 *	conf_login_workers	resolve login_workers (0: no login socket)
 *	conf_free		release the strings
 *	conf_key_name		the keys, in the table's order
 *	conf_key_value		a key's value as the file spells it
 *
 * The keys are a table: name, type, where the value goes and its bounds.
 * Durations are integer seconds, sizes integer bytes (argon2_memory: KiB).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "password.h"

const char *const session_policy_names[SESSION_POLICY__MAX] = {
	"evict_oldest",	/* SESSION_POLICY_EVICT_OLDEST */
	"reject",	/* SESSION_POLICY_REJECT */
};

enum conf_type {
	CONF_STRING,
	CONF_LISTEN,
	CONF_REALM,
	CONF_INT,
	CONF_LONG,
	CONF_U32,
	CONF_SIZE,
	CONF_BOOL,
	CONF_MODE,
	CONF_POLICY,
	CONF_LOG_LEVEL,
	CONF_NET_ALLOW,
};

struct conf_key {
	const char	*name;
	enum conf_type	 type;
	size_t		 offset;
	long long	 min;
	long long	 max;
};

/* A TCP listener serves loopback peers only unless told otherwise. */
#define CONF_LISTEN_ALLOW_DEFAULT	"127.0.0.0/8, ::1"

#define KEY(name, type, min, max) \
	{ #name, type, offsetof(struct conf, name), min, max }

static const struct conf_key conf_keys[] = {
	KEY(listen,			CONF_LISTEN,	0, 0),
	KEY(listen_mode,		CONF_MODE,	0, 0777),
	KEY(listen_allow,		CONF_NET_ALLOW,	0, 0),
	KEY(request_timeout,		CONF_INT,	1, 3600),
	KEY(workers,			CONF_INT,	1, 256),
	KEY(login_listen,		CONF_LISTEN,	0, 0),
	KEY(login_workers,		CONF_INT,	0, 256),
	KEY(login_nice,			CONF_INT,	0, 19),
	KEY(max_requests,		CONF_LONG,	0, LONG_MAX),
	KEY(shutdown_timeout,		CONF_INT,	0, 3600),
	KEY(user,			CONF_STRING,	0, 0),
	KEY(group,			CONF_STRING,	0, 0),
	KEY(pid_file,			CONF_STRING,	0, 0),
	KEY(database,			CONF_STRING,	0, 0),
	KEY(db_timeout,			CONF_INT,	1, 300),
	KEY(realm,			CONF_REALM,	0, 0),
	KEY(token_ttl,			CONF_LONG,	1, 31536000),
	KEY(token_max_lifetime,		CONF_LONG,	1, 315360000),
	KEY(sliding_expiration,		CONF_BOOL,	0, 0),
	KEY(touch_interval,		CONF_LONG,	0, 86400),
	KEY(max_sessions_per_user,	CONF_INT,	1, 100000),
	KEY(session_limit_policy,	CONF_POLICY,	0, 0),
	KEY(argon2_memory,		CONF_U32,	8, 4194304),
	KEY(argon2_iterations,		CONF_U32,	1, 100),
	KEY(argon2_parallelism,		CONF_U32,	1, 64),
	KEY(min_password_length,	CONF_U32,	PASSWORD_MIN,
	    PASSWORD_MAX),
	KEY(max_concurrent_hashes,	CONF_INT,	0, 1024),
	KEY(login_max_failures,		CONF_INT,	1, 1000000),
	KEY(login_failure_window,	CONF_LONG,	1, 31536000),
	KEY(login_lockout,		CONF_LONG,	1, 31536000),
	KEY(login_max_delay,		CONF_LONG,	1, 86400),
	KEY(ip_max_failures,		CONF_INT,	1, 1000000),
	KEY(ip_throttle_prefix6,	CONF_INT,	32, 128),
	KEY(require_tls,		CONF_BOOL,	0, 0),
	KEY(max_body,			CONF_SIZE,	64, 1048576),
	KEY(log_level,			CONF_LOG_LEVEL,	0, 0),
	KEY(cache,			CONF_BOOL,	0, 0),
	KEY(cache_entries,		CONF_INT,	64, 16777216),
	KEY(cache_max_age,		CONF_INT,	1, 3600),
	KEY(notify_database,		CONF_STRING,	0, 0),
};

#undef KEY

void
conf_defaults(struct conf *conf)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(conf, 0, sizeof(*conf));
	conf->listen_mode = 0660;
	conf->workers = ncpu < 1 ? 1 : ncpu > 256 ? 256 : (int)ncpu;
	conf->max_requests = 0;
	conf->shutdown_timeout = 10;
	conf->database = strdup("dbname=mdauth");
	conf->db_timeout = 5;
	conf->realm = strdup("mdauth");
	conf->token_ttl = 3600;
	conf->token_max_lifetime = 43200;
	conf->sliding_expiration = true;
	conf->touch_interval = 60;
	conf->max_sessions_per_user = 5;
	conf->session_limit_policy = SESSION_POLICY_EVICT_OLDEST;
	conf->argon2_memory = 19456;
	conf->argon2_iterations = 2;
	conf->argon2_parallelism = 1;
	conf->min_password_length = 12;
	conf->max_concurrent_hashes = 0;
	conf->login_nice = 19;
	conf->login_max_failures = 5;
	conf->login_failure_window = 300;
	conf->login_lockout = 900;
	conf->login_max_delay = 60;
	conf->ip_max_failures = 50;
	conf->ip_throttle_prefix6 = 64;
	conf->require_tls = true;
	conf->max_body = 16384;
	conf->log_level = LOG_LEVEL_INFO;
	conf->request_timeout = 10;
	conf->cache = true;
	conf->cache_entries = 16384;
	conf->cache_max_age = 5;
	conf->listen_allow = strdup(CONF_LISTEN_ALLOW_DEFAULT);
	if (!net_allow_parse(&conf->listen_allow_net, CONF_LISTEN_ALLOW_DEFAULT,
	    NULL, 0))
		abort();	/* the constant is wrong */
}

static void conf_error(char *, size_t, const char *, unsigned, const char *,
    ...) __attribute__((format(printf, 5, 6)));

static void
conf_error(char *err, size_t errlen, const char *name, unsigned line,
    const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%u: %s", name, line, what);
}

/* Returns 1 and the value when text is a whole decimal integer in bounds. */
static int
conf_integer(const char *text, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)text[0]))
		return 0;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

/*
 * A listen value is an absolute Unix socket path, or host:port with a
 * numeric port ("[::1]:9000" for IPv6).  Returns 1 if it looks like one.
 */
static int
conf_listen_ok(const char *v)
{
	const char *colon;
	long long port;

	if (v[0] == '/')
		return strlen(v) < 108;		/* sizeof(sun_path) */
	colon = strrchr(v, ':');
	if (colon == NULL || colon == v)
		return 0;
	return conf_integer(colon + 1, 1, 65535, &port);
}

/* The realm goes inside a quoted-string of WWW-Authenticate: keep it plain. */
static int
conf_realm_ok(const char *v)
{
	if (*v == '\0' || strlen(v) > 64)
		return 0;
	for (; *v != '\0'; v++)
		if (*v < 0x20 || *v > 0x7e || *v == '"' || *v == '\\')
			return 0;
	return 1;
}

static int
conf_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 1;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 1;
		}
	}
	return 0;
}

/* Replace the string *sp with a copy of v.  Returns 1, or 0 with why. */
static int
conf_set_string(char **sp, const char *v, char *why, size_t whylen)
{
	char *copy;

	if ((copy = strdup(v)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return 0;
	}
	free(*sp);
	*sp = copy;
	return 1;
}

/* Store one value.  Returns 1 on success, 0 with a message on failure. */
static int
conf_set(struct conf *conf, const struct conf_key *key, const char *v,
    char *why, size_t whylen)
{
	char *field = (char *)conf + key->offset;
	long long n;
	size_t i;
	bool b;

	switch (key->type) {
	case CONF_LISTEN:
		if (!conf_listen_ok(v)) {
			snprintf(why, whylen, "%s: expected an absolute "
			    "socket path or host:port", key->name);
			return 0;
		}
		/* FALLTHROUGH */
	case CONF_REALM:
		if (key->type == CONF_REALM && !conf_realm_ok(v)) {
			snprintf(why, whylen, "realm: 1 to 64 printable "
			    "characters without '\"' or '\\'");
			return 0;
		}
		/* FALLTHROUGH */
	case CONF_STRING:
		if (*v == '\0') {
			snprintf(why, whylen, "%s: empty value", key->name);
			return 0;
		}
		return conf_set_string((char **)(void *)field, v, why, whylen);
	case CONF_INT:
	case CONF_LONG:
	case CONF_U32:
	case CONF_SIZE:
		if (!conf_integer(v, key->min, key->max, &n)) {
			snprintf(why, whylen, "%s: expected an integer from "
			    "%lld to %lld", key->name, key->min, key->max);
			return 0;
		}
		if (key->type == CONF_INT)
			*(int *)(void *)field = (int)n;
		else if (key->type == CONF_LONG)
			*(long *)(void *)field = (long)n;
		else if (key->type == CONF_U32)
			*(uint32_t *)(void *)field = (uint32_t)n;
		else
			*(size_t *)(void *)field = (size_t)n;
		return 1;
	case CONF_BOOL:
		if (!conf_bool(v, &b)) {
			snprintf(why, whylen, "%s: expected yes or no", key->name);
			return 0;
		}
		*(bool *)(void *)field = b;
		return 1;
	case CONF_MODE: {
		char *end;
		unsigned long m;

		errno = 0;
		m = strtoul(v, &end, 8);
		if (*v < '0' || *v > '7' || *end != '\0' || errno != 0 ||
		    m > (unsigned long)key->max) {
			snprintf(why, whylen, "%s: expected an octal mode "
			    "such as 0660", key->name);
			return 0;
		}
		*(unsigned *)(void *)field = (unsigned)m;
		return 1;
	}
	case CONF_POLICY:
		for (i = 0; i < SESSION_POLICY__MAX; i++)
			if (strcmp(v, session_policy_names[i]) == 0) {
				*(enum session_policy *)(void *)field = i;
				return 1;
			}
		snprintf(why, whylen, "%s: expected evict_oldest or reject",
		    key->name);
		return 0;
	case CONF_LOG_LEVEL:
		for (i = 0; i < LOG_LEVEL__MAX; i++)
			if (strcmp(v, log_level_names[i]) == 0) {
				*(enum log_level *)(void *)field = i;
				return 1;
			}
		snprintf(why, whylen, "%s: expected debug, info, warning "
		    "or error", key->name);
		return 0;
	case CONF_NET_ALLOW: {
		char what[200];

		if (!net_allow_parse(&conf->listen_allow_net, v, what,
		    sizeof(what))) {
			snprintf(why, whylen, "%s: %s", key->name, what);
			return 0;
		}
		return conf_set_string((char **)(void *)field, v, why, whylen);
	}
	}
	snprintf(why, whylen, "%s: internal error", key->name);
	return 0;
}

/* Remove leading and trailing white space in place. */
static char *
conf_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r'))
		*--end = '\0';
	return s;
}

int
conf_parse(struct conf *conf, const char *text, size_t len, const char *name,
    char *err, size_t errlen)
{
	const char *p = text, *end = text + len, *nul;
	unsigned lineno = 0, lifetime_line = 0, touch_line = 0, login_line = 0;
	char line[4096], why[256];

	if ((nul = memchr(text, '\0', len)) != NULL) {
		for (p = text, lineno = 1; p < nul; p++)
			lineno += *p == '\n';
		conf_error(err, errlen, name, lineno, "NUL byte in the line");
		return 0;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (nl != NULL ? nl : end) - p;
		char *key, *value, *eq;
		size_t i;

		lineno++;
		if (n >= sizeof(line)) {
			conf_error(err, errlen, name, lineno, "line too long");
			return 0;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl != NULL ? nl + 1 : end;

		key = conf_trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			conf_error(err, errlen, name, lineno,
			    "expected \"key = value\"");
			return 0;
		}
		*eq = '\0';
		key = conf_trim(key);
		value = conf_trim(eq + 1);

		for (i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++)
			if (strcmp(key, conf_keys[i].name) == 0)
				break;
		if (i == sizeof(conf_keys) / sizeof(conf_keys[0])) {
			conf_error(err, errlen, name, lineno,
			    "unknown key \"%.64s\"", key);
			return 0;
		}
		if (!conf_set(conf, &conf_keys[i], value, why, sizeof(why))) {
			conf_error(err, errlen, name, lineno, "%s", why);
			return 0;
		}
		if (conf_keys[i].offset == offsetof(struct conf, token_ttl) ||
		    conf_keys[i].offset == offsetof(struct conf,
		    token_max_lifetime))
			lifetime_line = lineno;
		if (conf_keys[i].offset == offsetof(struct conf, touch_interval))
			touch_line = lineno;
		if (conf_keys[i].offset == offsetof(struct conf, login_listen))
			login_line = lineno;
	}
	/* Named at the later of the two lines, where the conflict arises. */
	if (conf->token_ttl > conf->token_max_lifetime) {
		conf_error(err, errlen, name, lifetime_line,
		    "token_ttl is longer than token_max_lifetime");
		return 0;
	}
	/* Renewals written that rarely would let a token in use expire. */
	if (conf->sliding_expiration && conf->touch_interval >= conf->token_ttl) {
		conf_error(err, errlen, name, touch_line > lifetime_line ?
		    touch_line : lifetime_line,
		    "touch_interval must be shorter than token_ttl");
		return 0;
	}
	if (conf->login_listen != NULL && conf->listen != NULL &&
	    strcmp(conf->login_listen, conf->listen) == 0) {
		conf_error(err, errlen, name, login_line,
		    "login_listen must be another socket than listen");
		return 0;
	}
	return 1;
}

/*
 * libfcgi's FCGI_WEB_SERVER_ADDRS, checked only by libfcgi's own accept,
 * which mdauthd does not use: honoured here instead, as a second list a
 * TCP peer must be in as well as listen_allow.
 */
static int
conf_environment(struct conf *conf, char *err, size_t errlen)
{
	const char *v = getenv("FCGI_WEB_SERVER_ADDRS");
	char why[200];

	conf->web_server_addrs.n = 0;
	if (v == NULL || *v == '\0')
		return 1;
	if (!net_allow_parse(&conf->web_server_addrs, v, why, sizeof(why))) {
		snprintf(err, errlen, "FCGI_WEB_SERVER_ADDRS (environment): %s",
		    why);
		return 0;
	}
	return 1;
}

int
conf_load(struct conf *conf, const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	struct stat st;
	ssize_t got;
	size_t len = 0;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > 1024 * 1024) {
		snprintf(err, errlen, "%s: not a regular file of at most 1 MiB",
		    path);
		goto out;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (len < (size_t)st.st_size) {
		got = read(fd, text + len, (size_t)st.st_size - len);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0) {
			snprintf(err, errlen, "%s: %s", path,
			    got == 0 ? "short read" : strerror(errno));
			goto out;
		}
		len += (size_t)got;
	}
	rc = conf_parse(conf, text, len, path, err, errlen);
	if (rc)
		rc = conf_environment(conf, err, errlen);
	conf->file_mode = (unsigned)st.st_mode & 07777;
out:
	if (text != NULL) {
		explicit_bzero(text, len);	/* database may hold a password */
		free(text);
	}
	close(fd);
	return rc;
}

/* A libpq conninfo "password = ..." or a URI's "?password=" / "&password=". */
static bool
conf_conninfo_password(const char *db)
{
	const char *p, *q;

	for (p = db; (p = strstr(p, "password")) != NULL; p += 8) {
		if (p != db && !isspace((unsigned char)p[-1]) &&
		    p[-1] != '?' && p[-1] != '&')
			continue;
		for (q = p + 8; isspace((unsigned char)*q); q++)
			;
		if (*q == '=')
			return true;
	}
	return false;
}

/* postgresql://user:password@host/db (or postgres://). */
static bool
conf_uri_password(const char *db)
{
	const char *auth, *at, *colon;
	size_t len;

	if (strncmp(db, "postgresql://", 13) == 0)
		auth = db + 13;
	else if (strncmp(db, "postgres://", 11) == 0)
		auth = db + 11;
	else
		return false;
	len = strcspn(auth, "/?#");
	if ((at = memrchr(auth, '@', len)) == NULL)
		return false;
	colon = memchr(auth, ':', (size_t)(at - auth));
	return colon != NULL && colon + 1 < at;
}

bool
conf_password_exposed(const struct conf *conf)
{
	if ((conf->file_mode & 004) == 0 || conf->database == NULL)
		return false;
	return conf_conninfo_password(conf->database) ||
	    conf_uri_password(conf->database) ||
	    (conf->notify_database != NULL &&
	    (conf_conninfo_password(conf->notify_database) ||
	    conf_uri_password(conf->notify_database)));
}

int
conf_hash_slots(const struct conf *conf)
{
	if (conf->max_concurrent_hashes > 0)
		return conf->max_concurrent_hashes;
	return conf->workers / 2 > 0 ? conf->workers / 2 : 1;
}

int
conf_login_workers(const struct conf *conf)
{
	if (conf->login_listen == NULL)
		return 0;
	if (conf->login_workers > 0)
		return conf->login_workers;
	/* max_concurrent_hashes may be up to 1024; workers are 256 at most. */
	return conf_hash_slots(conf) < 256 ? conf_hash_slots(conf) : 256;
}

void
conf_free(struct conf *conf)
{
	free(conf->listen);
	free(conf->login_listen);
	free(conf->user);
	free(conf->group);
	free(conf->pid_file);
	if (conf->database != NULL)
		explicit_bzero(conf->database, strlen(conf->database));
	free(conf->database);
	if (conf->notify_database != NULL)
		explicit_bzero(conf->notify_database,
		    strlen(conf->notify_database));
	free(conf->notify_database);
	free(conf->realm);
	free(conf->listen_allow);
	memset(conf, 0, sizeof(*conf));
}

const char *
conf_key_name(size_t i)
{
	if (i >= sizeof(conf_keys) / sizeof(conf_keys[0]))
		return NULL;
	return conf_keys[i].name;
}

int
conf_key_value(const struct conf *conf, size_t i, char *buf, size_t len)
{
	const struct conf_key *key;
	const char *field;
	int n = -1;

	if (i >= sizeof(conf_keys) / sizeof(conf_keys[0]) || len == 0)
		return 0;
	key = &conf_keys[i];
	field = (const char *)conf + key->offset;
	switch (key->type) {
	case CONF_STRING:
	case CONF_LISTEN:
	case CONF_REALM:
	case CONF_NET_ALLOW: {
		const char *v = *(char *const *)(const void *)field;

		if (v == NULL)
			return 0;
		n = snprintf(buf, len, "%s", v);
		break;
	}
	case CONF_INT:
		n = snprintf(buf, len, "%d", *(const int *)(const void *)field);
		break;
	case CONF_LONG:
		n = snprintf(buf, len, "%ld", *(const long *)(const void *)field);
		break;
	case CONF_U32:
		n = snprintf(buf, len, "%" PRIu32,
		    *(const uint32_t *)(const void *)field);
		break;
	case CONF_SIZE:
		n = snprintf(buf, len, "%zu", *(const size_t *)(const void *)field);
		break;
	case CONF_BOOL:
		n = snprintf(buf, len, "%s",
		    *(const bool *)(const void *)field ? "yes" : "no");
		break;
	case CONF_MODE:
		n = snprintf(buf, len, "%04o",
		    *(const unsigned *)(const void *)field);
		break;
	case CONF_POLICY:
		n = snprintf(buf, len, "%s", session_policy_names[
		    *(const enum session_policy *)(const void *)field]);
		break;
	case CONF_LOG_LEVEL:
		n = snprintf(buf, len, "%s", log_level_names[
		    *(const enum log_level *)(const void *)field]);
		break;
	}
	return n >= 0 && (size_t)n < len;
}
