/*
 * worker.h -- a worker process: accept a FastCGI request, answer it, repeat.
 */
#ifndef MDAUTH_WORKER_H
#define MDAUTH_WORKER_H

#include "cache.h"
#include "conf.h"

/*
 * Serve requests on listen_fd until told to stop (SIGTERM/SIGINT, after
 * finishing the request in hand) or max_requests are served.  Once set
 * up, tell the master with SIGRTMIN (sigqueue: the value is 1 when the
 * database is connected and its statements prepared, 0 if not); when
 * report_fd is not -1 (start-up under -d), first write on it why the
 * database could not be reached, and close it.  cache is the validate
 * cache, or NULL when it is off.  logins: the web server sends logins to
 * listen_fd (every worker without login_listen, the login workers with
 * it), so map the argon2id work area now; a worker that gets one all the
 * same hashes in memory mapped for that hash.  Never returns.
 */
void	worker_main(const struct conf *conf, int listen_fd, int report_fd,
	    struct cache *cache, bool logins) __attribute__((noreturn));

#endif
