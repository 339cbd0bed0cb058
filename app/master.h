/*
 * master.h -- the master process: forks the workers, refills dead slots,
 * reloads on SIGHUP and stops them all on SIGTERM/SIGINT.
 */
#ifndef MDAUTH_MASTER_H
#define MDAUTH_MASTER_H

#include "conf.h"

/*
 * Run the pool until told to stop.  conf may be replaced on SIGHUP by the
 * file at conf_path.  Returns the exit status for main.
 */
int	master_run(struct conf *conf, const char *conf_path, int listen_fd);

#endif
