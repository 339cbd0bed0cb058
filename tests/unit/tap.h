/*
 * tap.h -- a few lines of TAP for the unit tests: each check prints
 * "ok N - name" or "not ok N - name"; tap_done() prints the plan and
 * returns the exit status.
 */
#ifndef MDAUTH_TAP_H
#define MDAUTH_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_count;
static int tap_failed;

__attribute__((format(printf, 2, 3)))
static int
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

/* Report where a failed check is, as a TAP comment. */
#define ok(cond, ...) \
	(tap_ok((cond), __VA_ARGS__) ? 1 : \
	 (printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond), 0))

static int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed == 0 ? 0 : 1;
}

#endif
