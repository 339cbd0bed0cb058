/*
 * worker.c -- a worker process.
 *
 *	worker_main		set up, then the accept loop
 *	worker_dispatch		checks every request passes before its handler
 *	worker_serve		one FastCGI request, start to end
 *	worker_on_signal	SIGTERM/SIGINT: finish, drain, then stop
 *	worker_on_alarm		the end of the drain
 *	worker_report		-d: tell the master whether the database answered
 *
 * A worker serves one request at a time.  On SIGTERM/SIGINT it finishes
 * the request in hand as usual (SA_RESTART, so no read is cut short), then
 * takes the connections already waiting in the listen queue, and stops
 * when the queue is empty, or at the latest a second after it was free
 * (over TCP the queue may never empty while clients keep coming).  A
 * connection the web server has already made is served, not reset; the
 * master's shutdown_timeout bounds it all.
 *
 * Stopping is done by putting /dev/null in place of the listening socket
 * (dup2(2) is async-signal-safe), in this process only: the next
 * accept(2), whether it is already waiting or about to start, fails at
 * once on a descriptor that is not a socket.  The signal handler does that
 * itself when the worker is idle and the queue is empty; otherwise the
 * loop does it when the queue is, and SIGALRM a second after the worker
 * began to drain does it in any case, so that a worker that lost the race
 * for the last connection does not wait in accept(2).  Nothing here
 * changes the socket itself, which the next generation of workers
 * (SIGHUP) shares.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>

#include "log.h"
#include "router.h"
#include "text.h"
#include "worker.h"

/* How long a stopping worker goes on taking connections already queued. */
#define WORKER_DRAIN_SECONDS	1

static volatile sig_atomic_t worker_stop;
static volatile sig_atomic_t worker_idle;	/* in accept, or about to be */
static volatile sig_atomic_t worker_draining;	/* the alarm is set */
static int worker_listen_fd = -1;
static int worker_devnull = -1;

/* Is a connection waiting in the listen queue?  (poll(2) is async-signal-safe.) */
static int
worker_queue_waiting(void)
{
	struct pollfd pfd = { .fd = worker_listen_fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) != 0;
}

/*
 * Take the next connection.  Done here rather than by libfcgi, whose
 * accept waits up to 2 s on a new Unix-socket connection with select(2),
 * which a signal interrupts (SA_RESTART does not apply to it): libfcgi
 * then drops the connection.  accept4(2) is restarted, and fails once the
 * listener has become /dev/null.
 */
static int
worker_accept(void)
{
	int fd;

	do
		fd = accept4(worker_listen_fd, NULL, NULL, SOCK_CLOEXEC);
	while (fd == -1 && (errno == EINTR || errno == ECONNABORTED) &&
	    !worker_stop);
	return fd;
}

/*
 * Wait for the next request on a connection the web server keeps open
 * (FCGI_KEEP_CONN).  A stop that comes while nothing is waiting on it
 * closes it, between two requests, which the protocol allows; returns 0
 * then.  The stop is checked with the signals blocked and waited for with
 * them open (ppoll(2)), so none is missed.
 */
static int
worker_wait_kept(FCGX_Request *fr)
{
	struct pollfd pfd = { .fd = fr->ipcFd, .events = POLLIN };
	sigset_t block, old;
	int n;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (;;) {
		if (worker_stop) {
			n = poll(&pfd, 1, 0);
			break;
		}
		if ((n = ppoll(&pfd, 1, NULL, &old)) != -1 || errno != EINTR)
			break;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (worker_stop && n != 1) {
		FCGX_Free(fr, 1);
		return 0;
	}
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
	/* An unread body may be a login's. */
	explicit_bzero(buf, sizeof(buf));
}

/*
 * After a request, no copy of its secrets (the Bearer token, a password,
 * the token of a login's answer) may stay behind in the worker's memory,
 * where a core dump or a later bug that discloses memory would find it.
 * Our own buffers are wiped where they are freed; libfcgi's and json-c's
 * are not ours.  So glibc fills every block the worker frees
 * (M_PERTURB, set by password_fill_freed from worker_main), with its
 * per-thread cache, which would skip small blocks, turned off when mdauthd
 * starts (mdauthd.c, tune_malloc).  The parameters' strings are wiped here
 * as well, before libfcgi frees them, in case the cache is on after all.
 * tests/integration/secrets.sh scans a worker's memory.
 */
static void
worker_wipe_params(FCGX_Request *fr)
{
	char **e;

	for (e = fr->envp; e != NULL && *e != NULL; e++)
		explicit_bzero(*e, strlen(*e));
}

/* Stop accepting: the listening socket becomes /dev/null in this process. */
static void
worker_close_listener(void)
{
	if (worker_devnull != -1)
		dup2(worker_devnull, worker_listen_fd);
}

static void
worker_on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	if (!worker_stop) {
		worker_stop = 1;
		if (worker_idle) {
			worker_draining = 1;
			alarm(WORKER_DRAIN_SECONDS);
			if (!worker_queue_waiting())
				worker_close_listener();
		}
	}
	errno = saved;
}

static void
worker_on_alarm(int sig)
{
	int saved = errno;

	(void)sig;
	if (worker_stop)
		worker_close_listener();
	errno = saved;
}

void
worker_dispatch(struct ctx *ctx, struct request *req, FCGX_Stream *in,
    struct response *resp)
{
	const struct route *route;

	/* The Authorizer role answers for the credentials, whatever the path. */
	if (req->role == ROLE_AUTHORIZER) {
		if (ctx->conf->require_tls && !req->https)
			resp_error(resp, ERR_TLS_REQUIRED, "use HTTPS");
		else
			handler_authorizer(ctx, req, resp);
		return;
	}
	if (req->role != ROLE_RESPONDER) {
		resp_error(resp, ERR_SERVER_ERROR,
		    "unsupported FastCGI role (RESPONDER and AUTHORIZER only)");
		return;
	}
	switch (router_match(req->path, req->method, &route)) {
	case ROUTE_FOUND:
		break;
	case ROUTE_METHOD_NOT_ALLOWED:
		resp_error(resp, ERR_METHOD_NOT_ALLOWED,
		    "method not allowed for this resource");
		resp->allow = route->allow;
		return;
	case ROUTE_NOT_FOUND:
	case ROUTE_MATCH__MAX:
		resp_error(resp, ERR_NOT_FOUND, "no such resource");
		return;
	}
	if (ctx->conf->require_tls && !req->https) {
		resp_error(resp, ERR_TLS_REQUIRED, "use HTTPS");
		return;
	}
	if (route->body != BODY_NONE) {
		if (req->content_length_bad) {
			resp_error(resp, ERR_INVALID_REQUEST,
			    "invalid Content-Length");
			return;
		}
		/* Refused before a byte of it is read. */
		if (req->content_length > (long long)ctx->conf->max_body) {
			resp_error(resp, ERR_PAYLOAD_TOO_LARGE,
			    "request body is too large");
			return;
		}
		if ((route->body == BODY_JSON || req->content_length > 0) &&
		    !request_is_json(req->content_type)) {
			resp_error(resp, ERR_UNSUPPORTED_MEDIA_TYPE,
			    "the request body must be application/json");
			return;
		}
		if (req->content_length > 0 && (in == NULL ||
		    !request_read_body(req, in))) {
			resp_error(resp, ERR_INVALID_REQUEST,
			    "request body is shorter than its Content-Length");
			return;
		}
	}
	route->handler(ctx, req, resp);
}

static double
worker_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
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

/* One request: parameters in, response out, one log line. */
static void
worker_serve(struct ctx *ctx, FCGX_Request *fr)
{
	struct request req;
	struct response resp;
	double start = worker_clock();
	char path[65];

	request_from_params(&req, fr->envp);
	resp_init(&resp);
	resp.head = req.method == METHOD_HEAD;
	worker_dispatch(ctx, &req, fr->in, &resp);
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
worker_main(const struct conf *conf, int listen_fd, int report_fd)
{
	struct sigaction sa;
	union sigval connected;
	sigset_t none;
	int status = 0;
	FCGX_Request fr;
	struct ctx ctx;
	struct db *db;
	long served = 0;
	pid_t master = getppid();

	worker_listen_fd = listen_fd;
	if ((worker_devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("worker: /dev/null: %m");
		_exit(1);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = worker_on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	/* The master forks with its signals blocked: take them from here on. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/*
	 * argon2id allocates argon2_memory (19 MiB by default) per hash and
	 * frees it.  glibc serves blocks that large with mmap(2), but raises
	 * that threshold after the first such free, so from the second hash
	 * on the block comes from the heap and stays resident.  A fixed
	 * threshold keeps every hash in mmap(2): its memory goes back to the
	 * system when the hash is done (mallopt(3): setting the threshold
	 * turns the dynamic adjustment off).
	 */
	if (mallopt(M_MMAP_THRESHOLD, 256 * 1024) != 1)
		log_debug("worker: mallopt(M_MMAP_THRESHOLD) refused");
	/* Freed memory is overwritten (see worker_wipe_params). */
	password_fill_freed(0xa5);
	if ((db = db_new(conf->database, conf->db_timeout)) == NULL) {
		log_error("worker: out of memory");
		_exit(1);
	}
	handler_ctx_init(&ctx, conf, db);
	if (!password_dummy_init(&ctx.password)) {
		log_error("worker: cannot make the dummy password hash");
		_exit(1);
	}
	/* Connect now; a failure is retried per request. */
	connected.sival_int = db_ping(db) == DB_OK;
	if (report_fd != -1) {
		if (!connected.sival_int)
			worker_report(report_fd, db_connect_error(db));
		close(report_fd);
	}

	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, listen_fd, 0) != 0) {
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
		/*
		 * Idle for the signal handler until a request is in hand,
		 * FCGX_Accept_r included: should the connection turn out
		 * broken, libfcgi goes back to accept(2) itself.
		 */
		worker_idle = 1;
		if (fr.ipcFd < 0) {
			/* Stopping: only what is already queued (see the top). */
			if (worker_stop && !worker_draining) {
				worker_draining = 1;
				alarm(WORKER_DRAIN_SECONDS);
			}
			if (worker_stop && !worker_queue_waiting())
				break;
			if ((fr.ipcFd = worker_accept()) == -1) {
				if (worker_stop)
					break;
				/* Exit non-zero: the master's backoff applies
				 * to a worker that cannot accept (EMFILE, ...). */
				log_error("worker: accept: %m");
				status = 1;
				break;
			}
			/*
			 * FCGX_Accept_r first finishes the previous request,
			 * closing the connection unless it is kept: this keeps
			 * the new one.  Its begin record sets the real value.
			 */
			fr.keepConnection = 1;
		} else if (!worker_wait_kept(&fr)) {
			continue;	/* stopping: the kept connection is closed */
		}
		if (FCGX_Accept_r(&fr) < 0) {
			if (worker_stop)
				break;
			log_error("worker: accept: %m");
			status = 1;
			break;
		}
		worker_idle = 0;
		worker_serve(&ctx, &fr);
		worker_drain_stdin(&fr);
		/* A stopping worker does not keep the web server's connection. */
		if (worker_stop)
			fr.keepConnection = 0;
		worker_wipe_params(&fr);
		FCGX_Finish_r(&fr);
		if (conf->max_requests > 0 && ++served >= conf->max_requests) {
			log_info("worker: retiring after %ld requests", served);
			break;
		}
	}
	FCGX_Free(&fr, 1);
	db_free(db);
	_exit(status);
}
