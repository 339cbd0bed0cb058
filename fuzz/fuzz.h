/*
 * fuzz.h -- what the fuzz targets share.
 *
 * Each fuzz-NAME.c defines LLVMFuzzerTestOneInput over one parser: it
 * runs the parser on the bytes and checks the contract of its header on
 * the result.  libFuzzer supplies main() for "make fuzz"; replay.c
 * supplies it for "make check", which runs the seed corpus.
 */
#ifndef MDAUTH_FUZZ_H
#define MDAUTH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A broken contract is a crash, so that libFuzzer keeps the input and
 * replay.c fails the test.
 */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: contract broken: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/*
 * A copy of the input in a buffer of exactly size bytes (at least 1), so
 * that AddressSanitizer catches a read past the length the parser was
 * given.  Never returns NULL.
 */
static inline char *
fuzz_copy(const uint8_t *data, size_t size)
{
	char *p = malloc(size > 0 ? size : 1);

	if (p == NULL)
		abort();
	if (size > 0)
		memcpy(p, data, size);
	return p;
}

#endif
