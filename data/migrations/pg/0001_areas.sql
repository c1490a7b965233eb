-- 0001 (PostgreSQL): PostGIS, the time helpers every later file uses, and the administrative
-- areas (provincia, distrito, corregimiento).
-- level: 0 provincia, 1 distrito, 2 corregimiento (enum rp_level). Codes are unique across
-- levels (INEC codes have 2, 4 and 6 digits). parent_code is not a foreign key: coverage is
-- partial per level, and a level may be re-imported before or after its parent.
-- Text columns are COLLATE "C": comparisons and ORDER BY are bytewise, as SQLite's BINARY,
-- whatever the database's locale (times are compared as text, codes sorted as bytes).
CREATE EXTENSION IF NOT EXISTS postgis;

-- Times are text, as on SQLite: 'YYYY-MM-DDTHH:MM:SSZ' (reporta_now) or, where SQLite keeps
-- milliseconds (%f), 'YYYY-MM-DDTHH:MM:SS.mmmZ' (reporta_now_ms). now() is the transaction's
-- start: every row a transaction writes gets the same time.
CREATE FUNCTION reporta_now() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
    RETURN to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
CREATE FUNCTION reporta_now_ms() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
    RETURN to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

-- SQLite's unixepoch(t): whole seconds since 1970 (fractions dropped).
CREATE FUNCTION reporta_epoch(t text) RETURNS bigint LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN floor(extract(epoch FROM t::timestamptz))::bigint;

-- SQLite's date(t, '-5 hours'): the Panama day (UTC-5, no daylight saving) of a UTC time.
CREATE FUNCTION reporta_day(t text) RETURNS text LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN to_char((t::timestamptz AT TIME ZONE 'UTC') - interval '5 hours', 'YYYY-MM-DD');

CREATE TABLE areas (
    code        text COLLATE "C" PRIMARY KEY,
    level       integer NOT NULL CHECK (level BETWEEN 0 AND 2),
    name        text COLLATE "C" NOT NULL,
    parent_code text COLLATE "C",
    source      text COLLATE "C",
    imported_at text COLLATE "C" NOT NULL DEFAULT reporta_now(),
    geom        geometry(MultiPolygon, 4326) NOT NULL
);
CREATE INDEX idx_areas_geom ON areas USING gist (geom);
CREATE INDEX areas_level ON areas (level, code);
