/*
 * conf.h -- the configuration file (mdauth.conf).
 *
 * "key = value" lines, "#" comment lines, blank lines.  Every key of the
 * contract is known; an unknown key or a bad value is an error that names
 * the file and line.  (Named conf.h because autoconf owns config.h.)
 */
#ifndef MDAUTH_CONF_H
#define MDAUTH_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "netaddr.h"

#define CONF_DEFAULT_PATH	SYSCONFDIR "/mdauth/mdauth.conf"

enum session_policy {
	SESSION_POLICY_EVICT_OLDEST,
	SESSION_POLICY_REJECT,
	SESSION_POLICY__MAX
};

extern const char *const session_policy_names[SESSION_POLICY__MAX];

struct conf {
	char		*listen;		/* NULL: inherit the socket on fd 0 */
	unsigned	 listen_mode;
	int		 workers;
	char		*login_listen;		/* NULL: logins come on listen */
	int		 login_workers;		/* 0: the hash slots */
	int		 login_nice;		/* their nice(2) value */
	long		 max_requests;		/* 0: never retire */
	int		 shutdown_timeout;	/* seconds */
	char		*user;
	char		*group;
	char		*pid_file;
	char		*database;		/* libpq conninfo or URI */
	int		 db_timeout;		/* seconds */
	char		*realm;
	long		 token_ttl;		/* seconds, idle */
	long		 token_max_lifetime;	/* seconds, absolute */
	bool		 sliding_expiration;
	long		 touch_interval;	/* seconds */
	int		 max_sessions_per_user;
	enum session_policy session_limit_policy;
	uint32_t	 argon2_memory;		/* KiB */
	uint32_t	 argon2_iterations;
	uint32_t	 argon2_parallelism;
	uint32_t	 min_password_length;	/* characters, for new passwords */
	int		 max_concurrent_hashes;	/* 0: half the workers, at least 1 */
	int		 login_max_failures;
	long		 login_failure_window;	/* seconds */
	long		 login_lockout;		/* seconds */
	long		 login_max_delay;	/* seconds */
	int		 ip_max_failures;
	int		 ip_throttle_prefix6;	/* bits */
	bool		 require_tls;
	size_t		 max_body;		/* bytes */
	enum log_level	 log_level;
	int		 request_timeout;	/* seconds, every read */
	bool		 cache;			/* the validate cache */
	int		 cache_entries;
	int		 cache_max_age;		/* seconds */
	char		*notify_database;	/* NULL: database */
	char		*listen_allow;		/* as written */
	struct net_allow listen_allow_net;	/* ... parsed */
	struct net_allow web_server_addrs;	/* FCGI_WEB_SERVER_ADDRS; n 0: unset */
	/* Not a key: the mode of the file conf_load read (0 otherwise). */
	unsigned	 file_mode;
};

/* Fill in the defaults of every key.  Call before conf_parse/conf_load. */
void	conf_defaults(struct conf *conf);

/*
 * Parse a configuration held in memory; name is used in error messages.
 * Returns 1 on success, 0 on failure with a message "name:line: what" in err.
 */
int	conf_parse(struct conf *conf, const char *text, size_t len,
	    const char *name, char *err, size_t errlen)
	    __attribute__((warn_unused_result));

/* Read and parse a file.  Returns 1 on success, 0 on failure (see conf_parse). */
int	conf_load(struct conf *conf, const char *path, char *err, size_t errlen)
	    __attribute__((warn_unused_result));

/*
 * Whether the file conf_load read is readable by others (mode & 004)
 * while database holds a password (password= or a URI's user:password@):
 * the daemon warns of it at start and at each reload.
 */
bool	conf_password_exposed(const struct conf *conf);

/* The number of hash slots in effect (max_concurrent_hashes resolved). */
int	conf_hash_slots(const struct conf *conf);

/*
 * The workers that serve login_listen: login_workers, or when that is 0
 * the hash slots (conf_hash_slots, at most 256), so that each always
 * finds a slot; 0 when login_listen is not set.
 */
int	conf_login_workers(const struct conf *conf);

void	conf_free(struct conf *conf);

/*
 * The key table, for whoever lists the keys: tests/unit/test-conf-docs
 * checks mdauth.conf(5) and the sample file against it.  conf_key_name
 * returns NULL past the last key.  conf_key_value writes the value key i
 * has in conf as the file would spell it (0660, yes, evict_oldest, ...);
 * returns 1, or 0 when the key is unset or buf is too small.
 */
const char *conf_key_name(size_t i);
int	conf_key_value(const struct conf *conf, size_t i, char *buf,
	    size_t len) __attribute__((warn_unused_result));

#endif
