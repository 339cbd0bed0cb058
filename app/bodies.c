/*
 * bodies.c -- the members of each JSON request body, checked once, before
 * the handler: the body_parser of each route row (router.c) that has
 * members.  A route without one takes an empty body or any JSON object
 * (no member is defined); dispatch.c checks that much itself.
 *
 *	body_login		{"username", "password", "device"?}
 *	body_logout_all		{"keep_current"?: true|false}
 */
#include "config.h"

#include "router.h"

int
body_login(const char *body, size_t len, struct api_request *req,
    const char **why)
{
	return request_parse_login(body, len, &req->login, why);
}

int
body_logout_all(const char *body, size_t len, struct api_request *req,
    const char **why)
{
	json_object *root, *keep;

	if ((root = request_parse_json(body, len, why)) == NULL)
		return 0;
	if (json_object_object_get_ex(root, "keep_current", &keep)) {
		if (!json_object_is_type(keep, json_type_boolean)) {
			json_object_put(root);
			*why = "\"keep_current\" must be true or false";
			return 0;
		}
		req->keep_current = json_object_get_boolean(keep);
	}
	json_object_put(root);
	return 1;
}
