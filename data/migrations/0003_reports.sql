-- 0003: the service catalogue, routing rules and the cases themselves.

-- What citizens can report. attributes: Open311 attribute definitions (JSON array) or NULL.
CREATE TABLE services (
    code         TEXT PRIMARY KEY,
    name_es      TEXT NOT NULL,
    name_en      TEXT NOT NULL,
    grp          TEXT NOT NULL,
    sla_hours    INTEGER NOT NULL CHECK (sla_hours BETWEEN 1 AND 720), -- legal maximum: 30 days
    dup_radius_m REAL NOT NULL DEFAULT 50 CHECK (dup_radius_m BETWEEN 0 AND 1000),
    attributes   TEXT,
    active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);

-- Which entity handles a service where. area_code NULL: national. The most specific covering
-- area wins (corregimiento > distrito > provincia > national), then the higher priority.
-- to_municipality: the entity is the municipality of the case's distrito ('MUN-' || code);
-- when that entity does not exist the next rule decides. sla_hours overrides the service's.
CREATE TABLE routing_rules (
    id              INTEGER PRIMARY KEY,
    service_code    TEXT NOT NULL REFERENCES services (code),
    area_code       TEXT,
    entity_code     TEXT REFERENCES entities (code),
    to_municipality INTEGER NOT NULL DEFAULT 0 CHECK (to_municipality IN (0, 1)),
    priority        INTEGER NOT NULL DEFAULT 0,
    sla_hours       INTEGER CHECK (sla_hours IS NULL OR sla_hours BETWEEN 1 AND 720),
    note            TEXT,
    CHECK ((entity_code IS NULL) = (to_municipality = 1))
);
CREATE INDEX routing_rules_service ON routing_rules (service_code, area_code);

-- Case numbers YYYY-NNNNNN, sequential per year (Panama time).
CREATE TABLE case_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE reports (
    id                 INTEGER PRIMARY KEY,
    case_no            TEXT NOT NULL UNIQUE,
    token_hash         BLOB NOT NULL UNIQUE,      -- SHA-256 of the reporter's secret token
    service_code       TEXT NOT NULL REFERENCES services (code),
    status             TEXT NOT NULL CHECK (status IN ('received', 'assigned', 'in_progress',
                           'resolved', 'closed', 'rejected', 'duplicate')),
    lat                REAL NOT NULL,
    lon                REAL NOT NULL,
    provincia_code     TEXT,
    distrito_code      TEXT,
    corregimiento_code TEXT,
    snapped_m          REAL,
    location_source    TEXT NOT NULL DEFAULT 'device',
    address            TEXT,
    description        TEXT,
    attributes         TEXT,                      -- JSON object
    reporter_name      TEXT,                      -- private: staff of the entity and admins
    reporter_email     TEXT,
    reporter_phone     TEXT,
    device_id          TEXT,
    entity_code        TEXT NOT NULL REFERENCES entities (code),
    rule_id            INTEGER REFERENCES routing_rules (id) ON DELETE SET NULL,
    duplicate_of       INTEGER REFERENCES reports (id),
    confirmations      INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    due_at             TEXT NOT NULL,
    closed_at          TEXT
);
SELECT AddGeometryColumn('reports', 'geom', 4326, 'POINT', 'XY', 1);
SELECT CreateSpatialIndex('reports', 'geom');
CREATE INDEX reports_entity_status ON reports (entity_code, status, id);
CREATE INDEX reports_service_created ON reports (service_code, created_at);
CREATE INDEX reports_created ON reports (created_at);
CREATE INDEX reports_open_due ON reports (due_at) WHERE status IN ('received', 'assigned', 'in_progress');

-- Every change of a case: creation, status, transfer, confirmation.
CREATE TABLE report_history (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports (id),
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('created', 'status', 'transfer', 'confirmed')),
    actor       TEXT NOT NULL,                    -- 'key:<id>', 'reporter' or 'citizen'
    actor_role  TEXT NOT NULL,
    actor_entity TEXT,
    from_value  TEXT,
    to_value    TEXT,
    note        TEXT
);
CREATE INDEX report_history_report ON report_history (report_id, id);

-- "Me too": one per device (or anonymous, unlimited but rate-limited).
CREATE TABLE confirmations (
    id        INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports (id),
    device_id TEXT,
    at        TEXT NOT NULL,
    UNIQUE (report_id, device_id)
);

-- Idempotency-Key of report creation: the same key returns the same case, forever. token is
-- the reporter's secret as first issued, so a client whose first answer was lost still gets
-- it; only a caller presenting the same key and the same body can read it back.
CREATE TABLE idempotency_keys (
    key        TEXT PRIMARY KEY,
    body_hash  BLOB NOT NULL,
    report_id  INTEGER NOT NULL REFERENCES reports (id),
    token      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
