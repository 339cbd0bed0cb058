-- 008_username_controls.sql -- no control character in a username, C1
-- included, whatever the database's locale.
--
-- users_username_check (003) refuses '[[:cntrl:]]': C0 and DEL always,
-- but the C1 controls U+0080 to U+009F only where the database's LC_CTYPE
-- says they are controls (not under the C locale).  A terminal may read
-- U+009B as CSI, and the daemon refuses such names at login (400), so the
-- rule is spelt out by code point here: C0 (NUL cannot be in text), DEL
-- and C1, the same as mdauthctl's (text_no_control in app/text.c).
--
-- Rows written before could hold a C1 character.  The constraint is added
-- NOT VALID, which holds for every row written from now on at once, then
-- validated only if no row breaks it: the migration never fails on old
-- data, and a name to fix is reported rather than left silently unchecked.
-- Such a user cannot log in (400) and its row cannot be updated until it
-- is renamed; once none is left, run
--   ALTER TABLE mdauth.users VALIDATE CONSTRAINT users_username_no_control;
ALTER TABLE mdauth.users ADD CONSTRAINT users_username_no_control
    CHECK (username !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID;

DO $$
DECLARE
	n bigint;
BEGIN
	SELECT pg_catalog.count(*) INTO n FROM mdauth.users
	 WHERE username OPERATOR(pg_catalog.~) '[\u0001-\u001f\u007f-\u009f]';
	IF n = 0 THEN
		ALTER TABLE mdauth.users VALIDATE CONSTRAINT users_username_no_control;
	ELSE
		RAISE WARNING '% username(s) contain a C1 control character (U+0080 to U+009F): rename them, then run ALTER TABLE mdauth.users VALIDATE CONSTRAINT users_username_no_control', n;
	END IF;
END
$$;
