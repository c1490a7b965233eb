-- 0011: the outbox. Every change of a case (creation, status, transfer, tow, a citizen's update,
-- a rating, a follow-up), every photo added and every change of a tow writes an event row in
-- the transaction of the change, by the triggers below, whoever makes it. Each active webhook
-- gets a delivery row per event; the delivery threads POST them in order per stream (one case
-- or one tow) and delete a row once its endpoint answered 2xx. Events stay: they are also the
-- Open311 service request updates feed.
-- reporta: rebuilds referenced tables
-- (report_history gains the kinds 'update' - a citizen's or an Open311 client's update -,
-- 'rating' and 'followup'.)

CREATE TABLE report_history_new (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports (id),
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('created', 'status', 'transfer', 'confirmed', 'tow',
                                              'update', 'rating', 'followup')),
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

-- type: case.<history kind>, or for follow-ups case.followup_due, case.satisfaction_requested,
-- case.followup_done. A rating's comment is never in an event.
-- payload: the event's public JSON (no reporter field, no plate); the delivery adds its id,
-- and the reporter's contact or the plate for webhooks marked trusted.
CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    uid       TEXT NOT NULL UNIQUE,            -- idempotency id: receivers drop duplicates by it
    type      TEXT NOT NULL,                   -- case.created, case.status, ..., tow.status
    stream    TEXT NOT NULL,                   -- 'case:<id>' or 'tow:<id>': delivered in order
    report_id INTEGER REFERENCES reports (id),
    tow_id    INTEGER REFERENCES tows (id),
    history_id INTEGER,                        -- the report_history row it tells of, if any
    at        TEXT NOT NULL,
    payload   TEXT NOT NULL
);
CREATE INDEX events_at ON events (at, id);
CREATE INDEX events_report ON events (report_id, id) WHERE report_id IS NOT NULL;

-- source 'flag': from --webhook, re-synchronised at every start; 'admin': the API.
CREATE TABLE webhooks (
    id           INTEGER PRIMARY KEY,
    url          TEXT NOT NULL UNIQUE,
    secret       TEXT NOT NULL,                -- HMAC-SHA256 key of the signature header
    trusted      INTEGER NOT NULL DEFAULT 0 CHECK (trusted IN (0, 1)),
    active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    source       TEXT NOT NULL CHECK (source IN ('flag', 'admin')),
    delivered    INTEGER NOT NULL DEFAULT 0,
    failures     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- next_at: epoch milliseconds of the next attempt. A new event of a stream whose head is
-- backing off waits as long (so a poll skips it without looking at the head). The fan-out
-- names its index: without statistics the planner would walk the webhook's whole backlog
-- for max(next_at) on every insert (bench/run webhook: 5x fewer reports/s).
CREATE TABLE deliveries (
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id   INTEGER NOT NULL REFERENCES events (id),
    stream     TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (webhook_id, event_id)
) WITHOUT ROWID;
CREATE INDEX deliveries_due ON deliveries (webhook_id, next_at, event_id);
CREATE INDEX deliveries_stream ON deliveries (webhook_id, stream, event_id);

CREATE TRIGGER events_fan_out AFTER INSERT ON events
BEGIN
    INSERT INTO deliveries (webhook_id, event_id, stream, next_at)
        SELECT w.id, NEW.id, NEW.stream,
               coalesce((SELECT max(d.next_at) FROM deliveries d INDEXED BY deliveries_stream
                         WHERE d.webhook_id = w.id AND d.stream = NEW.stream), 0)
        FROM webhooks w WHERE w.active = 1;
END;

CREATE TRIGGER report_history_event AFTER INSERT ON report_history WHEN NEW.kind <> 'confirmed'
BEGIN
    INSERT INTO events (uid, type, stream, report_id, history_id, at, payload)
        SELECT lower(hex(randomblob(16))), t.type, 'case:' || NEW.report_id,
               NEW.report_id, NEW.id, NEW.at,
               json_object('type', t.type, 'at', NEW.at,
                   'case', json_object('id', r.case_no, 'service_code', r.service_code,
                       'status', r.status, 'entity', r.entity_code,
                       'provincia', r.provincia_code, 'distrito', r.distrito_code,
                       'corregimiento', r.corregimiento_code, 'created_at', r.created_at,
                       'due_at', r.due_at, 'closed_at', r.closed_at),
                   'change', json_object('kind', NEW.kind, 'from', NEW.from_value,
                       'to', NEW.to_value, 'note', CASE WHEN NEW.kind = 'rating' THEN NULL
                       ELSE NEW.note END, 'by', NEW.actor_role))
        FROM reports r,
             (SELECT CASE WHEN NEW.kind = 'followup' AND NEW.to_value = 'done'
                          THEN 'case.followup_done'
                     WHEN NEW.kind = 'followup' THEN 'case.' || NEW.to_value
                     ELSE 'case.' || NEW.kind END AS type) t
        WHERE r.id = NEW.report_id;
END;

CREATE TRIGGER photos_event AFTER INSERT ON photos
BEGIN
    INSERT INTO events (uid, type, stream, report_id, at, payload)
        SELECT lower(hex(randomblob(16))), 'case.photo', 'case:' || NEW.report_id, NEW.report_id,
               NEW.created_at,
               json_object('type', 'case.photo', 'at', NEW.created_at,
                   'case', json_object('id', r.case_no, 'service_code', r.service_code,
                       'status', r.status, 'entity', r.entity_code),
                   'photo', json_object('kind', NEW.kind, 'url', '/media/' || NEW.sha256 || '.jpg',
                       'by', CASE WHEN NEW.added_by = 'reporter' THEN 'reporter' ELSE 'staff' END))
        FROM reports r WHERE r.id = NEW.report_id;
END;

CREATE TRIGGER tow_history_event AFTER INSERT ON tow_history
BEGIN
    INSERT INTO events (uid, type, stream, tow_id, report_id, at, payload)
        SELECT lower(hex(randomblob(16))), 'tow.status', 'tow:' || NEW.tow_id, NEW.tow_id,
               t.report_id, NEW.at,
               json_object('type', 'tow.status', 'at', NEW.at,
                   'tow', json_object('id', t.id, 'status', NEW.to_status,
                       'entity', t.entity_code, 'distrito', t.distrito_code,
                       'yard', (SELECT y.code FROM yards y WHERE y.id = t.yard_id),
                       'case', (SELECT r.case_no FROM reports r WHERE r.id = t.report_id)),
                   'change', json_object('from', NEW.from_status, 'to', NEW.to_status,
                       'note', NEW.note, 'by', NEW.actor_role))
        FROM tows t WHERE t.id = NEW.tow_id;
END;
