-- 0002: the institutions cases are routed to, the API keys that act for them, and the audit
-- log of every write made with a key (or from the command line).
CREATE TABLE entities (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('national', 'utility', 'municipality')),
    area_code  TEXT,          -- municipalities: the distrito they govern
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- A key is shown once, at creation; only its SHA-256 is kept (keys are 256 random bits, so a
-- fast hash is enough: there is nothing to brute-force). prefix identifies a key in lists.
CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'tow_operator')),
    entity_code TEXT REFERENCES entities (code),
    prefix      TEXT NOT NULL,
    hash        BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    revoked_at  TEXT,
    CHECK (role <> 'staff' OR entity_code IS NOT NULL)
);

-- Append-only. actor: 'key:<id>' or 'cli'; before/after: JSON summaries of the target.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor        TEXT NOT NULL,
    actor_role   TEXT NOT NULL,
    actor_entity TEXT,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    before       TEXT,
    after        TEXT
);
CREATE INDEX audit_log_target ON audit_log (target, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
