/*
 * null-responder.c -- the ceiling of bench/validate.sh: a FastCGI responder
 * that does no work.  It has the shape of mdauthd (a master that opens a Unix
 * socket and forks workers that each accept one request at a time with
 * libfcgi) and answers every request with the same 200 JSON a successful
 * validate gets, without reading the request, a database or a clock.  What
 * the web server, TLS and FastCGI cost is then measured behind the same
 * lighttpd in the same run, and mdauthd's figures are read against it.
 *
 *	usage: null-responder SOCKET WORKERS SECONDS
 *
 * It stops on SIGTERM or SIGINT, and by itself after SECONDS (alarm), so a
 * benchmark that dies without cleaning up cannot leave it running for long.
 * Workers die with the master (PR_SET_PDEATHSIG).
 *
 *	null_worker	accept and answer until killed
 *	main		open the socket, fork, wait for a signal, stop
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NULL_WORKERS_MAX 256

/* Headers and body as mdauthd's GET /validate sends them, fixed values. */
static const char null_reply[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Cache-Control: no-store\r\n"
    "X-Auth-User: bench\r\n"
    "X-Auth-User-Id: 1\r\n"
    "X-Auth-Session-Id: 00000000-0000-4000-8000-000000000000\r\n"
    "\r\n"
    "{\"user_id\":1,\"username\":\"bench\","
    "\"session_id\":\"00000000-0000-4000-8000-000000000000\","
    "\"expires_at\":\"2026-01-01T00:00:00Z\",\"expires_in\":3600}";

static volatile sig_atomic_t null_stop;

static void
null_on_signal(int sig)
{
	(void)sig;
	null_stop = 1;
}

/* Serve requests on fd until killed; never returns. */
static void
null_worker(int fd)
{
	FCGX_Request req;

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		fprintf(stderr, "null-responder: prctl: %s\n", strerror(errno));
	if (getppid() == 1)
		_exit(0); /* the master is already gone */
	if (FCGX_InitRequest(&req, fd, 0) != 0) {
		fprintf(stderr, "null-responder: FCGX_InitRequest failed\n");
		_exit(1);
	}
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(null_reply, (int)sizeof(null_reply) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	_exit(0);
}

int
main(int argc, char *argv[])
{
	struct sigaction sa;
	sigset_t block, old;
	pid_t pids[NULL_WORKERS_MAX];
	int fd, workers, seconds, i, status;

	if (argc != 4) {
		fprintf(
		    stderr, "usage: null-responder SOCKET WORKERS SECONDS\n");
		return 2;
	}
	workers = atoi(argv[2]);
	seconds = atoi(argv[3]);
	if (argv[1][0] != '/' || workers < 1 || workers > NULL_WORKERS_MAX ||
	    seconds < 1) {
		fprintf(stderr, "null-responder: bad arguments\n");
		return 2;
	}
	if (FCGX_Init() != 0) {
		fprintf(stderr, "null-responder: FCGX_Init failed\n");
		return 1;
	}
	if (unlink(argv[1]) == -1 && errno != ENOENT) {
		fprintf(stderr, "null-responder: unlink %s: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	if ((fd = FCGX_OpenSocket(argv[1], 128)) < 0) {
		fprintf(
		    stderr, "null-responder: cannot listen on %s\n", argv[1]);
		return 1;
	}
	if (chmod(argv[1], 0660) == -1)
		fprintf(stderr, "null-responder: chmod %s: %s\n", argv[1],
		    strerror(errno));

	/* Signals stay blocked outside sigsuspend, so none is missed. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = null_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGALRM);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);

	for (i = 0; i < workers; i++) {
		pids[i] = fork();
		if (pids[i] == -1) {
			fprintf(stderr, "null-responder: fork: %s\n",
			    strerror(errno));
			workers = i;
			null_stop = 1;
			break;
		}
		if (pids[i] == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			signal(SIGALRM, SIG_DFL);
			signal(SIGCHLD, SIG_DFL);
			sigprocmask(SIG_SETMASK, &old, NULL);
			null_worker(fd);
		}
	}
	alarm((unsigned)seconds);

	/* Any signal ends the run: a stop request, the alarm, a dead worker. */
	while (!null_stop)
		sigsuspend(&old);

	for (i = 0; i < workers; i++)
		kill(pids[i], SIGTERM);
	for (i = 0; i < workers; i++)
		waitpid(pids[i], &status, 0);
	close(fd);
	unlink(argv[1]);
	return 0;
}
