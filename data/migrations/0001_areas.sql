-- 0001: spatial metadata and the administrative areas (provincia, distrito, corregimiento).
-- level: 0 provincia, 1 distrito, 2 corregimiento (enum rp_level). Codes are unique across
-- levels (INEC codes have 2, 4 and 6 digits). parent_code is not a foreign key: coverage is
-- partial per level, and a level may be re-imported before or after its parent.
SELECT InitSpatialMetaData(0, 'WGS84');

CREATE TABLE areas (
    code        TEXT PRIMARY KEY,
    level       INTEGER NOT NULL CHECK (level BETWEEN 0 AND 2),
    name        TEXT NOT NULL,
    parent_code TEXT,
    source      TEXT,
    imported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
SELECT AddGeometryColumn('areas', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1);
SELECT CreateSpatialIndex('areas', 'geom');
CREATE INDEX areas_level ON areas (level, code);
