/*
 * hashslots.h -- the pool-wide budget of concurrent password hashes
 * (max_concurrent_hashes), so that a login flood cannot take every worker
 * and starve validate.
 */
#ifndef MDAUTH_HASHSLOTS_H
#define MDAUTH_HASHSLOTS_H

#include <stdbool.h>

/* Master: a new set of n slots.  Returns its id, or -1 (logged). */
int	hashslots_create(int n);

/* Master: remove a set (its holders' next operations fail harmlessly). */
void	hashslots_destroy(int id);

/* Master, before fork: the set the next workers use. */
void	hashslots_use(int id);

/*
 * Worker: take a slot without waiting.  Returns true when one was taken
 * (or when no budget is in force), false when all are busy.
 */
bool	hashslots_acquire(void) __attribute__((warn_unused_result));

/* Worker: give back the slot taken by hashslots_acquire. */
void	hashslots_release(void);

#endif
