/*
 * fuzz-conf.c -- the configuration parser (conf_parse) on any text.
 *
 * Checked besides memory errors and leaks, from conf.h and mdauth.conf(5)'s
 * table of keys: a refusal names the file and the line ("name:N: what");
 * an accepted file leaves every value within its bounds, and the rules
 * between keys hold (token_ttl <= token_max_lifetime; touch_interval <
 * token_ttl with sliding expiration).
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"

#define FUZZ_CONF_NAME	"fuzz.conf"

/* err is "fuzz.conf:N: something", N a line number from 1. */
static void
fuzz_conf_error(const char *err, size_t errlen)
{
	size_t n = sizeof(FUZZ_CONF_NAME) - 1, i;

	FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
	FUZZ_CHECK(strncmp(err, FUZZ_CONF_NAME ":", n + 1) == 0);
	for (i = n + 1; isdigit((unsigned char)err[i]); i++)
		continue;
	FUZZ_CHECK(i > n + 1 && err[n + 1] != '0');
	FUZZ_CHECK(err[i] == ':' && err[i + 1] == ' ' && err[i + 2] != '\0');
}

/* Every value of an accepted file within the bounds conf.c promises. */
static void
fuzz_conf_values(const struct conf *c)
{
	const char *p;

	FUZZ_CHECK(c->listen == NULL || c->listen[0] != '\0');
	FUZZ_CHECK(c->listen_mode <= 0777);
	FUZZ_CHECK(c->workers >= 1 && c->workers <= 256);
	FUZZ_CHECK(c->max_requests >= 0);
	FUZZ_CHECK(c->shutdown_timeout >= 0 && c->shutdown_timeout <= 3600);
	FUZZ_CHECK(c->user == NULL || c->user[0] != '\0');
	FUZZ_CHECK(c->group == NULL || c->group[0] != '\0');
	FUZZ_CHECK(c->pid_file == NULL || c->pid_file[0] != '\0');
	FUZZ_CHECK(c->database != NULL && c->database[0] != '\0');
	FUZZ_CHECK(c->db_timeout >= 1 && c->db_timeout <= 300);
	FUZZ_CHECK(c->realm != NULL && c->realm[0] != '\0' &&
	    strlen(c->realm) <= 64);
	for (p = c->realm; *p != '\0'; p++)
		FUZZ_CHECK(*p >= 0x20 && *p <= 0x7e && *p != '"' && *p != '\\');
	FUZZ_CHECK(c->token_ttl >= 1 && c->token_ttl <= c->token_max_lifetime);
	FUZZ_CHECK(!c->sliding_expiration || c->touch_interval < c->token_ttl);
	FUZZ_CHECK(c->touch_interval >= 0 && c->touch_interval <= 86400);
	FUZZ_CHECK(c->max_sessions_per_user >= 1);
	FUZZ_CHECK((unsigned)c->session_limit_policy < SESSION_POLICY__MAX);
	FUZZ_CHECK(c->argon2_memory >= 8 && c->argon2_memory <= 4194304);
	FUZZ_CHECK(c->argon2_iterations >= 1 && c->argon2_iterations <= 100);
	FUZZ_CHECK(c->argon2_parallelism >= 1 && c->argon2_parallelism <= 64);
	FUZZ_CHECK(c->max_concurrent_hashes >= 0);
	FUZZ_CHECK(conf_hash_slots(c) >= 1);
	FUZZ_CHECK(c->login_max_failures >= 1 && c->ip_max_failures >= 1);
	FUZZ_CHECK(c->login_failure_window >= 1 && c->login_lockout >= 1);
	FUZZ_CHECK(c->max_body >= 64 && c->max_body <= 1048576);
	FUZZ_CHECK((unsigned)c->log_level < LOG_LEVEL__MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf conf;
	char err[512];
	char *text;

	text = fuzz_copy(data, size);
	conf_defaults(&conf);
	memset(err, 'x', sizeof(err));
	if (conf_parse(&conf, text, size, FUZZ_CONF_NAME, err, sizeof(err)))
		fuzz_conf_values(&conf);
	else
		fuzz_conf_error(err, sizeof(err));
	conf_free(&conf);
	free(text);
	return 0;
}
