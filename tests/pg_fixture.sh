#!/bin/sh
# tests/pg_fixture.sh REPORTA_BIN - the fixture of the suite on PostgreSQL: with REPORTA_PG and
# REPORTA_PG_SUITE=1, (re)creates the database reporta_fixture on that cluster with the real
# `reporta init`; tests/it.h copies it (CREATE DATABASE ... TEMPLATE) for every server. It also
# gives that database the few SQLite functions the tests' own SQL uses to move cases in time
# and count rows behind the server's back: strftime('%Y-%m-%dT%H:%M:%SZ', time, modifiers...),
# date(time, modifiers...), unixepoch(time), hex(blob) and sum() over booleans. reporta itself never calls them.
# Without REPORTA_PG_SUITE=1 it does nothing.
set -eu
[ "${REPORTA_PG_SUITE:-}" = 1 ] && [ -n "${REPORTA_PG:-}" ] || exit 0
base=$REPORTA_PG
query=${base#postgresql://*/}
query=${query#*\?}
uri="postgresql:///reporta_fixture?$query"
psql "$base" -qAt -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS reporta_fixture WITH (FORCE)" \
    -c "CREATE DATABASE reporta_fixture"
"$1" init --db "$uri" >/dev/null
psql "$uri" -qAt -v ON_ERROR_STOP=1 <<'SQL'
CREATE FUNCTION strftime(fmt text, t text, VARIADIC mods text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    ts timestamptz := CASE WHEN t = 'now' THEN now() ELSE t::timestamptz END;
    m text;
BEGIN
    IF fmt <> '%Y-%m-%dT%H:%M:%SZ' THEN
        RAISE EXCEPTION 'strftime: only %%Y-%%m-%%dT%%H:%%M:%%SZ here, not %', fmt;
    END IF;
    FOREACH m IN ARRAY mods LOOP
        ts := ts + m::interval;
    END LOOP;
    RETURN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
END $$;
CREATE FUNCTION strftime(fmt text, t text) RETURNS text LANGUAGE sql AS
    $$ SELECT strftime(fmt, t, VARIADIC ARRAY[]::text[]) $$;
CREATE FUNCTION unixepoch(t text) RETURNS bigint LANGUAGE sql AS
    $$ SELECT extract(epoch FROM t::timestamptz)::bigint $$;
CREATE FUNCTION date(t text, VARIADIC mods text[]) RETURNS text LANGUAGE sql AS
    $$ SELECT left(strftime('%Y-%m-%dT%H:%M:%SZ', t, VARIADIC mods), 10) $$;
CREATE FUNCTION hex(b bytea) RETURNS text LANGUAGE sql AS $$ SELECT upper(encode(b, 'hex')) $$;
CREATE FUNCTION reporta_test_bool_add(acc bigint, v boolean) RETURNS bigint LANGUAGE sql AS
    $$ SELECT coalesce(acc, 0) + CASE WHEN v THEN 1 ELSE 0 END $$;
CREATE AGGREGATE sum(boolean) (SFUNC = reporta_test_bool_add, STYPE = bigint);
SQL
