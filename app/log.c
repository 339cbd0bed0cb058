/*
 * log.c -- leveled logging to stderr or syslog.
 *
 *	log_init	choose the sink and threshold
 *	log_set_level	change the threshold (SIGHUP)
 *	log_enabled	is a level printed at all?
 *	log_msg		print one line
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

const char *const log_level_names[LOG_LEVEL__MAX] = {
	"debug",	/* LOG_LEVEL_DEBUG */
	"info",		/* LOG_LEVEL_INFO */
	"warning",	/* LOG_LEVEL_WARNING */
	"error",	/* LOG_LEVEL_ERROR */
};

static const int syslog_priorities[LOG_LEVEL__MAX] = {
	LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR,
};

static const char *log_ident = "mdauth";
static enum log_level log_threshold = LOG_LEVEL_INFO;
static bool log_syslog;

void
log_init(const char *ident, enum log_level level, bool use_syslog)
{
	log_ident = ident;
	log_threshold = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

bool
log_enabled(enum log_level level)
{
	return level >= log_threshold;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int saved = errno;	/* so that %m after us still means the caller's errno */

	if (level >= LOG_LEVEL__MAX || level < log_threshold)
		return;
	va_start(ap, fmt);
	errno = saved;
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	if (log_syslog) {
		syslog(syslog_priorities[level], "%s", line);
	} else {
		char stamp[32], out[sizeof(line) + 128];
		struct tm tm;
		time_t now = time(NULL);
		int n;

		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		/*
		 * One write(2) per line, so that lines of several workers never
		 * interleave; formatted here, as dprintf(3) costs an fstat and
		 * an lseek besides for each line.  A line cut at the buffer's
		 * end still ends with its newline.
		 */
		n = snprintf(out, sizeof(out), "%s %s[%ld]: %s: %s\n", stamp,
		    log_ident, (long)getpid(), log_level_names[level], line);
		if (n < 0)
			n = 0;
		if ((size_t)n >= sizeof(out)) {
			n = (int)sizeof(out) - 1;
			out[n - 1] = '\n';
		}
		if (write(STDERR_FILENO, out, (size_t)n) != n) {
			/* nowhere left to say so */
		}
	}
	errno = saved;
}
