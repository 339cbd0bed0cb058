/*
 * fuzz-login.c -- the JSON request body parser (request_parse_json) and
 * the login body on top of it (request_parse_login), on any bytes.
 *
 * Besides memory and undefined-behaviour errors, it checks the contract
 * of request.h: a refusal always has a reason; an accepted body is a
 * NUL-free, UTF-8 JSON object; accepted login fields are present,
 * NUL-free, valid UTF-8 and within their limits; a login body is never
 * accepted when the JSON parser refuses it.  Nothing may leak, accepted
 * or not (LeakSanitizer).
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "log.h"
#include "password.h"
#include "request.h"
#include "text.h"

/* A string field of an accepted login: NUL-free UTF-8, 1 to max bytes. */
static void
fuzz_login_field(const char *s, size_t len, size_t max)
{
	FUZZ_CHECK(s != NULL);
	FUZZ_CHECK(len >= 1 && len <= max);
	FUZZ_CHECK(strlen(s) == len);
	FUZZ_CHECK(text_utf8_valid(s, len));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct login_input in;
	json_object *obj;
	const char *why;
	char *body;
	int json_ok;

	log_set_level(LOG_LEVEL_ERROR);
	body = fuzz_copy(data, size);

	why = NULL;
	obj = request_parse_json(body, size, &why);
	json_ok = obj != NULL;
	if (obj == NULL) {
		FUZZ_CHECK(why != NULL && *why != '\0');
	} else {
		FUZZ_CHECK(json_object_is_type(obj, json_type_object));
		FUZZ_CHECK(memchr(body, '\0', size) == NULL);
		FUZZ_CHECK(text_utf8_valid(body, size));
		json_object_put(obj);
	}

	why = NULL;
	if (request_parse_login(body, size, &in, &why)) {
		FUZZ_CHECK(json_ok);
		FUZZ_CHECK(in.root != NULL);
		fuzz_login_field(in.username, in.username_len, USERNAME_MAX);
		fuzz_login_field(in.password, in.password_len, PASSWORD_MAX);
		if (in.device != NULL) {
			size_t n = strlen(in.device);

			fuzz_login_field(in.device, n, DEVICE_MAX);
			FUZZ_CHECK(text_printable(in.device, n));
		}
		request_login_free(&in);
		FUZZ_CHECK(in.root == NULL && in.password == NULL);
	} else {
		FUZZ_CHECK(why != NULL && *why != '\0');
		FUZZ_CHECK(in.root == NULL);
	}

	free(body);
	return 0;
}
