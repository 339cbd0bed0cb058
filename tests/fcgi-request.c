/*
 * fcgi-request.c -- send one FastCGI request in a chosen role and print
 * the application's stdout.  cgi-fcgi speaks the Responder role only; the
 * tests need the Authorizer role as a web server would send it.
 *
 *	fcgi-request SOCKET ROLE [NAME=VALUE...]
 *
 * SOCKET is a Unix socket path; ROLE is 1 (RESPONDER), 2 (AUTHORIZER) or
 * 3 (FILTER).  No stdin is sent (an authorizer gets none).  Exits 0 when
 * the application ended the request, 1 otherwise.
 *
 * Environment, for the tests of stopping workers:
 *	FCGI_REQUEST_DELAY=S	wait S seconds (decimal) between connect(2) and
 *				the first byte, as a web server may
 *	FCGI_REQUEST_STDIN_DELAY=S
 *				wait S seconds before the (empty) stdin record,
 *				as a slow client's body may come after the
 *				application has answered
 *	FCGI_REQUEST_KEEP=1	ask to keep the connection (FCGI_KEEP_CONN);
 *				after the request, wait (at most 60 s) for the
 *				application to close it, print "closed" on
 *				stderr when it does and exit 0, else 1
 */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { BEGIN_REQUEST = 1, END_REQUEST = 3, PARAMS = 4, STDIN = 5, STDOUT = 6 };

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

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

		if (n <= 0)
			return 0;
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

static int
record(int fd, int type, const void *body, size_t len)
{
	unsigned char h[8] = { 1, (unsigned char)type, 0, 1,
	    (unsigned char)(len >> 8), (unsigned char)len, 0, 0 };

	return write_all(fd, h, sizeof(h)) && write_all(fd, body, len);
}

/* Append one name-value pair (lengths below 128 or 4-byte form). */
static size_t
pair(unsigned char *out, size_t at, size_t cap, const char *name,
    size_t nlen, const char *value, size_t vlen)
{
	size_t lens[2] = { nlen, vlen }, i;

	if (at + 8 + nlen + vlen > cap)
		return 0;
	for (i = 0; i < 2; i++) {
		if (lens[i] < 128) {
			out[at++] = (unsigned char)lens[i];
		} else {
			out[at++] = (unsigned char)(0x80 | (lens[i] >> 24));
			out[at++] = (unsigned char)(lens[i] >> 16);
			out[at++] = (unsigned char)(lens[i] >> 8);
			out[at++] = (unsigned char)lens[i];
		}
	}
	memcpy(out + at, name, nlen);
	memcpy(out + at + nlen, value, vlen);
	return at + nlen + vlen;
}

/* Sleep for a number of seconds given as text, if any. */
static void
pause_for(const char *seconds)
{
	double d;
	struct timespec ts;

	if (seconds == NULL)
		return;
	d = atof(seconds);
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

int
main(int argc, char **argv)
{
	static unsigned char params[65535];
	unsigned char begin[8] = { 0 }, h[8], buf[65536 + 256];
	struct sockaddr_un sun;
	size_t plen = 0;
	int fd, i, keep;
	const char *delay = getenv("FCGI_REQUEST_DELAY");
	const char *stdin_delay = getenv("FCGI_REQUEST_STDIN_DELAY");

	if (argc < 3) {
		fprintf(stderr, "usage: fcgi-request SOCKET ROLE [NAME=VALUE...]\n");
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "fcgi-request: socket path too long\n");
		return 2;
	}
	strcpy(sun.sun_path, argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		perror("fcgi-request: connect");
		return 1;
	}
	for (i = 3; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');

		if (eq == NULL || (plen = pair(params, plen, sizeof(params),
		    argv[i], (size_t)(eq - argv[i]), eq + 1,
		    strlen(eq + 1))) == 0) {
			fprintf(stderr, "fcgi-request: bad or too many parameters\n");
			return 2;
		}
	}
	pause_for(delay);
	keep = getenv("FCGI_REQUEST_KEEP") != NULL;
	begin[1] = (unsigned char)atoi(argv[2]);
	begin[2] = keep ? 1 : 0;	/* FCGI_KEEP_CONN */
	if (!record(fd, BEGIN_REQUEST, begin, sizeof(begin)) ||
	    (plen > 0 && !record(fd, PARAMS, params, plen)) ||
	    !record(fd, PARAMS, "", 0)) {
		perror("fcgi-request: write");
		return 1;
	}
	pause_for(stdin_delay);
	if (begin[1] != 2 && !record(fd, STDIN, "", 0)) {
		perror("fcgi-request: write");
		return 1;
	}
	for (;;) {
		size_t len;

		if (!read_all(fd, h, sizeof(h)))
			return 1;
		len = (size_t)h[4] << 8 | h[5];
		if (!read_all(fd, buf, len + h[6]))
			return 1;
		if (h[1] == STDOUT)
			fwrite(buf, 1, len, stdout);
		else if (h[1] == END_REQUEST)
			break;
	}
	fflush(stdout);
	if (keep) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, 60000) == 1 && read(fd, buf, 1) == 0) {
			fprintf(stderr, "closed\n");
			return 0;
		}
		return 1;
	}
	return 0;
}
