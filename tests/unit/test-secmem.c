/*
 * test-secmem.c -- secret memory: what holds a secret is wiped before it
 * is released.  A string is kept alive past its tree's release by an
 * extra reference, so that what the release did to its bytes can be seen.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "request.h"
#include "secmem.h"
#include "tap.h"

/* Are the bytes of string object s all zero (and as many as before)? */
static bool
wiped(json_object *s, size_t len)
{
	const char *p = json_object_get_string(s);
	size_t i;

	if ((size_t)json_object_get_string_len(s) != len)
		return false;
	for (i = 0; i < len; i++)
		if (p[i] != '\0')
			return false;
	return true;
}

static void
test_json_put(void)
{
	json_object *tree = json_object_new_object();
	json_object *arr = json_object_new_array();
	json_object *inner = json_object_new_object();
	json_object *top = json_object_new_string("mda_top-level-token");
	json_object *deep = json_object_new_string("a password in an array");
	json_object *nested = json_object_new_string("in a nested object");

	json_object_array_add(arr, json_object_get(deep));
	json_object_object_add(inner, "p", json_object_get(nested));
	json_object_object_add(tree, "token", json_object_get(top));
	json_object_object_add(tree, "list", arr);
	json_object_object_add(tree, "inner", inner);
	json_object_object_add(tree, "n", json_object_new_int(7));
	json_object_object_add(tree, "null", NULL);

	secmem_json_put(tree);
	ok(wiped(top, strlen("mda_top-level-token")),
	    "secmem_json_put wipes a string member of the object");
	ok(wiped(deep, strlen("a password in an array")),
	    "secmem_json_put wipes a string inside an array");
	ok(wiped(nested, strlen("in a nested object")),
	    "secmem_json_put wipes a string inside a nested object");
	json_object_put(top);
	json_object_put(deep);
	json_object_put(nested);

	secmem_json_put(NULL);
	ok(1, "secmem_json_put(NULL) is harmless");
}

static void
test_buffers(void)
{
	char *p = secmem_alloc(0);

	ok(p != NULL, "secmem_alloc of 0 bytes gives a buffer");
	secmem_free(p, 0);
	p = secmem_alloc(32);
	ok(p != NULL, "secmem_alloc of 32 bytes gives a buffer");
	if (p != NULL)
		memcpy(p, "correct horse battery staple", 29);
	secmem_free(p, 32);
	secmem_free(NULL, 32);
	ok(1, "secmem_free(NULL, n) is harmless");
}

static void
test_login_free(void)
{
	static const char body[] =
	    "{\"username\":\"alice\",\"password\":\"correct horse\"}";
	struct login_input in;
	json_object *pw = NULL;
	const char *why;
	int rc;

	rc = request_parse_login(body, sizeof(body) - 1, &in, &why);
	ok(rc == 1, "a login body parses");
	if (rc != 1)
		return;
	if (json_object_object_get_ex(in.root, "password", &pw))
		json_object_get(pw);
	request_login_free(&in);
	ok(pw != NULL && wiped(pw, strlen("correct horse")),
	    "request_login_free wipes the password's string before it "
	    "releases the body");
	json_object_put(pw);
}

static void
test_wipe_strings(void)
{
	char a[] = "HTTP_AUTHORIZATION=Bearer abc", b[] = "REMOTE_PASSWD=x";
	char *v[] = { a, b, NULL };
	size_t i;
	int zero = 1;

	secmem_wipe_strings(v);
	for (i = 0; i < sizeof(a); i++)
		zero &= a[i] == '\0';
	for (i = 0; i < sizeof(b); i++)
		zero &= b[i] == '\0';
	ok(zero, "secmem_wipe_strings wipes every string of the array");
	secmem_wipe_strings(NULL);
	ok(1, "secmem_wipe_strings(NULL) is harmless");
}

int
main(void)
{
	test_json_put();
	test_buffers();
	test_login_free();
	test_wipe_strings();
	return tap_done();
}
