/*
 * worker.c -- a worker process.
 *
 *	worker_main		set up, then the loop
 *	worker_accept		wait for a connection, take it if its peer may
 *	worker_wait_kept	wait for the next request of a kept connection
 *	worker_serve		one FastCGI request, start to end
 *	worker_finish		what follows an answer: drain, close or keep
 *	worker_report		-d: tell the master whether the database answered
 *
 * A worker serves one request at a time, in a loop that reads top to
 * bottom.  The termination signals (SIGTERM, SIGINT) stay blocked except
 * inside its two waits, epoll_pwait2(2) on the listening socket and
 * ppoll(2) on a kept connection, where their handler only sets
 * worker_stop and the wait returns.  So a stop never cuts a request short: the request in
 * hand is finished as usual, then the worker takes the connections
 * already waiting in the listen queue, and stops when the queue is empty,
 * or at the latest a second after it was free (over TCP the queue may
 * never empty while clients keep coming).  A connection the web server
 * has already made is served, not reset; the master's shutdown_timeout
 * bounds it all.  The listening socket, shared by the workers and by the
 * next generation (SIGHUP), is non-blocking, and each worker waits on it
 * through an epoll set of its own with EPOLLEXCLUSIVE: a new connection
 * wakes one waiting worker (or a few), not every one of them, which with
 * ppoll(2) cost the others a wake-up and a failed accept4(2) for each
 * request.  A worker whose epoll set cannot be made waits with ppoll(2).
 *
 * Every read from a connection has a deadline, request_timeout: the
 * begin record and parameters, the body, and the wait for the next
 * request on a kept connection.  libfcgi reads with plain blocking
 * read(2)s, so the deadline is a timer whose signal, without SA_RESTART,
 * makes the read in progress fail with EINTR; libfcgi then gives up the
 * connection.  Once due, the timer fires every 100 ms until it is
 * cleared, so that a read that starts just after a signal is cut short by
 * the next one.  It runs only while libfcgi reads: it is cleared before a
 * handler runs and before the response is written.  The wait between two
 * requests of a kept connection is a ppoll(2) with a timeout instead.  A
 * connection past its deadline is closed with one log line naming the
 * peer, and the worker takes the next one: an idle or slow peer holds a
 * worker for request_timeout at most.
 *
 * libfcgi is given /dev/null as its listening socket: when a connection
 * breaks before its parameters are read, it closes it and would accept
 * the next one itself, past the listen_allow check and the stop logic
 * here; on /dev/null its accept fails at once, and the loop goes on.
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>

#include "dispatch.h"
#include "log.h"
#include "netaddr.h"
#include "secmem.h"
#include "text.h"
#include "worker.h"

/* How long a stopping worker goes on taking connections already queued. */
#define WORKER_DRAIN_SECONDS	1

static volatile sig_atomic_t worker_stop;	/* SIGTERM or SIGINT came */
static volatile sig_atomic_t worker_late;	/* the read deadline passed */
static int worker_listen_fd = -1;
static int worker_devnull = -1;
static const struct conf *worker_conf;
static timer_t worker_timer;
static bool worker_timer_made;
static char worker_peer[80];		/* the connection in hand, for the log */
static double worker_deadline;		/* of its reads (worker_clock) */

/* The signal of the read deadline's timer. */
#define WORKER_DEADLINE_SIGNAL	(SIGRTMIN + 1)
/* Once due, the timer fires again this often until cleared. */
#define WORKER_DEADLINE_REPEAT_NS	(100 * 1000 * 1000)

static double
worker_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
worker_on_deadline(int sig)
{
	(void)sig;
	worker_late = 1;
}

/*
 * Let libfcgi's reads run until the deadline: arm the timer for what is
 * left of it (a deadline already past fires at once).
 */
static void
worker_reads_begin(void)
{
	struct itimerspec its;
	double left = worker_deadline - worker_clock();

	worker_late = 0;
	if (!worker_timer_made)
		return;
	if (left < 0)
		left = 0;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)left;
	its.it_value.tv_nsec = (long)((left - (double)its.it_value.tv_sec) * 1e9);
	if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1;	/* zero would disarm it */
	its.it_interval.tv_nsec = WORKER_DEADLINE_REPEAT_NS;
	if (timer_settime(worker_timer, 0, &its, NULL) == -1)
		log_error("worker: timer_settime: %m");
}

/*
 * The reads are over: no more signals.  A signal due before this returns
 * is delivered as it returns, so none interrupts what follows.
 */
static void
worker_reads_end(void)
{
	struct itimerspec off;

	if (!worker_timer_made)
		return;
	memset(&off, 0, sizeof(off));
	timer_settime(worker_timer, 0, &off, NULL);
}

/* The deadline's timer: without SA_RESTART, so that it cuts a read short. */
static void
worker_deadline_init(void)
{
	struct sigevent sev;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_deadline;
	sigemptyset(&sa.sa_mask);
	sigaction(WORKER_DEADLINE_SIGNAL, &sa, NULL);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = WORKER_DEADLINE_SIGNAL;
	if (timer_create(CLOCK_MONOTONIC, &sev, &worker_timer) == -1) {
		log_error("worker: timer_create: %m");
		_exit(1);
	}
	worker_timer_made = true;
}

/* Is a connection waiting in the listen queue? */
static int
worker_queue_waiting(void)
{
	struct pollfd pfd = { .fd = worker_listen_fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) != 0;
}

/*
 * Say that a peer was refused, at most once a second per worker: a peer
 * that keeps connecting must not flood the log.
 */
static void
worker_refused(const char *peer, const char *list)
{
	static time_t last;
	static unsigned long more;
	time_t now = time(NULL);

	if (now == last) {
		more++;
		return;
	}
	if (more > 0)
		log_warn("worker: refused %s (not in %s), and %lu more "
		    "connections since the last such line", peer, list, more);
	else
		log_warn("worker: refused %s (not in %s)", peer, list);
	last = now;
	more = 0;
}

/*
 * Is this peer one we serve?  A Unix-socket peer always is (the socket's
 * mode and owner decide who connects); a TCP peer must be in listen_allow,
 * and in FCGI_WEB_SERVER_ADDRS when that is set.  FastCGI has no
 * authentication: whoever connects can claim HTTPS=on and any
 * REMOTE_ADDR.  Names the peer in worker_peer for the log.
 */
static bool
worker_peer_allowed(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	if (len == 0 || sa->sa_family == AF_UNIX) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
			snprintf(worker_peer, sizeof(worker_peer),
			    "unix peer pid %ld uid %ld", (long)cred.pid,
			    (long)cred.uid);
		else
			snprintf(worker_peer, sizeof(worker_peer), "unix peer");
		return true;
	}
	net_peer_text(sa, worker_peer, sizeof(worker_peer));
	if (!net_allow_match(&worker_conf->listen_allow_net, sa)) {
		worker_refused(worker_peer, "listen_allow");
		return false;
	}
	if (worker_conf->web_server_addrs.n > 0 &&
	    !net_allow_match(&worker_conf->web_server_addrs, sa)) {
		worker_refused(worker_peer, "FCGI_WEB_SERVER_ADDRS");
		return false;
	}
	return true;
}

/* The signal mask inside the waits: the termination signals open. */
static sigset_t worker_waitmask;

/*
 * Wait until the listening socket is readable, a signal comes or wait
 * (NULL: no limit) is over: pfd->revents says which.  False on an error.
 */
static bool
worker_wait_listener(struct pollfd *pfd, const struct timespec *wait)
{
	static int ep = -2;		/* not made yet; -1: cannot be */
	struct epoll_event ev;
	int n;

	if (ep == -2) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		if ((ep = epoll_create1(EPOLL_CLOEXEC)) != -1 &&
		    epoll_ctl(ep, EPOLL_CTL_ADD, pfd->fd, &ev) == -1) {
			close(ep);
			ep = -1;
		}
		if (ep == -1)
			log_info("worker: no epoll set for the listening "
			    "socket (%m): every worker wakes for each "
			    "connection");
	}
	pfd->revents = 0;
	if (ep >= 0) {
		n = epoll_pwait2(ep, &ev, 1, wait, &worker_waitmask);
		if (n == 1)
			pfd->revents = POLLIN;
		/* A kernel before 5.11, or a filter that refuses the call. */
		if (n == -1 && (errno == ENOSYS || errno == EPERM)) {
			log_info("worker: epoll_pwait2: %m; waiting with ppoll");
			close(ep);
			ep = -1;
		}
	}
	if (ep < 0)
		n = ppoll(pfd, 1, wait, &worker_waitmask);
	if (n == -1 && errno != EINTR) {
		log_error("worker: poll: %m");
		return false;
	}
	return true;
}

/*
 * Wait for the next connection from a peer we serve, and take it; the
 * deadline of its reads starts now.  Once told to stop, only what is
 * already queued, for WORKER_DRAIN_SECONDS at most.  Returns the
 * connection, or -1 when the worker is to stop (*status 1 when it cannot
 * accept: EMFILE, ..., so that the master's backoff applies).  Done here
 * rather than by libfcgi, whose accept waits up to 2 s on a new
 * Unix-socket connection with select(2), and checks no list of peers.
 */
static int
worker_accept(int *status)
{
	static double drain_until;
	struct pollfd pfd = { .fd = worker_listen_fd, .events = POLLIN };
	struct sockaddr_storage ss;
	struct timespec ts, *wait = NULL;
	socklen_t len;
	double left;
	int fd;

	for (;;) {
		if (worker_stop) {
			if (drain_until == 0)
				drain_until = worker_clock() +
				    WORKER_DRAIN_SECONDS;
			if ((left = drain_until - worker_clock()) <= 0 ||
			    !worker_queue_waiting())
				return -1;
			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
			wait = &ts;
		}
		if (!worker_wait_listener(&pfd, wait)) {
			*status = 1;
			return -1;
		}
		if ((pfd.revents & POLLIN) == 0)
			continue;	/* a signal, or the drain's time is up */
		len = sizeof(ss);
		fd = accept4(worker_listen_fd, (struct sockaddr *)&ss, &len,
		    SOCK_CLOEXEC);
		if (fd == -1) {
			/* Another worker took it, or the peer left. */
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR || errno == ECONNABORTED)
				continue;
			log_error("worker: accept: %m");
			*status = 1;
			return -1;
		}
		if (worker_peer_allowed(fd, (struct sockaddr *)&ss, len))
			break;
		close(fd);
	}
	worker_deadline = worker_clock() + worker_conf->request_timeout;
	return fd;
}

/*
 * Wait for the next request on a connection the web server keeps open
 * (FCGI_KEEP_CONN), request_timeout at most.  A stop that comes while
 * nothing is waiting on it closes it, between two requests, which the
 * protocol allows, and so does the timeout; returns 0 then.  The deadline
 * of the next request's reads starts when it begins to arrive.
 */
static int
worker_wait_kept(FCGX_Request *fr)
{
	struct pollfd pfd = { .fd = fr->ipcFd, .events = POLLIN };
	double until = worker_clock() + worker_conf->request_timeout, left;
	struct timespec ts;
	int n;

	do {
		if ((left = until - worker_clock()) < 0)
			left = 0;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		n = ppoll(&pfd, 1, worker_stop ? &(struct timespec){ 0, 0 } :
		    &ts, &worker_waitmask);
	} while (n == -1 && errno == EINTR);
	if (n == 0 && !worker_stop)
		log_info("worker: closing the kept connection of %s: idle "
		    "for request_timeout (%d s)", worker_peer,
		    worker_conf->request_timeout);
	if (n != 1) {
		/* Nothing unread to linger for (libfcgi's close would). */
		FCGX_Free(fr, 0);
		close(fr->ipcFd);
		fr->ipcFd = -1;
		return 0;
	}
	worker_deadline = worker_clock() + worker_conf->request_timeout;
	return 1;
}

/*
 * On a connection the web server keeps (FCGI_KEEP_CONN), read what is left
 * of this request's stdin, at least its empty end record: left unread, it
 * would be taken for the start of the next request, a protocol error that
 * makes libfcgi drop the connection.  Responders only (an authorizer gets
 * no stdin); past WORKER_DRAIN_MAX bytes the connection is not kept.
 */
#define WORKER_DRAIN_MAX	(1024 * 1024)

static void
worker_drain_stdin(FCGX_Request *fr)
{
	char buf[4096];
	size_t total = 0;
	int n;

	if (!fr->keepConnection || fr->role != FCGI_RESPONDER)
		return;
	while ((n = FCGX_GetStr(buf, sizeof(buf), fr->in)) > 0)
		if ((total += (size_t)n) > WORKER_DRAIN_MAX) {
			fr->keepConnection = 0;
			break;
		}
	if (FCGX_GetError(fr->in) != 0)
		fr->keepConnection = 0;
	/* An unread body may be a login's. */
	explicit_bzero(buf, sizeof(buf));
}

/* SIGTERM, SIGINT: delivered only inside the waits (see the top). */
static void
worker_on_stop(int sig)
{
	(void)sig;
	worker_stop = 1;
}

/*
 * The path of the request log line: PATH_INFO, or for an authorizer (which
 * has none) the path of REQUEST_URI.  Never the query string, where a
 * careless client may have put a token.
 */
static const char *
worker_log_path(const struct request *req, char *buf, size_t size)
{
	const char *p = req->role == ROLE_AUTHORIZER ? req->uri : req->path;
	size_t n = strcspn(p, "?");

	if (n > size - 1)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return text_sanitize(buf, buf, n);
}

/*
 * The body of the request in hand, for dispatch(): read within what is
 * left of the deadline of its reads.
 */
static enum body_read
worker_read_body(void *arg, struct request *http)
{
	FCGX_Request *fr = arg;
	enum body_read r;

	worker_reads_begin();
	r = request_read_body(http, fr->in) ? BODY_READ_OK :
	    worker_late ? BODY_READ_LATE : BODY_READ_SHORT;
	worker_reads_end();
	if (r == BODY_READ_LATE)
		log_info("worker: closing the connection of %s: its body did "
		    "not come within request_timeout (%d s)", worker_peer,
		    worker_conf->request_timeout);
	return r;
}

/*
 * One request, its parameters read: the answer, and one log line.
 * Returns 0 when the request was dropped (its body came too late): no
 * answer was written.
 */
static int
worker_serve(struct ctx *ctx, FCGX_Request *fr)
{
	const struct body_source body = { worker_read_body, fr };
	struct request req;
	struct response resp;
	double start = worker_clock();
	char path[65];

	request_from_params(&req, fr->envp);
	resp_init(&resp);
	resp.head = req.method == METHOD_HEAD;
	dispatch(ctx, &req, &body, &resp);
	if (resp.drop) {
		resp_free(&resp);
		request_free(&req);
		return 0;
	}
	resp_send(&resp, ctx->conf->realm, fr->out);
	/* Never the token or body: method, path, status, time, user id. */
	log_info("%s%s %s %d %.1fms user=%s",
	    req.role == ROLE_AUTHORIZER ? "authorizer " : "",
	    req.method == METHOD_OTHER ? "-" : http_method_names[req.method],
	    worker_log_path(&req, path, sizeof(path)), resp.status,
	    (worker_clock() - start) * 1000,
	    resp.log_user != NULL ? resp.log_user : "-");
	resp_free(&resp);
	request_free(&req);
	return 1;
}

/*
 * The begin record and the parameters of the next request, within the
 * deadline.  Returns 1, or 0 when the connection is gone: libfcgi has
 * closed it and its own accept, on /dev/null, has failed at once.
 */
static int
worker_read_params(FCGX_Request *fr)
{
	worker_reads_begin();
	/*
	 * libfcgi takes a read error between two parameters for their end:
	 * a request cut short there has an error on its stdin.
	 */
	if (FCGX_Accept_r(fr) == 0 && FCGX_GetError(fr->in) == 0) {
		worker_reads_end();
		return 1;
	}
	if (fr->ipcFd >= 0)
		FCGX_Free(fr, 1);	/* within the deadline */
	worker_reads_end();
	if (worker_late)
		log_info("worker: closing the connection of %s: no complete "
		    "request within request_timeout (%d s)", worker_peer,
		    worker_conf->request_timeout);
	else	/* a web server closing a kept connection */
		log_debug("worker: %s closed the connection or broke the "
		    "FastCGI protocol before a whole request", worker_peer);
	fr->ipcFd = -1;
	return 0;
}

/*
 * After the answer (answered 0: the request was dropped), the reads that
 * remain: the rest of stdin on a kept connection, and libfcgi's graceful
 * close, which reads until the peer closes, up to 2 s between two reads
 * (without a deadline, a peer sending a byte a second would hold it for
 * ever).  A request_timeout again, and none left for a request dropped
 * for being late.  A stopping worker does not keep the connection.
 */
static void
worker_finish(FCGX_Request *fr, int answered)
{
	if (answered)
		worker_deadline = worker_clock() + worker_conf->request_timeout;
	else
		fr->keepConnection = 0;
	worker_reads_begin();
	worker_drain_stdin(fr);
	if (worker_stop)
		fr->keepConnection = 0;
	/* The token and REMOTE_PASSWD are among them (secmem.c). */
	secmem_wipe_strings(fr->envp);
	FCGX_Finish_r(fr);
	worker_reads_end();
}

/*
 * At start-up under -d, say on report_fd why this worker could not reach
 * the database: one line, in one write(2) (atomic on a pipe), which the
 * master reads when our SIGRTMIN comes.
 */
static void
worker_report(int report_fd, const char *why)
{
	char line[512];		/* less than PIPE_BUF: one atomic write */
	int len;

	len = snprintf(line, sizeof(line), "%s\n", why[0] != '\0' ? why :
	    "the database did not answer the first query");
	if (len >= (int)sizeof(line)) {
		len = sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	if (write(report_fd, line, (size_t)len) != len)
		log_debug("worker: cannot report to the master: %m");
}

void
worker_main(const struct conf *conf, int listen_fd, int report_fd,
    struct cache *cache, bool logins)
{
	struct sigaction sa;
	union sigval connected;
	sigset_t stop;
	int status = 0, flags;
	FCGX_Request fr;
	struct ctx ctx;
	struct db *db;
	long served = 0;
	pid_t master = getppid();

	worker_listen_fd = listen_fd;
	worker_conf = conf;
	if ((worker_devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("worker: /dev/null: %m");
		_exit(1);
	}
	/* The waits take connections without blocking (see the top). */
	if ((flags = fcntl(listen_fd, F_GETFL)) == -1 ||
	    fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		log_error("worker: the listening socket: %m");
		_exit(1);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	/*
	 * The master forks with its signals blocked: the termination signals
	 * stay so, and open only inside the waits; the others open now.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_SETMASK, &stop, NULL);
	sigemptyset(&worker_waitmask);

	/* Freed memory is overwritten (secmem.c); argon2id works in an area
	 * mapped once (password.c). */
	secmem_worker_start();
	if ((db = db_new(conf->database, conf->db_timeout)) == NULL) {
		log_error("worker: out of memory");
		_exit(1);
	}
	handler_ctx_init(&ctx, conf, db);
	ctx.cache = cache;
	if (!password_dummy_init(&ctx.password)) {
		log_error("worker: cannot make the dummy password hash");
		_exit(1);
	}
	/* After the dummy: memory argon2id cannot have fails that first. */
	if (logins)
		(void)password_area_init(&ctx.password);
	/* Connect now; a failure is retried per request. */
	connected.sival_int = db_ping(db) == DB_OK;
	if (report_fd != -1) {
		if (!connected.sival_int)
			worker_report(report_fd, db_connect_error(db));
		close(report_fd);
	}

	worker_deadline_init();
	/* libfcgi's own accept must fail at once (see the top). */
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, worker_devnull, 0) != 0) {
		log_error("worker: FCGX_Init failed");
		_exit(1);
	}
	log_debug("worker: ready (database %s)", connected.sival_int ?
	    "connected" : "not reachable");
	/*
	 * The master stops the generation this one replaces once one is
	 * ready, and under -d, the command that started it exits 0 once one
	 * is connected to the database (the value says whether this one is).
	 */
	if (getppid() == master)
		sigqueue(master, SIGRTMIN, connected);
	for (;;) {
		if (fr.ipcFd < 0) {
			if ((fr.ipcFd = worker_accept(&status)) == -1)
				break;
			/*
			 * FCGX_Accept_r first finishes the previous request,
			 * closing the connection unless it is kept: this keeps
			 * the new one.  Its begin record sets the real value.
			 */
			fr.keepConnection = 1;
		} else if (!worker_wait_kept(&fr)) {
			continue;	/* closed: idle too long, or stopping */
		}
		if (!worker_read_params(&fr))
			continue;
		worker_finish(&fr, worker_serve(&ctx, &fr));
		if (conf->max_requests > 0 && ++served >= conf->max_requests) {
			log_info("worker: retiring after %ld requests", served);
			break;
		}
	}
	FCGX_Free(&fr, 1);
	db_free(db);
	_exit(status);
}
