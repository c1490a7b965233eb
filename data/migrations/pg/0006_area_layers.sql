-- 0006 (PostgreSQL): where each level of areas came from. origin 'default': the shipped data,
-- version the SHA-256 of its packed files (NULL: imported before versions were recorded);
-- 'import': an operator's `reporta import-areas`, which `reporta init` never overwrites with
-- the default. A database from before this migration got its levels by `reporta init`, whose
-- source is the default directory's <level>.geojson.xz, or by import-areas, whose source is
-- the operator's file. (ILIKE: SQLite's LIKE ignores ASCII case.)
CREATE TABLE area_layers (
    level       integer PRIMARY KEY CHECK (level BETWEEN 0 AND 2),
    origin      text COLLATE "C" NOT NULL CHECK (origin IN ('default', 'import')),
    version     text COLLATE "C",
    source      text COLLATE "C" NOT NULL,
    imported_at text COLLATE "C" NOT NULL DEFAULT reporta_now()
);
INSERT INTO area_layers (level, origin, version, source, imported_at)
    SELECT level,
           CASE WHEN count(DISTINCT coalesce(source, '')) = 1 AND max(source) ILIKE '%/' ||
                     CASE level WHEN 0 THEN 'provincias' WHEN 1 THEN 'distritos'
                                ELSE 'corregimientos' END || '.geojson.xz'
                THEN 'default' ELSE 'import' END,
           NULL, coalesce(max(source), 'unknown'), max(imported_at)
    FROM areas GROUP BY level;
