/*
 * hashslots.c -- the pool-wide budget of concurrent password hashes.
 *
 *	hashslots_create	master: a semaphore set with n slots
 *	hashslots_destroy	master: remove it
 *	hashslots_use		master: the set inherited by the next workers
 *	hashslots_acquire	worker: take a slot, never wait
 *	hashslots_release	worker: give it back
 *
 * A System V semaphore counts the free slots.  Every operation carries
 * SEM_UNDO, so the kernel gives back the slot of a worker that dies while
 * holding it (kill -9, a crash inside argon2): a slot can never leak.
 * fcntl locks would do that too, but need one lock file per slot and a
 * scan to find a free one; a robust mutex needs shared memory and
 * recovery code.  One semop(2) with IPC_NOWAIT is all a login costs here.
 * The set is IPC_PRIVATE, made by the master after the privilege drop,
 * mode 0600: only mdauthd's own processes reach it.
 */
#include "config.h"

#include <errno.h>
#include <sys/ipc.h>
#include <sys/sem.h>

#include "hashslots.h"
#include "log.h"

/* glibc leaves the definition of union semun to the caller. */
union hashslots_semun {
	int		 val;
	struct semid_ds	*buf;
	unsigned short	*array;
};

static int hashslots_id = -1;
static bool hashslots_held;

int
hashslots_create(int n)
{
	union hashslots_semun arg;
	int id;

	if ((id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600)) == -1) {
		log_error("hash slots: semget: %m");
		return -1;
	}
	arg.val = n;
	if (semctl(id, 0, SETVAL, arg) == -1) {
		log_error("hash slots: semctl SETVAL %d: %m", n);
		hashslots_destroy(id);
		return -1;
	}
	return id;
}

void
hashslots_destroy(int id)
{
	if (id != -1 && semctl(id, 0, IPC_RMID) == -1)
		log_warn("hash slots: semctl IPC_RMID: %m");
}

void
hashslots_use(int id)
{
	hashslots_id = id;
}

bool
hashslots_acquire(void)
{
	struct sembuf op = { 0, -1, IPC_NOWAIT | SEM_UNDO };

	if (hashslots_id == -1)
		return true;
	while (semop(hashslots_id, &op, 1) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return false;
		/* EIDRM/EINVAL: the set of a replaced generation is gone. */
		log_warn("hash slots: semop: %m; hashing without a budget");
		return true;
	}
	hashslots_held = true;
	return true;
}

void
hashslots_release(void)
{
	struct sembuf op = { 0, 1, SEM_UNDO };

	if (!hashslots_held)
		return;
	hashslots_held = false;
	while (semop(hashslots_id, &op, 1) == -1 && errno == EINTR)
		;
}
