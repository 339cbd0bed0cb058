/*
 * invalidate-poll.c -- the probe of bench/invalidate.sh: how long after a
 * revocation commits does another mdauthd (B) refuse the token?  It talks
 * FastCGI to B directly (no web server) on one kept connection
 * (FCGI_KEEP_CONN) and validates a token in a loop, GAP_US microseconds
 * apart, until B answers 401; the time kept is the wall clock
 * (CLOCK_REALTIME, the clock PostgreSQL's clock_timestamp() reads on the
 * same host) when that 401 arrived.
 *
 *	usage: invalidate-poll B_SOCKET A_SOCKET TIMEOUT_MS GAP_US
 *
 * Commands, one a line on stdin; one answer a line on stdout:
 *
 *	prime TOKEN	validate TOKEN on B twice (the second is answered from
 *			B's cache): "primed STATUS STATUS"
 *	poll TOKEN	print "polling", then validate TOKEN on B until a 401:
 *			"401 T POLLS", or "timeout - POLLS" after TIMEOUT_MS,
 *			or "error STATUS POLLS" for an answer neither 200 nor
 *			401.  The caller revokes the token once it has read
 *			"polling".
 *	logout TOKEN	send POST /logout with TOKEN to A (another mdauthd, a
 *			fresh connection), and meanwhile validate TOKEN on B
 *			as for poll; A's answer is read whenever it is there:
 *			"401 T POLLS A_SENT A_DONE A_STATUS" (or timeout,
 *			error), where A_SENT and A_DONE frame A's commit.
 *
 * T, A_SENT and A_DONE are seconds since the epoch, to the microsecond.
 * A connection B closes (request_timeout between two trials) is opened
 * again.
 *
 *	fc_connect, fc_send, fc_read	a minimal FastCGI client
 *	fc_call				one request on B's kept connection
 *	poll_until_401			the loop of poll and logout
 *	main				read commands, answer
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
	FC_BEGIN_REQUEST = 1,
	FC_END_REQUEST = 3,
	FC_PARAMS = 4,
	FC_STDIN = 5,
	FC_STDOUT = 6,
	FC_KEEP_CONN = 1,
	FC_RESPONDER = 1,
};

#define FC_TOKEN_MAX 512
#define FC_PARAMS_MAX 2048
#define FC_OUT_MAX 16384

static const char *b_path, *a_path;
static int b_fd = -1;
static long gap_us;
static double timeout_s;

static double
now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

static int
read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

static int
fc_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Append a record of TYPE with BODY to OUT at AT; the new length. */
static size_t
fc_record(unsigned char *out, size_t at, int type, const void *body, size_t len)
{
	out[at++] = 1;
	out[at++] = (unsigned char)type;
	out[at++] = 0;
	out[at++] = 1; /* request id 1 */
	out[at++] = (unsigned char)(len >> 8);
	out[at++] = (unsigned char)len;
	out[at++] = 0;
	out[at++] = 0;
	memcpy(out + at, body, len);
	return at + len;
}

/* Append NAME=VALUE (both below 128 bytes) to P at AT; 0 if full. */
static size_t
fc_pair(unsigned char *p, size_t at, const char *name, const char *value)
{
	size_t n = strlen(name), v = strlen(value);

	if (n > 127 || v > 127 + FC_TOKEN_MAX || at + n + v + 8 > FC_PARAMS_MAX)
		return 0;
	p[at++] = (unsigned char)n;
	if (v < 128) {
		p[at++] = (unsigned char)v;
	} else {
		p[at++] = (unsigned char)(0x80 | (v >> 24));
		p[at++] = (unsigned char)(v >> 16);
		p[at++] = (unsigned char)(v >> 8);
		p[at++] = (unsigned char)v;
	}
	memcpy(p + at, name, n);
	memcpy(p + at + n, value, v);
	return at + n + v;
}

/*
 * Send one request to mdauthd on fd: METHOD PATH (PATH_INFO under
 * /api/auth) with "Authorization: Bearer TOKEN", over "HTTPS", no body.
 */
static int
fc_send(
    int fd, int keep, const char *method, const char *path, const char *token)
{
	unsigned char params[FC_PARAMS_MAX], out[FC_PARAMS_MAX + 64];
	unsigned char begin[8] = {0, FC_RESPONDER, 0, 0, 0, 0, 0, 0};
	char auth[FC_TOKEN_MAX + 16], uri[64];
	size_t p = 0, o = 0;

	begin[2] = keep ? FC_KEEP_CONN : 0;
	snprintf(auth, sizeof(auth), "Bearer %s", token);
	snprintf(uri, sizeof(uri), "/api/auth%s", path);
	if ((p = fc_pair(params, p, "REQUEST_METHOD", method)) == 0 ||
	    (p = fc_pair(params, p, "SCRIPT_NAME", "/api/auth")) == 0 ||
	    (p = fc_pair(params, p, "PATH_INFO", path)) == 0 ||
	    (p = fc_pair(params, p, "REQUEST_URI", uri)) == 0 ||
	    (p = fc_pair(params, p, "SERVER_PROTOCOL", "HTTP/1.1")) == 0 ||
	    (p = fc_pair(params, p, "HTTPS", "on")) == 0 ||
	    (p = fc_pair(params, p, "REMOTE_ADDR", "127.0.0.1")) == 0 ||
	    (p = fc_pair(params, p, "CONTENT_LENGTH", "0")) == 0 ||
	    (p = fc_pair(params, p, "HTTP_AUTHORIZATION", auth)) == 0)
		return 0;
	o = fc_record(out, o, FC_BEGIN_REQUEST, begin, sizeof(begin));
	o = fc_record(out, o, FC_PARAMS, params, p);
	o = fc_record(out, o, FC_PARAMS, "", 0);
	o = fc_record(out, o, FC_STDIN, "", 0);
	return write_all(fd, out, o);
}

/* Read one answer on fd; its HTTP status (200 without a Status line), 0
 * when the connection failed. */
static int
fc_read(int fd)
{
	static char body[FC_OUT_MAX + 1];
	unsigned char h[8], skip[256];
	size_t len = 0, n;
	char *s;

	for (;;) {
		if (!read_all(fd, h, sizeof(h)))
			return 0;
		n = ((size_t)h[4] << 8) | h[5];
		if (h[1] == FC_STDOUT && len + n <= FC_OUT_MAX) {
			if (!read_all(fd, body + len, n))
				return 0;
			len += n;
		} else {
			while (n > 0) {
				size_t k = n < sizeof(skip) ? n : sizeof(skip);

				if (!read_all(fd, skip, k))
					return 0;
				n -= k;
			}
		}
		if (h[6] > 0 && !read_all(fd, skip, h[6]))
			return 0;
		if (h[1] == FC_END_REQUEST)
			break;
	}
	body[len] = '\0';
	if (strncmp(body, "Status:", 7) == 0)
		s = body;
	else if ((s = strstr(body, "\nStatus:")) != NULL)
		s++;
	else
		return 200;
	return atoi(s + 7);
}

/* One request on B's kept connection, opened again once if B closed it. */
static int
fc_call(const char *method, const char *path, const char *token)
{
	int tries, status;

	for (tries = 0; tries < 2; tries++) {
		if (b_fd == -1 && (b_fd = fc_connect(b_path)) == -1)
			return 0;
		if (fc_send(b_fd, 1, method, path, token) &&
		    (status = fc_read(b_fd)) != 0)
			return status;
		close(b_fd);
		b_fd = -1;
	}
	return 0;
}

static void
pause_gap(void)
{
	struct timespec ts = {0, gap_us * 1000};

	if (gap_us > 0)
		nanosleep(&ts, NULL);
}

/*
 * Validate token on B until a 401.  With a_fd >= 0, read A's answer when
 * it is there (and at the end if it is not yet).
 */
static void
poll_until_401(const char *token, int a_fd, double a_sent)
{
	double start = now_real(), t = 0, a_done = 0;
	long polls = 0;
	int status = 0, a_status = 0;
	struct pollfd pfd;

	for (;;) {
		status = fc_call("GET", "/validate", token);
		t = now_real();
		polls++;
		if (a_fd >= 0 && a_status == 0) {
			pfd.fd = a_fd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, 0) == 1) {
				a_status = fc_read(a_fd);
				a_done = now_real();
				if (a_status == 0)
					a_status = -1;
			}
		}
		if (status != 200 || t - start > timeout_s)
			break;
		pause_gap();
	}
	if (a_fd >= 0 && a_status == 0) {
		a_status = fc_read(a_fd);
		a_done = now_real();
	}
	if (status == 401)
		printf("401 %.6f %ld", t, polls);
	else if (status == 200)
		printf("timeout - %ld", polls);
	else
		printf("error %d %ld", status, polls);
	if (a_fd >= 0)
		printf(" %.6f %.6f %d", a_sent, a_done, a_status);
	printf("\n");
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	char line[FC_TOKEN_MAX + 32], *cmd, *token;
	int s1, s2, a_fd;
	double a_sent;

	if (argc != 5) {
		fprintf(stderr, "usage: invalidate-poll B_SOCKET A_SOCKET "
		                "TIMEOUT_MS GAP_US\n");
		return 2;
	}
	b_path = argv[1];
	a_path = argv[2];
	timeout_s = atof(argv[3]) / 1000.0;
	gap_us = atol(argv[4]);
	if (timeout_s <= 0 || gap_us < 0 || gap_us > 999999) {
		fprintf(stderr, "invalidate-poll: bad arguments\n");
		return 2;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		cmd = strtok(line, " ");
		token = strtok(NULL, " ");
		if (cmd == NULL || token == NULL ||
		    strlen(token) > FC_TOKEN_MAX) {
			printf("error bad-command 0\n");
		} else if (strcmp(cmd, "prime") == 0) {
			s1 = fc_call("GET", "/validate", token);
			s2 = fc_call("GET", "/validate", token);
			printf("primed %d %d\n", s1, s2);
		} else if (strcmp(cmd, "poll") == 0) {
			printf("polling\n");
			fflush(stdout);
			poll_until_401(token, -1, 0);
		} else if (strcmp(cmd, "logout") == 0) {
			a_sent = now_real();
			if ((a_fd = fc_connect(a_path)) == -1 ||
			    !fc_send(a_fd, 0, "POST", "/logout", token)) {
				printf("error connect-a 0\n");
			} else {
				poll_until_401(token, a_fd, a_sent);
			}
			if (a_fd >= 0)
				close(a_fd);
		} else {
			printf("error bad-command 0\n");
		}
		fflush(stdout);
	}
	return 0;
}
