/*
 * secmem.c -- secret memory: the one place that decides how mdauth's
 * processes allocate, wipe and free, so that no secret outlives its use.
 *
 *	secmem_process_start	start again with glibc's per-thread cache off
 *	secmem_process_warn	say so when that was not possible
 *	secmem_worker_start	a worker's allocator settings
 *	secmem_fill_pause	no fill while argon2id runs, then the fill again
 *	secmem_alloc		a buffer for a secret, at its final size
 *	secmem_free		wipe it, then free it
 *	secmem_json_put		wipe a json-c tree's strings, then release it
 *	secmem_wipe_strings	wipe the strings another library will free
 *
 * THE THREAT.  A worker serves up to max_requests requests, each of which
 * may carry a secret: a login's password (right or wrong, in a body that
 * is accepted or refused), the Bearer token of nearly every request (or a
 * token as the Basic password, REMOTE_PASSWD, that Apache sends an
 * authorizer), the token a login or a refresh issues.  Whatever copy of
 * one is left in the worker's memory once the request is answered -- in a
 * buffer freed but not overwritten, most of all -- is found by anything
 * that reads that memory later: a core dump (daemon_no_core turns them off
 * outside systemd, the unit does under it, but an operator may turn them
 * on), a bug that discloses memory (an over-read into freed heap, a later
 * answer built in a block that still holds an older secret), a debugger or
 * /proc/PID/mem read by someone allowed to.  Out of scope: a reader while
 * the request is in flight (a secret in use cannot be hidden), root (who
 * can read the memory at any time), swap (nothing is mlock(2)ed: encrypt
 * swap or run without it), the kernel's socket buffers, the database
 * password that libpq keeps while it is connected.  The master never sees
 * a request.
 *
 * THE COPIES, and what becomes of each.
 *
 *   A login's password:
 *	libfcgi's input stream buffer		freed by libfcgi: the fill (2.)
 *	the body read from it (request.c)	secmem_free
 *	a string being decoded (request.c)	secmem_free
 *	its string in the parsed json-c tree	secmem_json_put
 *						(request_login_free)
 *	an unread body (worker_drain_stdin)	wiped on the stack there
 *	argon2id's own copies			wiped by libargon2
 *						(FLAG_clear_internal_memory)
 *	argon2id's memory, in a worker's	wiped by libargon2, checked
 *	work area (password.c)			by password_area_give
 *   A token presented (Bearer, or REMOTE_PASSWD):
 *	libfcgi's parameter strings		secmem_wipe_strings, before
 *						libfcgi frees them
 *	read in place there (authz.c) and only hashed (token_digest)
 *   A token issued (login, refresh):
 *	struct token				token_wipe
 *	its string in the response's json-c tree secmem_json_put (resp_free)
 *	the response text (response.c)		secmem_free
 *	libfcgi's output stream buffer		freed by libfcgi: the fill (2.)
 *
 * THE DEFENCES, two layers.
 *
 * 1. mdauthd's own buffers.  A buffer that holds a secret is allocated at
 *    its final size and wiped before it is freed (secmem_alloc,
 *    secmem_free); it is never grown with realloc(3), which copies it to a
 *    new block and frees the old one unwiped (only the fill of the second
 *    layer would catch it).  So a response with a token is rendered twice
 *    (response.c: once to count its bytes, once into a buffer of that
 *    size) and never through json-c's printbuf, which grows with realloc;
 *    and request bodies are parsed by request.c's own parser, not by
 *    json-c's tokener, which collects each string (the password) in a
 *    buffer it grows with realloc and keeps in a private field (tok->pb):
 *    sizing or wiping that buffer meant reaching into struct json_tokener,
 *    whose fields json-c reserves for itself, and no public json-c call
 *    does either.  Strings that json-c holds for us (a parsed body, a
 *    response body) are wiped through the pointer its
 *    public getter returns, before the tree is released (secmem_json_put;
 *    json-c keeps a string in the block of its object, freed with it).
 *    This layer holds whatever the allocator is.
 *
 * 2. What the libraries free: libfcgi's streams and parameters, json-c's
 *    objects and buffers.  glibc fills every block a worker frees
 *    (mallopt(3) M_PERTURB, set by secmem_worker_start) -- realloc's old
 *    block included.  But it skips the blocks it puts in its per-thread
 *    cache (the tcache: up to 1032 bytes, which is a password's string or
 *    a Bearer header), and that cache can only be turned off through the
 *    environment glibc reads when a program starts.  So mdauthd starts
 *    itself again, once, with GLIBC_TUNABLES=glibc.malloc.tcache_count=0
 *    added (secmem_process_start: the same process, arguments and
 *    descriptors), unless it is set already, as mdauthd.service sets it.
 *    If that fails, mdauthd logs a warning and runs with the cache: then
 *    only the first layer holds, and what libraries free in small blocks is
 *    not wiped.  Under AddressSanitizer, glibc's allocator is replaced and
 *    M_PERTURB ignored; ASAN_OPTIONS free_fill_byte does the same job.
 *
 * M_PERTURB also fills every block allocated, with the complement.  For
 * argon2id's memory (argon2_memory, 19 MiB by default) that costs about 7%
 * of a hash and protects nothing, as libargon2 wipes it before it frees
 * it: the fill is paused while argon2id runs (secmem_fill_pause; nothing
 * else is freed meanwhile).  A worker's verifies work in an area it maps
 * once (password.c); what argon2id takes from malloc besides (a re-hash,
 * the dummy hash) goes back to the system after that hash because the
 * worker fixes M_MMAP_THRESHOLD: glibc would otherwise raise the
 * threshold after the first such free and keep the memory in the heap,
 * resident next to the area (memory.sh).
 *
 * tests/integration/secrets.sh checks all of this by scanning a worker's
 * (and the master's) memory for pieces of every token and password after
 * logins, malformed login bodies, a refresh, a validate, a logout and an
 * authorizer request.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "secmem.h"

#define SECMEM_TUNABLE		"glibc.malloc.tcache_count=0"
#define SECMEM_FILL		0xa5		/* M_PERTURB's byte */
#define SECMEM_MMAP_THRESHOLD	(256 * 1024)	/* bytes */

/* The fill byte a worker set, 0 for none (the master, mdauthctl). */
static int secmem_fill;

int
secmem_process_start(char *argv[])
{
	const char *old = getenv("GLIBC_TUNABLES");
	char *value, self[PATH_MAX];
	ssize_t n;
	size_t len;
	int error;

	if (old != NULL && strstr(old, SECMEM_TUNABLE) != NULL)
		return 0;
	len = (old != NULL ? strlen(old) + 1 : 0) + sizeof(SECMEM_TUNABLE);
	if ((value = malloc(len)) == NULL)
		return errno;
	snprintf(value, len, "%s%s" SECMEM_TUNABLE, old != NULL ? old : "",
	    old != NULL && *old != '\0' ? ":" : "");
	/* The program's own path, not /proc/self/exe: the process's name
	 * (ps, pgrep, the journal) comes from the name it is started by. */
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0 &&
	    setenv("GLIBC_TUNABLES", value, 1) == 0) {
		self[n] = '\0';
		execv(self, argv);
	}
	error = errno;
	free(value);
	return error;
}

void
secmem_process_warn(int error)
{
	if (error != 0)
		log_warn("cannot start again with GLIBC_TUNABLES=%s (%s): "
		    "small freed blocks are not wiped", SECMEM_TUNABLE,
		    strerror(error));
}

void
secmem_worker_start(void)
{
	/* Setting the threshold also turns glibc's adjustment of it off. */
	if (mallopt(M_MMAP_THRESHOLD, SECMEM_MMAP_THRESHOLD) != 1)
		log_debug("secmem: mallopt(M_MMAP_THRESHOLD) refused");
	if (mallopt(M_PERTURB, SECMEM_FILL) != 1)
		log_debug("secmem: mallopt(M_PERTURB) refused");
	else
		secmem_fill = SECMEM_FILL;
}

void
secmem_fill_pause(bool pause)
{
	if (secmem_fill != 0)
		(void)mallopt(M_PERTURB, pause ? 0 : secmem_fill);
}

void *
secmem_alloc(size_t len)
{
	return malloc(len > 0 ? len : 1);
}

void
secmem_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

/* Wipe every string of a tree (the parser bounds its depth). */
static void
secmem_json_wipe(json_object *obj)
{
	size_t i, n;

	switch (json_object_get_type(obj)) {
	case json_type_string:
		explicit_bzero((char *)(uintptr_t)json_object_get_string(obj),
		    (size_t)json_object_get_string_len(obj));
		break;
	case json_type_object: {
		json_object_object_foreach(obj, key, val) {
			(void)key;
			secmem_json_wipe(val);
		}
		break;
	}
	case json_type_array:
		n = json_object_array_length(obj);
		for (i = 0; i < n; i++)
			secmem_json_wipe(json_object_array_get_idx(obj, i));
		break;
	case json_type_null:
	case json_type_boolean:
	case json_type_double:
	case json_type_int:
		break;
	}
}

void
secmem_json_put(json_object *obj)
{
	if (obj == NULL)
		return;
	secmem_json_wipe(obj);
	json_object_put(obj);
}

/*
 * libfcgi keeps a request's parameters in FCGX_Request.envp, the public
 * array FCGX_GetParam reads, and frees them in FCGX_Finish_r: the worker
 * wipes them through that array first.  (glibc fills what is freed
 * anyway, unless its per-thread cache could not be turned off.)
 */
void
secmem_wipe_strings(char **v)
{
	for (; v != NULL && *v != NULL; v++)
		explicit_bzero(*v, strlen(*v));
}
