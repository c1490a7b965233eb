-- 0007: towed vehicles. Yards (patios) where towed vehicles are kept, the trucks that tow them,
-- the trucks' positions, and the tows themselves with their history.
-- reporta: rebuilds referenced tables
-- (entities gains the kind 'contractor', a company the ATTT contracts to tow; report_history
-- gains the kind 'tow', a linked tow's change shown in the case's timeline.)

CREATE TABLE entities_new (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('national', 'utility', 'municipality', 'contractor')),
    area_code  TEXT,          -- municipalities: the distrito they govern
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
INSERT INTO entities_new (code, name, kind, area_code, active, created_at)
    SELECT code, name, kind, area_code, active, created_at FROM entities;
DROP TABLE entities;
ALTER TABLE entities_new RENAME TO entities;

CREATE TABLE report_history_new (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports (id),
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('created', 'status', 'transfer', 'confirmed', 'tow')),
    actor       TEXT NOT NULL,
    actor_role  TEXT NOT NULL,
    actor_entity TEXT,
    from_value  TEXT,
    to_value    TEXT,
    note        TEXT
);
INSERT INTO report_history_new SELECT * FROM report_history;
DROP TABLE report_history;
ALTER TABLE report_history_new RENAME TO report_history;
CREATE INDEX report_history_report ON report_history (report_id, id);

-- Fees in cents of a balboa (B/. 1 = US$ 1). geofence: a GeoJSON Polygon or MultiPolygon in
-- EPSG:4326, or radius_m around (lat, lon); one of the two. Hours and documents are free text
-- shown to drivers, in Spanish and English.
CREATE TABLE yards (
    id              INTEGER PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    address         TEXT NOT NULL,
    lat             REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon             REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    geofence        TEXT,
    radius_m        REAL CHECK (radius_m IS NULL OR radius_m BETWEEN 10 AND 5000),
    hours_es        TEXT NOT NULL,
    hours_en        TEXT NOT NULL,
    phone           TEXT,
    tow_fee_cents   INTEGER NOT NULL CHECK (tow_fee_cents BETWEEN 0 AND 100000000),
    daily_fee_cents INTEGER NOT NULL CHECK (daily_fee_cents BETWEEN 0 AND 100000000),
    documents_es    TEXT NOT NULL,
    documents_en    TEXT NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    updated_at      TEXT NOT NULL,
    CHECK ((geofence IS NULL) <> (radius_m IS NULL))
);

CREATE TABLE trucks (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    entity_code TEXT NOT NULL REFERENCES entities (code),
    plate       TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    updated_at  TEXT NOT NULL
);

-- One row per (truck, device time): a repeated point is the same point.
CREATE TABLE truck_positions (
    truck_id    INTEGER NOT NULL REFERENCES trucks (id),
    at          TEXT NOT NULL,            -- the device's time, UTC
    lat         REAL NOT NULL,
    lon         REAL NOT NULL,
    speed_kmh   REAL,
    heading     REAL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (truck_id, at)
) WITHOUT ROWID;

-- plate: normalised (server/plate.h). ticket: the ATTT boleta as written, shown to operators;
-- ticket_key its normalised SHA-256, compared by the driver lookup. The pickup's areas are
-- stored as located when the tow was created (statistics count tows per distrito and month).
CREATE TABLE tows (
    id                 INTEGER PRIMARY KEY,
    plate              TEXT NOT NULL,
    make               TEXT,
    colour             TEXT,
    vehicle_type       TEXT,
    lat                REAL NOT NULL,
    lon                REAL NOT NULL,
    provincia_code     TEXT,
    distrito_code      TEXT,
    corregimiento_code TEXT,
    address            TEXT,
    reason             TEXT NOT NULL,
    ticket             TEXT NOT NULL,
    ticket_key         BLOB NOT NULL CHECK (length(ticket_key) = 32),
    entity_code        TEXT NOT NULL REFERENCES entities (code),
    truck_id           INTEGER NOT NULL REFERENCES trucks (id),
    yard_id            INTEGER NOT NULL REFERENCES yards (id),
    report_id          INTEGER REFERENCES reports (id),
    status             TEXT NOT NULL CHECK (status IN ('requested', 'towing', 'at_yard',
                           'released', 'cancelled')),
    created_at         TEXT NOT NULL,
    towing_at          TEXT,
    at_yard_at         TEXT,
    released_at        TEXT,
    cancelled_at       TEXT,
    updated_at         TEXT NOT NULL
);
CREATE INDEX tows_plate ON tows (plate, id);
CREATE INDEX tows_active ON tows (status) WHERE status IN ('requested', 'towing', 'at_yard');
CREATE INDEX tows_distrito_month ON tows (distrito_code, created_at);
CREATE INDEX tows_report ON tows (report_id) WHERE report_id IS NOT NULL;

CREATE TABLE tow_history (
    id           INTEGER PRIMARY KEY,
    tow_id       INTEGER NOT NULL REFERENCES tows (id),
    at           TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    actor        TEXT NOT NULL,       -- 'key:<id>' or 'system' (arrival by geofence)
    actor_role   TEXT NOT NULL,
    note         TEXT
);
CREATE INDEX tow_history_tow ON tow_history (tow_id, id);
