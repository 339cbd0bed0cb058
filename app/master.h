/*
 * master.h -- the master process: forks the workers, refills dead slots,
 * reloads on SIGHUP and stops them all on SIGTERM/SIGINT.
 */
#ifndef MDAUTH_MASTER_H
#define MDAUTH_MASTER_H

#include "conf.h"

/*
 * Run the pool until told to stop: conf->workers workers on listen_fd,
 * and when login_fd is not -1 (login_listen) conf_login_workers() more on
 * it.  conf may be replaced on SIGHUP by the file at conf_path.  ready_fd (-d; -1 in the foreground) is given to
 * daemon_ready once a worker is connected to the database, or to
 * daemon_start_failed when none can be (the master then stops, exit 1).
 * Returns the exit status for main.
 */
int	master_run(struct conf *conf, const char *conf_path, int listen_fd,
	    int login_fd, int ready_fd);

#endif
