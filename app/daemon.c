/*
 * daemon.c -- process set-up of mdauthd.
 *
 *	daemon_listen		the FastCGI socket
 *	daemon_listen_at	a FastCGI socket at an address (login_listen)
 *	daemon_chown_socket	socket ownership for the web server's group
 *	daemon_detach		-d: into the background
 *	daemon_wait_ready	-d: the starting command waits for the outcome
 *	daemon_ready		-d: tell it the daemon serves
 *	daemon_start_failed	-d: tell it why the daemon cannot serve
 *	daemon_write_pid	the pid file
 *	daemon_drop_privileges	root to user/group
 *	daemon_no_core		no core dump, no ptrace by the same user
 *
 * Everything here that touches a path runs as root, in directories that
 * usually belong to the user the daemon becomes (systemd's
 * RuntimeDirectory=, /run/mdauth): that user may have put a symbolic link
 * or another file there.  So no path is followed: the pid file is opened
 * with O_NOFOLLOW and must be a regular file, the socket is born with its
 * mode (umask around bind) and is given away through a descriptor of the
 * very file that was checked to be a socket.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdbool.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#define LISTEN_BACKLOG 128

/* Does something accept connections on this Unix socket? */
static bool
daemon_socket_live(const struct sockaddr_un *sun)
{
	int fd, rc;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return false;
	/* EAGAIN: a full backlog, still someone's. */
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	rc = rc == 0 || errno == EAGAIN;
	close(fd);
	return rc;
}

static int
daemon_listen_unix(const struct conf *conf, const char *addr)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t mask;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", addr);

	/*
	 * A socket left by a previous run is replaced; one that another
	 * process listens on, or any other file, is not.
	 */
	if (lstat(addr, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error("listen: %s exists and is not a socket",
			    addr);
			return -1;
		}
		if (daemon_socket_live(&sun)) {
			log_error("listen: %s: another process listens on it",
			    addr);
			return -1;
		}
		if (unlink(addr) == -1) {
			log_error("listen: unlink %s: %m", addr);
			return -1;
		}
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_error("listen: socket: %m");
		return -1;
	}
	/*
	 * The socket is born with listen_mode: no chmod by path afterwards,
	 * which would follow a symbolic link put in its place.  (bind(2)
	 * itself creates the file and fails on any existing name, a link
	 * included.)
	 */
	mask = umask(~conf->listen_mode & 0777);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(mask);
	if (rc == -1 || listen(fd, LISTEN_BACKLOG) == -1) {
		log_error("listen: %s: %m", addr);
		close(fd);
		return -1;
	}
	return fd;
}

static bool
daemon_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr);
	return false;
}

static int
daemon_listen_tcp(const struct conf *conf, const char *addr)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256];
	const char *colon = strrchr(addr, ':');
	size_t hlen = (size_t)(colon - addr);
	int fd = -1, on = 1, rc;

	if (hlen >= sizeof(host))
		return -1;
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	if (host[0] == '[' && hlen > 1 && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host[0] != '\0' ? host : NULL, colon + 1, &hints,
	    &res)) != 0) {
		log_error("listen: %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, LISTEN_BACKLOG) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1)
		log_error("listen: %s: %m", addr);
	else if (!daemon_loopback(ai->ai_addr))
		/* FastCGI has no authentication: a peer can claim HTTPS=on. */
		log_warn("listen: %s is not a loopback address: a peer that "
		    "can connect can forge HTTPS and REMOTE_ADDR; only those "
		    "in listen_allow (%s) are served", addr,
		    conf->listen_allow);
	freeaddrinfo(res);
	return fd;
}

int
daemon_listen_at(const struct conf *conf, const char *addr)
{
	return addr[0] == '/' ? daemon_listen_unix(conf, addr) :
	    daemon_listen_tcp(conf, addr);
}

int
daemon_listen(const struct conf *conf)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);

	if (conf->listen != NULL)
		return daemon_listen_at(conf, conf->listen);

	/* spawn-fcgi, lighttpd bin-path and systemd hand the socket over as fd 0. */
	if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM) {
		log_error("listen is not set and standard input is not a "
		    "stream socket (start me from spawn-fcgi, the web server "
		    "or systemd, or set listen)");
		return -1;
	}
	len = sizeof(listening);
	if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == -1 ||
	    !listening) {
		log_error("standard input is a socket but not a listening one");
		return -1;
	}
	return 0;
}

/* Look up user and group.  Returns 1 on success, with -1 for "unset". */
static int
daemon_ids(const struct conf *conf, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = NULL;
	struct group *gr;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (conf->user != NULL) {
		if ((pw = getpwnam(conf->user)) == NULL) {
			log_error("user %s: no such user", conf->user);
			return 0;
		}
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	}
	if (conf->group != NULL) {
		if ((gr = getgrnam(conf->group)) == NULL) {
			log_error("group %s: no such group", conf->group);
			return 0;
		}
		*gid = gr->gr_gid;
	}
	return 1;
}

int
daemon_chown_socket(const struct conf *conf, const char *addr)
{
	struct stat st;
	uid_t uid;
	gid_t gid;
	int fd;

	if (addr == NULL || addr[0] != '/' || geteuid() != 0)
		return 1;
	if (!daemon_ids(conf, &uid, &gid))
		return 0;
	if (uid == (uid_t)-1 && gid == (gid_t)-1)
		return 1;
	/*
	 * Not chown(path), which follows a symbolic link put in the socket's
	 * place after bind; nor fchown() on the socket's descriptor, which on
	 * Linux changes the socket's own (sockfs) inode, not the file in the
	 * directory.  The file itself is opened without following a link
	 * (O_PATH, which also opens a socket file), checked to be a socket,
	 * and that very inode changes owner (fchownat with AT_EMPTY_PATH).
	 */
	if ((fd = open(addr, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		log_error("listen: %s: %m", addr);
		return 0;
	}
	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode)) {
		log_error("listen: %s is no longer a socket (replaced after "
		    "bind?); not changing its owner", addr);
		close(fd);
		return 0;
	}
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) == -1) {
		log_error("chown %s: %m", addr);
		close(fd);
		return 0;
	}
	close(fd);
	return 1;
}

/*
 * The starting command (the parent of -d) waits on the read end of the
 * pipe for at most seconds: a NUL byte first means the daemon serves
 * (exit 0); anything else is why it cannot, and the daemon closes its end
 * (exits) only once it has stopped, so that nothing of it is left when
 * the command returns (exit 1).  Returns the exit status.
 */
static int
daemon_wait_ready(int fd, int seconds)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec now;
	char why[1024], rest[256];
	time_t deadline;
	size_t len = 0;
	ssize_t n;
	int ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline = now.tv_sec + seconds;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((ms = (int)(deadline - now.tv_sec) * 1000) <= 0) {
			fprintf(stderr, "mdauthd: no word from the daemon "
			    "within %d s; it may still be starting: see the "
			    "log (syslog)\n", seconds);
			return 1;
		}
		if ((n = poll(&pfd, 1, ms)) == -1 && errno != EINTR) {
			fprintf(stderr, "mdauthd: waiting for the daemon: "
			    "poll: %s\n", strerror(errno));
			return 1;
		}
		if (n <= 0)
			continue;	/* EINTR, or time to check the clock */
		if (len < sizeof(why) - 1)
			n = read(fd, why + len, sizeof(why) - 1 - len);
		else
			n = read(fd, rest, sizeof(rest));	/* too long: drain */
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len == 0 && why[0] == '\0')
			return 0;
		if (len < sizeof(why) - 1)
			len += (size_t)n;
	}
	while (len > 0 && why[len - 1] == '\n')
		len--;
	why[len] = '\0';
	if (len > 0)
		fprintf(stderr, "mdauthd: %s\n", why);
	else
		fprintf(stderr, "mdauthd: the daemon stopped while starting; "
		    "the reason is in the log (syslog)\n");
	return 1;
}

int
daemon_detach(int keep_fd, int wait_seconds)
{
	int pipefd[2], fd;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		log_error("pipe: %m");
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_error("fork: %m");
		return -1;
	}
	if (pid > 0) {
		/* The command's exit status is the start-up's outcome. */
		close(pipefd[1]);
		_exit(daemon_wait_ready(pipefd[0], wait_seconds));
	}
	close(pipefd[0]);
	if (setsid() == -1) {
		log_error("setsid: %m");
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_error("fork: %m");
		return -1;
	}
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		log_warn("chdir /: %m");
	if ((fd = open("/dev/null", O_RDWR)) == -1) {
		log_error("/dev/null: %m");
		return -1;
	}
	/* fd 0 may be the inherited FastCGI socket: keep it then. */
	if (keep_fd != STDIN_FILENO)
		dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return pipefd[1];
}

void
daemon_ready(int ready_fd)
{
	if (ready_fd == -1)
		return;
	if (write(ready_fd, "", 1) != 1)
		log_warn("cannot tell the starting command we are ready: %m");
	close(ready_fd);
}

void
daemon_start_failed(int ready_fd, const char *why)
{
	if (ready_fd == -1)
		return;
	if (write(ready_fd, why, strlen(why)) == -1)
		log_warn("cannot tell the starting command why we stop: %m");
}

int
daemon_write_pid(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char line[32];
	int fd, n;

	if (path == NULL)
		return 1;
	/*
	 * Root writes here, in a directory the daemon's user may own: no
	 * symbolic link is followed (O_NOFOLLOW), and only a regular file
	 * with no other name is truncated and written (not a device, a FIFO
	 * or a hard link to some other file).
	 */
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK, 0644);
	if (fd == -1) {
		if (errno == ELOOP)
			snprintf(err, errlen, "pid_file %s is a symbolic link; "
			    "refusing to write through it (remove it)", path);
		else
			snprintf(err, errlen, "pid_file %s: %s", path,
			    strerror(errno));
		log_error("%s", err);
		return 0;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		snprintf(err, errlen, "pid_file %s is not a regular file with "
		    "a single name; refusing to write it (remove it)", path);
		log_error("%s", err);
		close(fd);
		return 0;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || write(fd, line, (size_t)n) != n) {
		snprintf(err, errlen, "pid_file %s: %s", path, strerror(errno));
		log_error("%s", err);
		close(fd);
		return 0;
	}
	if (close(fd) == -1) {
		snprintf(err, errlen, "pid_file %s: %s", path, strerror(errno));
		log_error("%s", err);
		return 0;
	}
	return 1;
}

/*
 * Outside systemd (which sets INVOCATION_ID for every unit it starts,
 * and whose unit has LimitCORE=0 and its own sandbox): no core file, which
 * would hold the database password, tokens and passwords in flight, and
 * no ptrace or /proc/PID/mem by a process of the same user.  Forked
 * workers inherit both; an execve() resets "dumpable", so this runs after
 * secmem_process_start's.  Root (CAP_SYS_PTRACE) can still read the memory.
 */
void
daemon_no_core(void)
{
	struct rlimit rl = { 0, 0 };
	const char *id = getenv("INVOCATION_ID");

	if (id != NULL && *id != '\0')
		return;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		log_warn("setrlimit RLIMIT_CORE 0: %m");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("prctl PR_SET_DUMPABLE 0: %m");
}

int
daemon_drop_privileges(const struct conf *conf)
{
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0) {
		if (conf->user != NULL || conf->group != NULL)
			log_info("not root: user and group are ignored");
		return 1;
	}
	if (conf->user == NULL) {
		log_warn("running as root: set user (and group) in the "
		    "configuration");
		return 1;
	}
	if (!daemon_ids(conf, &uid, &gid))
		return 0;
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		log_error("dropping privileges to %s: %m", conf->user);
		return 0;
	}
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		log_error("dropping privileges: root could be regained");
		return 0;
	}
	log_info("running as %s (uid %ld, gid %ld)", conf->user, (long)uid,
	    (long)gid);
	return 1;
}
