/*
 * listener.h -- the validate cache's listener process (see listener.c).
 */
#ifndef MDAUTH_LISTENER_H
#define MDAUTH_LISTENER_H

#include "cache.h"
#include "conf.h"

/* The process: LISTEN, flush, enable, apply notifications.  Never returns. */
void	listener_main(const struct conf *conf, struct cache *cache)
	    __attribute__((noreturn));

#endif
