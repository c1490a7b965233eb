#!/bin/sh
# tests/pg_sql_check.sh REPORTA_BIN PG_SQL_CHECK - every PostgreSQL statement of the store
# prepared on a database the real `reporta init` made (tests/pg_sql_check.c), including those no
# integration test happens to run. Needs REPORTA_PG (scripts/test starts a cluster); skipped
# (77) without it.
set -eu
[ -n "${REPORTA_PG:-}" ] || { echo "pg_sql_check: REPORTA_PG is not set: skipped"; exit 77; }
name="sqlcheck_$$"
uri="postgresql:///$name?${REPORTA_PG#*\?}"
psql "$REPORTA_PG" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $name"
trap 'psql "$REPORTA_PG" -qAt -c "DROP DATABASE IF EXISTS $name WITH (FORCE)"' EXIT
"$1" init --db "$uri" >/dev/null
"$2" "$uri"
