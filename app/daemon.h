/*
 * daemon.h -- process set-up of mdauthd: the listening socket, detaching,
 * the pid file and the privilege drop.  Only used at start-up, where a
 * failure may end the program.
 */
#ifndef MDAUTH_DAEMON_H
#define MDAUTH_DAEMON_H

#include "conf.h"

/*
 * Open the FastCGI socket named by listen (Unix path, mode listen_mode;
 * or host:port), or check that fd 0 is a listening socket when listen is
 * unset.  Returns the descriptor, or -1 (logged).
 */
int	daemon_listen(const struct conf *conf);

/* The same for addr, a Unix path or host:port (login_listen). */
int	daemon_listen_at(const struct conf *conf, const char *addr);

/*
 * Give the Unix socket at addr (NULL: none, nothing to do) to user/group,
 * so the web server's group may connect.
 */
int	daemon_chown_socket(const struct conf *conf, const char *addr);

/*
 * Fork into the background, new session, stdio to /dev/null.  The
 * command that started us waits until daemon_ready() is called (exit 0),
 * or we exit first (exit 1, with what daemon_start_failed() said on its
 * stderr), or wait_seconds pass (exit 1), so that "mdauthd -d" fails
 * visibly when the daemon cannot serve.  Returns the descriptor for
 * daemon_ready and daemon_start_failed, or -1.
 */
int	daemon_detach(int keep_fd, int wait_seconds);

/* The daemon serves: the starting command exits 0.  Closes ready_fd. */
void	daemon_ready(int ready_fd);

/*
 * The daemon cannot serve, for this reason (one line).  ready_fd stays
 * open: the starting command prints why and exits 1 once the process
 * has exited, so that it returns only when nothing of the daemon is left.
 */
void	daemon_start_failed(int ready_fd, const char *why);

/*
 * Write the pid file (when set), never through a symbolic link nor into
 * anything but a regular file.  Returns 1 on success; 0 with why in err
 * (also logged).
 */
int	daemon_write_pid(const char *path, char *err, size_t errlen);

/* Unless started by systemd: RLIMIT_CORE 0 and PR_SET_DUMPABLE 0. */
void	daemon_no_core(void);

/*
 * When running as root with user (and group) set: setgroups, setresgid,
 * setresuid, in that order, then make sure root cannot be regained.
 * Returns 1 on success (or when nothing is to be done), 0 on failure.
 */
int	daemon_drop_privileges(const struct conf *conf);

#endif
