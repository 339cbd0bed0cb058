/*
 * db_admin.c -- the admin command's database work.
 *
 *	admin_connect		connect, printing why not
 *	admin_migrate		apply pending migrations from sql/
 *	admin_user_add		create a user
 *	admin_user_passwd	mdauth.set_password()
 *	admin_user_disable	mdauth.disable_user()
 *	admin_user_enable	mdauth.enable_user()
 *	admin_user_delete	delete a user and its sessions
 *	admin_user_list		the users, as a table
 *	admin_session_list	live sessions, as a table
 *	admin_session_revoke	mdauth.revoke_session()
 *	admin_session_revoke_user mdauth.revoke_user_sessions()
 *	admin_prune		mdauth.prune()
 *
 * The session work goes through the SQL functions of sql/002_admin.sql
 * and sql/009_session_functions.sql (live sessions through the view
 * active_sessions, over live_sessions), so that what mdauthctl does is
 * exactly what an operator can do in psql, and revokes through the same
 * statement as the daemon.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_admin.h"

/* Held for the whole of a migrate run: one migrator at a time. */
#define MIGRATE_LOCK	"SELECT pg_advisory_lock(hashtext('mdauth.migrate'))"
#define MIGRATE_UNLOCK	"SELECT pg_advisory_unlock(hashtext('mdauth.migrate'))"

#define MIGRATIONS_MAX	1000

PGconn *
admin_connect(const char *conninfo)
{
	PGconn *conn = PQconnectdb(conninfo);

	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "mdauthctl: cannot connect to the database: %s",
		    PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* Run a statement without parameters.  Returns 1 on success. */
static int
admin_exec(PGconn *conn, const char *sql, const char *what)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		fprintf(stderr, "mdauthctl: %s: %s", what,
		    PQresultErrorMessage(res));
		PQclear(res);
		return 0;
	}
	PQclear(res);
	return 1;
}

static char *
admin_read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	long len;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)len + 1)) != NULL) {
		if (fread(text, 1, (size_t)len, f) != (size_t)len) {
			free(text);
			text = NULL;
		} else
			text[len] = '\0';
	}
	fclose(f);
	return text;
}

/* Is name "NNN_something.sql"?  Returns its number, or -1. */
static int
admin_migration_version(const char *name)
{
	size_t len = strlen(name);
	char *end;
	long v;

	if (len < 6 || strcmp(name + len - 4, ".sql") != 0 ||
	    name[0] < '0' || name[0] > '9')
		return -1;
	v = strtol(name, &end, 10);
	if (*end != '_' || v <= 0 || v >= 100000)
		return -1;
	return (int)v;
}

static int
admin_migration_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return admin_migration_version(x) - admin_migration_version(y);
}

/* Is a version recorded?  Returns 1 yes, 0 no, -1 on error. */
static int
admin_migration_applied(PGconn *conn, int version)
{
	char v[16];
	const char *values[1] = { v };
	PGresult *res;
	int rc;

	snprintf(v, sizeof(v), "%d", version);
	res = PQexecParams(conn, "SELECT 1 FROM mdauth.schema_migrations "
	    "WHERE version = $1", 1, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "mdauthctl: migrate: %s",
		    PQresultErrorMessage(res));
		rc = -1;
	} else
		rc = PQntuples(res) > 0;
	PQclear(res);
	return rc;
}

/* Apply one migration in a transaction.  Returns 1 on success. */
static int
admin_migration_apply(PGconn *conn, const char *dir, const char *name,
    int version)
{
	char path[4096], v[16];
	const char *values[2] = { v, name };
	PGresult *res;
	char *sql;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(v, sizeof(v), "%d", version);
	if ((sql = admin_read_file(path)) == NULL) {
		fprintf(stderr, "mdauthctl: migrate: %s: %s\n", path,
		    strerror(errno));
		return 0;
	}
	if (!admin_exec(conn, "BEGIN", "migrate")) {
		free(sql);
		return 0;
	}
	/* A migration file is trusted SQL from the package, run as written. */
	if (!admin_exec(conn, sql, name)) {
		free(sql);
		(void)admin_exec(conn, "ROLLBACK", "migrate");
		return 0;
	}
	free(sql);
	res = PQexecParams(conn, "INSERT INTO mdauth.schema_migrations "
	    "(version, name) VALUES ($1, $2)", 2, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "mdauthctl: migrate: %s: %s", name,
		    PQresultErrorMessage(res));
		PQclear(res);
		(void)admin_exec(conn, "ROLLBACK", "migrate");
		return 0;
	}
	PQclear(res);
	if (!admin_exec(conn, "COMMIT", "migrate"))
		return 0;
	printf("applied %s\n", name);
	return 1;
}

int
admin_migrate(PGconn *conn, const char *sqldir)
{
	char *names[MIGRATIONS_MAX];
	struct dirent *de;
	DIR *dir;
	size_t n = 0, i, applied = 0;
	int rc = 0, done;

	if ((dir = opendir(sqldir)) == NULL) {
		fprintf(stderr, "mdauthctl: migrate: %s: %s\n", sqldir,
		    strerror(errno));
		return 0;
	}
	while ((de = readdir(dir)) != NULL && n < MIGRATIONS_MAX)
		if (admin_migration_version(de->d_name) > 0 &&
		    (names[n] = strdup(de->d_name)) != NULL)
			n++;
	closedir(dir);
	if (n == 0) {
		fprintf(stderr, "mdauthctl: migrate: no NNN_name.sql files in "
		    "%s\n", sqldir);
		return 0;
	}
	qsort(names, n, sizeof(names[0]), admin_migration_cmp);
	for (i = 1; i < n; i++)
		if (admin_migration_version(names[i]) ==
		    admin_migration_version(names[i - 1])) {
			fprintf(stderr, "mdauthctl: migrate: %s and %s have "
			    "the same number\n", names[i - 1], names[i]);
			goto out;
		}

	if (!admin_exec(conn, MIGRATE_LOCK, "migrate: lock"))
		goto out;
	if (!admin_exec(conn, "SET client_min_messages = warning", "migrate") ||
	    !admin_exec(conn,
	    "CREATE SCHEMA IF NOT EXISTS mdauth;"
	    "CREATE TABLE IF NOT EXISTS mdauth.schema_migrations ("
	    " version integer PRIMARY KEY,"
	    " name text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now())",
	    "migrate: schema_migrations"))
		goto unlock;
	for (i = 0; i < n; i++) {
		int version = admin_migration_version(names[i]);

		if ((done = admin_migration_applied(conn, version)) == -1)
			goto unlock;
		if (done)
			continue;
		if (!admin_migration_apply(conn, sqldir, names[i], version))
			goto unlock;
		applied++;
	}
	if (applied == 0)
		printf("schema is up to date (%zu migrations)\n", n);
	rc = 1;
unlock:
	(void)admin_exec(conn, MIGRATE_UNLOCK, "migrate: unlock");
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	return rc;
}

enum admin_result
admin_user_add(PGconn *conn, const char *name, const char *hash)
{
	const char *values[2] = { name, hash };
	enum admin_result r = ADMIN_OK;
	PGresult *res;
	const char *state;

	res = PQexecParams(conn, "INSERT INTO mdauth.users (username, "
	    "password_hash) VALUES ($1, $2)", 2, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state != NULL && strcmp(state, "23505") == 0)
			r = ADMIN_EXISTS;	/* unique_violation */
		else {
			fprintf(stderr, "mdauthctl: user add: %s",
			    PQresultErrorMessage(res));
			r = ADMIN_FAILED;
		}
	}
	PQclear(res);
	return r;
}

enum admin_result
admin_user_passwd(PGconn *conn, const char *name, const char *hash,
    bool keep_sessions, long long *ended)
{
	const char *values[3] = { name, hash, keep_sessions ? "true" : "false" };
	enum admin_result r = ADMIN_OK;
	const char *state;
	PGresult *res;

	*ended = 0;
	res = PQexecParams(conn, "SELECT mdauth.set_password($1, $2, $3)", 3,
	    NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state != NULL && strcmp(state, "P0002") == 0)
			r = ADMIN_NOT_FOUND;	/* no_data_found: no such user */
		else {
			fprintf(stderr, "mdauthctl: user passwd: %s",
			    PQresultErrorMessage(res));
			r = ADMIN_FAILED;
		}
	} else if (PQntuples(res) == 1)
		*ended = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return r;
}

/*
 * Run a parameterised statement.  Returns the result (PQclear it), or
 * NULL after printing the server's message.
 */
static PGresult *
admin_query(PGconn *conn, const char *what, const char *sql, int n,
    const char *const *values)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, values, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		fprintf(stderr, "mdauthctl: %s: %s", what,
		    PQresultErrorMessage(res));
		PQclear(res);
		return NULL;
	}
	return res;
}

/* Run a statement returning one boolean: true ADMIN_OK, false ADMIN_NOT_FOUND. */
static enum admin_result
admin_query_bool(PGconn *conn, const char *what, const char *sql,
    const char *arg)
{
	const char *values[1] = { arg };
	enum admin_result r;
	PGresult *res;

	if ((res = admin_query(conn, what, sql, 1, values)) == NULL)
		return ADMIN_FAILED;
	r = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't' ?
	    ADMIN_OK : ADMIN_NOT_FOUND;
	PQclear(res);
	return r;
}

/* Print a result as a table: a header, then columns padded to their widest. */
static void
admin_print_table(const PGresult *res)
{
	int rows = PQntuples(res), cols = PQnfields(res), r, c;
	size_t width[32];

	if (cols > 32)
		cols = 32;
	for (c = 0; c < cols; c++) {
		width[c] = strlen(PQfname(res, c));
		for (r = 0; r < rows; r++) {
			size_t len = PQgetisnull(res, r, c) ? 1 :
			    strlen(PQgetvalue(res, r, c));

			if (len > width[c])
				width[c] = len;
		}
	}
	for (r = -1; r < rows; r++) {
		for (c = 0; c < cols; c++) {
			const char *v = r < 0 ? PQfname(res, c) :
			    PQgetisnull(res, r, c) ? "-" : PQgetvalue(res, r, c);

			size_t k, len = strlen(v);

			/* Stored text (a device label) must not drive the terminal. */
			for (k = 0; k < len; k++)
				putchar((unsigned char)v[k] < 0x20 ||
				    v[k] == 0x7f ? '?' : v[k]);
			if (c == cols - 1)
				putchar('\n');
			else
				printf("%*s", (int)(width[c] - len + 2), "");
		}
	}
}

#define ADMIN_TIME(col) \
	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

enum admin_result
admin_user_disable(PGconn *conn, const char *name)
{
	return admin_query_bool(conn, "user disable",
	    "SELECT mdauth.disable_user($1)", name);
}

enum admin_result
admin_user_enable(PGconn *conn, const char *name)
{
	return admin_query_bool(conn, "user enable",
	    "SELECT mdauth.enable_user($1)", name);
}

enum admin_result
admin_user_delete(PGconn *conn, const char *name)
{
	/* The sessions go with the user (ON DELETE CASCADE). */
	return admin_query_bool(conn, "user delete",
	    "WITH d AS (DELETE FROM mdauth.users "
	    "WHERE lower(username) = lower($1) RETURNING 1) "
	    "SELECT count(*) > 0 FROM d", name);
}

enum admin_result
admin_user_list(PGconn *conn)
{
	PGresult *res = admin_query(conn, "user list",
	    "SELECT u.id, u.username, " ADMIN_TIME("u.created_at")
	    " AS created_at, " ADMIN_TIME("u.disabled_at") " AS disabled_at,"
	    " (SELECT count(*) FROM mdauth.active_sessions a"
	    "  WHERE a.user_id = u.id) AS sessions"
	    " FROM mdauth.users u ORDER BY u.id", 0, NULL);

	if (res == NULL)
		return ADMIN_FAILED;
	admin_print_table(res);
	PQclear(res);
	return ADMIN_OK;
}

/* Does the user exist?  ADMIN_OK or ADMIN_NOT_FOUND (or ADMIN_FAILED). */
static enum admin_result
admin_user_exists(PGconn *conn, const char *name)
{
	return admin_query_bool(conn, "user",
	    "SELECT EXISTS (SELECT 1 FROM mdauth.users "
	    "WHERE lower(username) = lower($1))", name);
}

enum admin_result
admin_session_list(PGconn *conn, const char *name)
{
	const char *values[1] = { name };
	enum admin_result r;
	PGresult *res;

	if (name != NULL && (r = admin_user_exists(conn, name)) != ADMIN_OK)
		return r;
	res = admin_query(conn, "session list",
	    "SELECT session_id, username, device, ip, "
	    ADMIN_TIME("last_used_at") " AS last_used_at, "
	    ADMIN_TIME("expires_at") " AS expires_at"
	    " FROM mdauth.active_sessions"
	    " WHERE $1::text IS NULL OR lower(username) = lower($1)"
	    " ORDER BY lower(username), last_used_at DESC", 1, values);
	if (res == NULL)
		return ADMIN_FAILED;
	admin_print_table(res);
	PQclear(res);
	return ADMIN_OK;
}

enum admin_result
admin_session_revoke(PGconn *conn, const char *id)
{
	return admin_query_bool(conn, "session revoke",
	    "SELECT mdauth.revoke_session($1::uuid)", id);
}

enum admin_result
admin_session_revoke_user(PGconn *conn, const char *name, long long *count)
{
	const char *values[1] = { name };
	enum admin_result r;
	PGresult *res;

	*count = 0;
	if ((r = admin_user_exists(conn, name)) != ADMIN_OK)
		return r;
	if ((res = admin_query(conn, "session revoke",
	    "SELECT mdauth.revoke_user_sessions($1)", 1, values)) == NULL)
		return ADMIN_FAILED;
	*count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return ADMIN_OK;
}

enum admin_result
admin_prune(PGconn *conn, long long *sessions, long long *events)
{
	PGresult *res = admin_query(conn, "prune",
	    "SELECT sessions_deleted, events_deleted FROM mdauth.prune()",
	    0, NULL);

	if (res == NULL)
		return ADMIN_FAILED;
	*sessions = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	*events = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	return ADMIN_OK;
}
