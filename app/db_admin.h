/*
 * db_admin.h -- the admin command's database work: migrations and users.
 */
#ifndef MDAUTH_DB_ADMIN_H
#define MDAUTH_DB_ADMIN_H

#include <libpq-fe.h>
#include <stdbool.h>

/* Connect with an admin conninfo.  Returns NULL (message printed) on failure. */
PGconn	*admin_connect(const char *conninfo);

/*
 * Apply the numbered migrations NNN_name.sql of sqldir that are not yet in
 * mdauth.schema_migrations, each in its own transaction, in order, under
 * an advisory lock so that two runs never interleave.  Prints what it does.
 * Returns 1 on success, 0 on failure.
 */
int	admin_migrate(PGconn *conn, const char *sqldir);

enum admin_result {
	ADMIN_OK,
	ADMIN_EXISTS,		/* user add: the name is taken */
	ADMIN_NOT_FOUND,	/* no such user */
	ADMIN_FAILED,		/* printed */
};

enum admin_result admin_user_add(PGconn *conn, const char *name,
	    const char *hash);
/*
 * Set a user's password hash and, unless keep_sessions, end the user's
 * live sessions (mdauth.set_password()); *ended is how many.
 */
enum admin_result admin_user_passwd(PGconn *conn, const char *name,
	    const char *hash, bool keep_sessions, long long *ended);
enum admin_result admin_user_disable(PGconn *conn, const char *name);
enum admin_result admin_user_enable(PGconn *conn, const char *name);
enum admin_result admin_user_delete(PGconn *conn, const char *name);

/* Print the users, or the live sessions (of one user when name is set), as a table. */
enum admin_result admin_user_list(PGconn *conn);
enum admin_result admin_session_list(PGconn *conn, const char *name);

/* Revoke one live session by id (a valid uuid), or all of a user's (*count). */
enum admin_result admin_session_revoke(PGconn *conn, const char *id);
enum admin_result admin_session_revoke_user(PGconn *conn, const char *name,
	    long long *count);

/* Delete dead sessions and old events (mdauth.prune()). */
enum admin_result admin_prune(PGconn *conn, long long *sessions,
	    long long *events);

#endif
