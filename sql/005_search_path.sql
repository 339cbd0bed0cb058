-- 005_search_path.sql -- every function of schema mdauth resolves names in
-- pg_catalog and mdauth only, whoever calls it.
--
-- A function runs with its caller's search_path unless it sets its own.
-- A role that may create objects in a schema earlier on that path (public,
-- before PostgreSQL 15; a schema of its own; pg_temp) could then put a
-- function or operator of the same name in front of the one meant, and
-- have it run with the rights of whoever calls the mdauth function (the
-- CVE-2018-1058 pattern).  pg_catalog comes first so that no object can
-- shadow a built-in, mdauth second for the tables and functions here.
-- A migration that adds a function sets the same (tests/integration/
-- sql_admin.sh lists any function without it).

DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN
		SELECT p.oid::regprocedure
		FROM pg_catalog.pg_proc p
		JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'mdauth' AND p.prokind IN ('f', 'p')
	LOOP
		EXECUTE pg_catalog.format(
		    'ALTER ROUTINE %s SET search_path = pg_catalog, mdauth', f);
	END LOOP;
END
$$;
