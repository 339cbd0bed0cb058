/*
 * log.h -- leveled logging to stderr or syslog.
 *
 * Every line carries the process id; callers add their own context
 * ("login: user 42: ...").  Nothing that reaches these functions may
 * contain a password or a token.
 */
#ifndef MDAUTH_LOG_H
#define MDAUTH_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
	LOG_LEVEL__MAX
};

extern const char *const log_level_names[LOG_LEVEL__MAX];

void	log_init(const char *ident, enum log_level level, bool use_syslog);
void	log_set_level(enum log_level level);
bool	log_enabled(enum log_level level);
void	log_msg(enum log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
