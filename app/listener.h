/*
 * listener.h -- the validate cache's listener process (see listener.c).
 */
#ifndef MDAUTH_LISTENER_H
#define MDAUTH_LISTENER_H

#include <sys/types.h>

#include "cache.h"
#include "conf.h"

/*
 * The process: LISTEN, flush, enable, apply notifications.  master is
 * the master's pid: the listener ends when the master is gone.  Never
 * returns.
 */
void	listener_main(const struct conf *conf, struct cache *cache,
	    pid_t master) __attribute__((noreturn));

#endif
