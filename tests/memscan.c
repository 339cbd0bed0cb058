/*
 * memscan.c -- look for strings in the writable memory of a running
 * process, for the tests that a worker keeps no copy of a token or a
 * password once it has answered.
 *
 *	memscan PID STRING...
 *
 * Every private writable mapping of PID (heap, anonymous memory, stacks,
 * the data of the program and of its libraries) up to 1 GiB is read
 * through /proc/PID/mem.  For each STRING found, a line "STRING-INDEX ADDRESS
 * MAPPING" is printed, where STRING-INDEX counts from 1, so that the
 * secret itself never reaches a log.  Exits 0 when no STRING is found,
 * 1 when one is, 2 on error (the process is gone, or may not be read).
 * Reading another process's memory needs the right to ptrace it: root,
 * or the same user with kernel.yama.ptrace_scope 0.
 */
#define _GNU_SOURCE	/* memmem(3) */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * A mapping is read in chunks that overlap by the longest string less one
 * byte, so that a string across two chunks is still found once.
 */
#define CHUNK	(1024 * 1024)
#define RESERVED	(1UL << 30)	/* mappings larger than this are skipped */

/*
 * Scan [lo, hi) of the process for each needle.  Returns 1 if one was
 * found, 0 if not, -1 if the process is gone.
 */
static int
scan_region(int mem, unsigned long lo, unsigned long hi, const char *name,
    char **needles, int n, size_t maxlen, char *buf)
{
	unsigned long at = lo;
	int i, found = 0;

	while (at < hi) {
		size_t want = hi - at > CHUNK ? CHUNK : hi - at;
		ssize_t got = pread(mem, buf, want, (off_t)at);
		const char *p;

		/* A page that cannot be read (EIO: a guard page, say) holds
		 * nothing to leak; anything else means the process is gone. */
		if (got == -1 && errno == EIO)
			return found;
		if (got <= 0)
			return -1;
		/* All zero (memory never written): nothing to look for. */
		if (buf[0] == 0 && memcmp(buf, buf + 1, (size_t)got - 1) == 0)
			goto next;
		for (i = 0; i < n; i++) {
			size_t len = strlen(needles[i]);
			const char *end = buf + got;

			for (p = buf; (size_t)(end - p) >= len &&
			    (p = memmem(p, (size_t)(end - p), needles[i], len)) != NULL;
			    p++) {
				/* Skip a match wholly inside the overlap: the next
				 * chunk starts there and will report it. */
				if ((size_t)got == want && at + (unsigned long)got < hi &&
				    (size_t)(p - buf) > (size_t)got - maxlen)
					break;
				printf("%d 0x%lx %s\n", i + 1,
				    at + (unsigned long)(p - buf), name);
				found = 1;
			}
		}
next:
		if ((size_t)got < want || at + (unsigned long)got >= hi)
			at += (unsigned long)got;
		else
			at += (unsigned long)got - (maxlen - 1);
	}
	return found;
}

int
main(int argc, char *argv[])
{
	char path[64], line[4096], *buf;
	FILE *maps;
	size_t maxlen = 1;
	int i, mem, found = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: memscan PID STRING...\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		size_t len = strlen(argv[i]);

		if (len == 0 || len >= CHUNK) {
			fprintf(stderr, "memscan: string %d: empty or too long\n",
			    i - 1);
			return 2;
		}
		if (len > maxlen)
			maxlen = len;
	}
	snprintf(path, sizeof(path), "/proc/%s/maps", argv[1]);
	if ((maps = fopen(path, "r")) == NULL) {
		fprintf(stderr, "memscan: %s: %s\n", path, strerror(errno));
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%s/mem", argv[1]);
	if ((mem = open(path, O_RDONLY)) == -1) {
		fprintf(stderr, "memscan: %s: %s\n", path, strerror(errno));
		return 2;
	}
	if ((buf = malloc(CHUNK)) == NULL) {
		fprintf(stderr, "memscan: out of memory\n");
		return 2;
	}
	while (fgets(line, sizeof(line), maps) != NULL) {
		unsigned long lo, hi;
		char perms[8], name[4096] = "[anonymous]";

		/* lo-hi perms offset dev inode [name] */
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095[^\n]", &lo, &hi,
		    perms, name) < 3)
			continue;
		/* Writable and private: where a process keeps what it made.
		 * Read-only mappings hold the program, not its data. */
		if (perms[0] != 'r' || perms[1] != 'w' || perms[3] != 'p')
			continue;
		/* Address space reserved, not memory filled: AddressSanitizer's
		 * shadow (terabytes), read as zero pages. */
		if (hi - lo > RESERVED)
			continue;
		switch (scan_region(mem, lo, hi, name, argv + 2, argc - 2,
		    maxlen, buf)) {
		case -1:
			fprintf(stderr, "memscan: process %s is gone\n", argv[1]);
			return 2;
		case 1:
			found = 1;
			break;
		}
	}
	if (ferror(maps)) {
		fprintf(stderr, "memscan: reading the maps failed\n");
		return 2;
	}
	free(buf);
	fclose(maps);
	close(mem);
	/* A process that died while it was read may have been read short. */
	if (kill((pid_t)strtol(argv[1], NULL, 10), 0) == -1 && errno == ESRCH) {
		fprintf(stderr, "memscan: process %s is gone\n", argv[1]);
		return 2;
	}
	return found;
}
