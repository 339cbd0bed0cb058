/*
 * db_admin.h -- the admin command's database work: migrations and users.
 */
#ifndef MDAUTH_DB_ADMIN_H
#define MDAUTH_DB_ADMIN_H

#include <libpq-fe.h>

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
	ADMIN_RESULT__MAX
};

enum admin_result admin_user_add(PGconn *conn, const char *name,
	    const char *hash);
enum admin_result admin_user_passwd(PGconn *conn, const char *name,
	    const char *hash);

#endif
