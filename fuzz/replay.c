/*
 * replay.c -- main() for running a fuzz target without libFuzzer: over
 * its seed corpus in "make check", or over given files to reproduce a
 * crash with any compiler.
 *
 *	fuzz/replay-NAME	 every file of $top_srcdir/fuzz/corpus/NAME
 *	fuzz/replay-NAME FILE... these files
 *
 * Prints TAP: one "ok" per input that went through the target.  A broken
 * contract or a sanitizer report aborts, which leaves the plan out: the
 * test harness counts that as an error, and the line before names the
 * input.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_count;
static int replay_failed;

/* Read a whole file.  Returns 1 with a malloc'd buffer, 0 on error. */
static int
replay_read(const char *path, uint8_t **data, size_t *size)
{
	FILE *f;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;
	int rc = 0;

	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	for (;;) {
		if (len == cap) {
			uint8_t *more;

			cap = cap == 0 ? 4096 : cap * 2;
			if ((more = realloc(buf, cap)) == NULL)
				goto out;
			buf = more;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f))
		goto out;
	*data = buf;
	*size = len;
	buf = NULL;
	rc = 1;
out:
	free(buf);
	fclose(f);
	return rc;
}

/* Run the target on one file and print its TAP line. */
static void
replay_file(const char *path, const char *label)
{
	uint8_t *data;
	size_t size;

	replay_count++;
	if (!replay_read(path, &data, &size)) {
		replay_failed++;
		printf("not ok %d - %s: %s\n", replay_count, label,
		    strerror(errno));
		return;
	}
	printf("# %s (%zu bytes)\n", label, size);
	fflush(stdout);
	/* The buffer is exactly the input, so that overreads are seen. */
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	printf("ok %d - %s\n", replay_count, label);
	fflush(stdout);
}

static int
replay_regular(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Every file of the corpus directory of target name, in name order. */
static void
replay_corpus(const char *name)
{
	const char *top = getenv("top_srcdir");
	struct dirent **ents;
	char dir[4096], path[8192], label[512];
	int n, i;

	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s",
	    top != NULL ? top : ".", name);
	if ((n = scandir(dir, &ents, replay_regular, alphasort)) < 0) {
		printf("not ok 1 - %s: %s\n", dir, strerror(errno));
		replay_count = replay_failed = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		snprintf(label, sizeof(label), "%s seed %s", name,
		    ents[i]->d_name);
		replay_file(path, label);
		free(ents[i]);
	}
	free(ents);
	if (n == 0) {
		printf("not ok 1 - %s: no seeds\n", dir);
		replay_count = replay_failed = 1;
	}
}

int
main(int argc, char *argv[])
{
	const char *base, *name;
	int i;

	base = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 :
	    argv[0];
	name = strncmp(base, "replay-", 7) == 0 ? base + 7 : base;
	if (argc > 1)
		for (i = 1; i < argc; i++)
			replay_file(argv[i], argv[i]);
	else
		replay_corpus(name);
	printf("1..%d\n", replay_count);
	return replay_failed == 0 ? 0 : 1;
}
