/*
 * argon2-rate.c -- the ceiling of bench/login.sh: how many argon2id verifies
 * per second this machine does, with libargon2 and nothing else, at the
 * parameters of a stored hash and with as many processes in parallel as
 * mdauthd has workers.
 *
 *	usage: argon2-rate PROCESSES SECONDS MAX_PER_PROCESS < INPUT
 *
 * INPUT is two lines: an argon2id PHC string (as stored in
 * mdauth.users.password_hash, so the parameters are the daemon's by
 * construction) and the password that matches it.  Each process verifies
 * in a loop until SECONDS have passed or it has done MAX_PER_PROCESS;
 * the processes start together.  Prints one line:
 *
 *	argon2-rate: processes=P m=KiB t=T p=LANES verifies=N seconds=S rate=R
 *
 * where rate is the sum of each process's verifies per second.
 *
 *	rate_child	verify in a loop, report count and time on a pipe
 *	main		read the input, fork, collect, print
 */
#include <sys/wait.h>

#include <argon2.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RATE_PROCESSES_MAX 256
#define RATE_LINE_MAX 1100

static double
rate_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Wait for the start (go closes), verify until the time or the count is
 * reached, then write "count seconds" to out.  Never returns.
 */
static void
rate_child(const char *encoded, const char *password, double seconds, long max,
    int go, int out)
{
	char buf[64];
	double start, elapsed;
	long count = 0;
	int rc, n;

	(void)read(go, buf, 1); /* EOF when the parent closes its end */
	start = rate_now();
	do {
		rc = argon2id_verify(encoded, password, strlen(password));
		if (rc != ARGON2_OK) {
			fprintf(stderr, "argon2-rate: argon2id_verify: %s\n",
			    argon2_error_message(rc));
			_exit(1);
		}
		count++;
		elapsed = rate_now() - start;
	} while (elapsed < seconds && count < max);
	n = snprintf(buf, sizeof(buf), "%ld %.6f\n", count, elapsed);
	if (write(out, buf, (size_t)n) != n)
		_exit(1);
	_exit(0);
}

int
main(int argc, char *argv[])
{
	char encoded[RATE_LINE_MAX], password[RATE_LINE_MAX], line[64];
	pid_t pids[RATE_PROCESSES_MAX];
	int go[2], res[2], procs, i, status, failed = 0;
	unsigned m = 0, t = 0, p = 0;
	long max, count, total = 0;
	double seconds, elapsed, rate = 0, longest = 0;
	FILE *results;

	if (argc != 4) {
		fprintf(stderr, "usage: argon2-rate PROCESSES SECONDS "
		                "MAX_PER_PROCESS < PHC-LINE PASSWORD-LINE\n");
		return 2;
	}
	procs = atoi(argv[1]);
	seconds = atof(argv[2]);
	max = atol(argv[3]);
	if (procs < 1 || procs > RATE_PROCESSES_MAX || seconds <= 0 ||
	    max < 1) {
		fprintf(stderr, "argon2-rate: bad arguments\n");
		return 2;
	}
	if (fgets(encoded, sizeof(encoded), stdin) == NULL ||
	    fgets(password, sizeof(password), stdin) == NULL) {
		fprintf(stderr, "argon2-rate: expected two lines on stdin\n");
		return 2;
	}
	encoded[strcspn(encoded, "\n")] = '\0';
	password[strcspn(password, "\n")] = '\0';
	if (sscanf(encoded, "$argon2id$v=19$m=%u,t=%u,p=%u$", &m, &t, &p) !=
	    3) {
		fprintf(
		    stderr, "argon2-rate: not an argon2id v=19 PHC string\n");
		return 2;
	}

	if (pipe(go) == -1 || pipe(res) == -1) {
		fprintf(stderr, "argon2-rate: pipe: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] == -1) {
			fprintf(
			    stderr, "argon2-rate: fork: %s\n", strerror(errno));
			return 1;
		}
		if (pids[i] == 0) {
			close(go[1]);
			close(res[0]);
			rate_child(
			    encoded, password, seconds, max, go[0], res[1]);
		}
	}
	close(go[0]);
	close(res[1]);
	close(go[1]); /* start */

	if ((results = fdopen(res[0], "r")) == NULL) {
		fprintf(stderr, "argon2-rate: fdopen: %s\n", strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), results) != NULL) {
		if (sscanf(line, "%ld %lf", &count, &elapsed) != 2 ||
		    elapsed <= 0)
			continue;
		total += count;
		rate += (double)count / elapsed;
		if (elapsed > longest)
			longest = elapsed;
	}
	fclose(results);
	for (i = 0; i < procs; i++) {
		if (waitpid(pids[i], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed = 1;
	}
	if (failed || total == 0) {
		fprintf(stderr, "argon2-rate: a process failed\n");
		return 1;
	}
	printf("argon2-rate: processes=%d m=%u t=%u p=%u verifies=%ld "
	       "seconds=%.2f rate=%.2f\n",
	    procs, m, t, p, total, longest, rate);
	return 0;
}
