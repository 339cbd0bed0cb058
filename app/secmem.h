/*
 * secmem.h -- secret memory: how mdauth's processes allocate, wipe and
 * free, so that no token or password outlives its use.  The threat model
 * and the reasons are at the top of secmem.c; no other file sets
 * allocator options or reaches into a library's memory.  (Request bodies
 * are parsed by request.c's own parser for that reason: json-c's tokener
 * could be kept clean only through its private fields.)
 */
#ifndef MDAUTH_SECMEM_H
#define MDAUTH_SECMEM_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/*
 * Process start-up, first thing in main(): start mdauthd again, once, with
 * glibc's per-thread cache off.  Returns only when that is not needed
 * (0) or not possible (the errno); give that to secmem_process_warn once
 * logging is set up.
 */
int	secmem_process_start(char *argv[]);
void	secmem_process_warn(int error);

/* Worker start-up, before the first request: the allocator's settings. */
void	secmem_worker_start(void);

/*
 * Around argon2id, which wipes its own memory: pause the fill of
 * allocated and freed blocks (true), then resume it (false).  Does nothing
 * outside a worker.
 */
void	secmem_fill_pause(bool pause);

/*
 * A buffer that will hold a secret, allocated at its final size: it is
 * never grown (realloc(3) would leave the old copy behind).  NULL when
 * out of memory.  Release it with secmem_free, which wipes its len bytes
 * first (NULL is harmless).
 */
void   *secmem_alloc(size_t len) __attribute__((malloc, warn_unused_result));
void	secmem_free(void *p, size_t len);

/*
 * Release a json-c tree that only the caller holds, after wiping every
 * string in it (a password in a request body, a token in a response).
 * NULL is harmless.
 */
void	secmem_json_put(json_object *obj);

/*
 * Wipe each string of a NULL-terminated array that another library will
 * free (libfcgi's parameters, where the Bearer token and REMOTE_PASSWD
 * are), before it does.  NULL is harmless.
 */
void	secmem_wipe_strings(char **v);

#endif
