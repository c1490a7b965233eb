-- 0012: satisfaction and follow-up. A reporter rates a closed case once (ratings; the score
-- is also on the case, for the statistics; the comment is for staff only). A case open 30
-- days with no change, and a case closed, raise a follow-up for the contact centre
-- (followups, and a history row of kind 'followup' whose event is case.followup_due or
-- case.satisfaction_requested). followed_up_at: when the citizen first heard of progress - the
-- first change after creation, or a follow-up done; the scorecard counts cases followed up
-- within 30 days. The statistics triggers of 0008 are made again with the new sums.

ALTER TABLE reports ADD COLUMN rating INTEGER;
ALTER TABLE reports ADD COLUMN followed_up_at TEXT;
CREATE INDEX reports_closed ON reports (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX reports_open_updated ON reports (updated_at)
    WHERE status IN ('received', 'assigned', 'in_progress');

CREATE TABLE ratings (
    report_id INTEGER PRIMARY KEY REFERENCES reports (id),
    score     INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment   TEXT,                              -- staff of the entity and admins only
    reopened  INTEGER NOT NULL DEFAULT 0 CHECK (reopened IN (0, 1)),
    at        TEXT NOT NULL
);

CREATE TABLE followups (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports (id),
    kind        TEXT NOT NULL CHECK (kind IN ('followup_due', 'satisfaction_requested')),
    entity_code TEXT NOT NULL,
    raised_at   TEXT NOT NULL,
    done_at     TEXT,
    done_by     TEXT,
    note        TEXT
);
CREATE INDEX followups_open ON followups (entity_code, raised_at) WHERE done_at IS NULL;
CREATE INDEX followups_report ON followups (report_id, kind, raised_at);

-- a follow-up raised is a history row (and so an event: case.followup_due,
-- case.satisfaction_requested) of its case
CREATE TRIGGER followups_history AFTER INSERT ON followups
BEGIN
    INSERT INTO report_history (report_id, at, kind, actor, actor_role, to_value)
        VALUES (NEW.report_id, NEW.raised_at, 'followup', 'system', 'system', NEW.kind);
END;

-- the first change after creation (or a follow-up done) is the citizen's first news
CREATE TRIGGER report_history_followed_up AFTER INSERT ON report_history
    WHEN NEW.kind IN ('status', 'transfer', 'tow') OR (NEW.kind = 'followup' AND NEW.to_value = 'done')
BEGIN
    UPDATE reports SET followed_up_at = NEW.at WHERE id = NEW.report_id AND followed_up_at IS NULL;
END;

-- cases from before: their first news from their history
UPDATE reports SET followed_up_at = (SELECT min(h.at) FROM report_history h
    WHERE h.report_id = reports.id AND h.kind IN ('status', 'transfer', 'tow'));

ALTER TABLE stats_daily ADD COLUMN ratings INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stats_daily ADD COLUMN rating_sum INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stats_daily ADD COLUMN followed_up INTEGER NOT NULL DEFAULT 0;
UPDATE stats_daily SET followed_up = f.n
    FROM (SELECT date(created_at, '-5 hours') AS day, entity_code AS e, service_code AS s,
                 coalesce(provincia_code, '') AS p, coalesce(distrito_code, '') AS d,
                 coalesce(corregimiento_code, '') AS c, count(*) AS n
          FROM reports WHERE followed_up_at IS NOT NULL
               AND unixepoch(followed_up_at) - unixepoch(created_at) <= 2592000
          GROUP BY 1, 2, 3, 4, 5, 6) AS f
    WHERE stats_daily.day = f.day AND stats_daily.entity_code = f.e
      AND stats_daily.service_code = f.s AND stats_daily.provincia_code = f.p
      AND stats_daily.distrito_code = f.d AND stats_daily.corregimiento_code = f.c;

DROP TRIGGER reports_stats_insert;
DROP TRIGGER reports_stats_update;
DROP TRIGGER reports_stats_delete;

CREATE TRIGGER reports_stats_insert AFTER INSERT ON reports
BEGIN
    INSERT INTO stats_daily (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, received, open, closed, closed_in_sla, confirmations, ratings, rating_sum, followed_up)
        VALUES (date(NEW.created_at, '-5 hours'), NEW.entity_code, NEW.service_code, coalesce(NEW.provincia_code, ''), coalesce(NEW.distrito_code, ''), coalesce(NEW.corregimiento_code, ''), +1, +((NEW.closed_at IS NOT NULL) = 0), +(NEW.closed_at IS NOT NULL),
                +((NEW.closed_at IS NOT NULL) AND NEW.closed_at <= NEW.due_at), +NEW.confirmations, +(NEW.rating IS NOT NULL), +coalesce(NEW.rating, 0),
                +(NEW.followed_up_at IS NOT NULL AND unixepoch(NEW.followed_up_at) - unixepoch(NEW.created_at) <= 2592000))
        ON CONFLICT DO UPDATE SET received = received + excluded.received, open = open + excluded.open,
            closed = closed + excluded.closed, closed_in_sla = closed_in_sla + excluded.closed_in_sla,
            confirmations = confirmations + excluded.confirmations, ratings = ratings + excluded.ratings,
            rating_sum = rating_sum + excluded.rating_sum, followed_up = followed_up + excluded.followed_up;
    INSERT INTO stats_close_hours (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, hours, n)
        SELECT date(NEW.created_at, '-5 hours'), NEW.entity_code, NEW.service_code, coalesce(NEW.provincia_code, ''), coalesce(NEW.distrito_code, ''), coalesce(NEW.corregimiento_code, ''), (unixepoch(NEW.closed_at) - unixepoch(NEW.created_at)) / 3600, +1
        WHERE NEW.closed_at IS NOT NULL
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
    INSERT INTO stats_open_due (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, due_at, n)
        SELECT date(NEW.created_at, '-5 hours'), NEW.entity_code, NEW.service_code, coalesce(NEW.provincia_code, ''), coalesce(NEW.distrito_code, ''), coalesce(NEW.corregimiento_code, ''), NEW.due_at, +1 WHERE NEW.closed_at IS NULL
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER reports_stats_update AFTER UPDATE OF status, closed_at, entity_code, service_code,
    provincia_code, distrito_code, corregimiento_code, confirmations, due_at, created_at, rating,
    followed_up_at ON reports
BEGIN
    INSERT INTO stats_daily (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, received, open, closed, closed_in_sla, confirmations, ratings, rating_sum, followed_up)
        VALUES (date(OLD.created_at, '-5 hours'), OLD.entity_code, OLD.service_code, coalesce(OLD.provincia_code, ''), coalesce(OLD.distrito_code, ''), coalesce(OLD.corregimiento_code, ''), -1, -((OLD.closed_at IS NOT NULL) = 0), -(OLD.closed_at IS NOT NULL),
                -((OLD.closed_at IS NOT NULL) AND OLD.closed_at <= OLD.due_at), -OLD.confirmations, -(OLD.rating IS NOT NULL), -coalesce(OLD.rating, 0),
                -(OLD.followed_up_at IS NOT NULL AND unixepoch(OLD.followed_up_at) - unixepoch(OLD.created_at) <= 2592000))
        ON CONFLICT DO UPDATE SET received = received + excluded.received, open = open + excluded.open,
            closed = closed + excluded.closed, closed_in_sla = closed_in_sla + excluded.closed_in_sla,
            confirmations = confirmations + excluded.confirmations, ratings = ratings + excluded.ratings,
            rating_sum = rating_sum + excluded.rating_sum, followed_up = followed_up + excluded.followed_up;
    INSERT INTO stats_close_hours (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, hours, n)
        SELECT date(OLD.created_at, '-5 hours'), OLD.entity_code, OLD.service_code, coalesce(OLD.provincia_code, ''), coalesce(OLD.distrito_code, ''), coalesce(OLD.corregimiento_code, ''), (unixepoch(OLD.closed_at) - unixepoch(OLD.created_at)) / 3600, -1
        WHERE OLD.closed_at IS NOT NULL
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
    INSERT INTO stats_open_due (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, due_at, n)
        SELECT date(OLD.created_at, '-5 hours'), OLD.entity_code, OLD.service_code, coalesce(OLD.provincia_code, ''), coalesce(OLD.distrito_code, ''), coalesce(OLD.corregimiento_code, ''), OLD.due_at, -1 WHERE OLD.closed_at IS NULL
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
    DELETE FROM stats_daily WHERE day = date(OLD.created_at, '-5 hours') AND entity_code = OLD.entity_code AND service_code = OLD.service_code AND provincia_code = coalesce(OLD.provincia_code, '') AND distrito_code = coalesce(OLD.distrito_code, '') AND corregimiento_code = coalesce(OLD.corregimiento_code, '') AND received = 0;
    DELETE FROM stats_close_hours WHERE day = date(OLD.created_at, '-5 hours') AND entity_code = OLD.entity_code AND service_code = OLD.service_code AND provincia_code = coalesce(OLD.provincia_code, '') AND distrito_code = coalesce(OLD.distrito_code, '') AND corregimiento_code = coalesce(OLD.corregimiento_code, '') AND OLD.closed_at IS NOT NULL
        AND hours = (unixepoch(OLD.closed_at) - unixepoch(OLD.created_at)) / 3600 AND n = 0;
    DELETE FROM stats_open_due WHERE day = date(OLD.created_at, '-5 hours') AND entity_code = OLD.entity_code AND service_code = OLD.service_code AND provincia_code = coalesce(OLD.provincia_code, '') AND distrito_code = coalesce(OLD.distrito_code, '') AND corregimiento_code = coalesce(OLD.corregimiento_code, '') AND OLD.closed_at IS NULL
        AND due_at = OLD.due_at AND n = 0;
    INSERT INTO stats_daily (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, received, open, closed, closed_in_sla, confirmations, ratings, rating_sum, followed_up)
        VALUES (date(NEW.created_at, '-5 hours'), NEW.entity_code, NEW.service_code, coalesce(NEW.provincia_code, ''), coalesce(NEW.distrito_code, ''), coalesce(NEW.corregimiento_code, ''), +1, +((NEW.closed_at IS NOT NULL) = 0), +(NEW.closed_at IS NOT NULL),
                +((NEW.closed_at IS NOT NULL) AND NEW.closed_at <= NEW.due_at), +NEW.confirmations, +(NEW.rating IS NOT NULL), +coalesce(NEW.rating, 0),
                +(NEW.followed_up_at IS NOT NULL AND unixepoch(NEW.followed_up_at) - unixepoch(NEW.created_at) <= 2592000))
        ON CONFLICT DO UPDATE SET received = received + excluded.received, open = open + excluded.open,
            closed = closed + excluded.closed, closed_in_sla = closed_in_sla + excluded.closed_in_sla,
            confirmations = confirmations + excluded.confirmations, ratings = ratings + excluded.ratings,
            rating_sum = rating_sum + excluded.rating_sum, followed_up = followed_up + excluded.followed_up;
    INSERT INTO stats_close_hours (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, hours, n)
        SELECT date(NEW.created_at, '-5 hours'), NEW.entity_code, NEW.service_code, coalesce(NEW.provincia_code, ''), coalesce(NEW.distrito_code, ''), coalesce(NEW.corregimiento_code, ''), (unixepoch(NEW.closed_at) - unixepoch(NEW.created_at)) / 3600, +1
        WHERE NEW.closed_at IS NOT NULL
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
    INSERT INTO stats_open_due (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, due_at, n)
        SELECT date(NEW.created_at, '-5 hours'), NEW.entity_code, NEW.service_code, coalesce(NEW.provincia_code, ''), coalesce(NEW.distrito_code, ''), coalesce(NEW.corregimiento_code, ''), NEW.due_at, +1 WHERE NEW.closed_at IS NULL
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER reports_stats_delete AFTER DELETE ON reports
BEGIN
    INSERT INTO stats_daily (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, received, open, closed, closed_in_sla, confirmations, ratings, rating_sum, followed_up)
        VALUES (date(OLD.created_at, '-5 hours'), OLD.entity_code, OLD.service_code, coalesce(OLD.provincia_code, ''), coalesce(OLD.distrito_code, ''), coalesce(OLD.corregimiento_code, ''), -1, -((OLD.closed_at IS NOT NULL) = 0), -(OLD.closed_at IS NOT NULL),
                -((OLD.closed_at IS NOT NULL) AND OLD.closed_at <= OLD.due_at), -OLD.confirmations, -(OLD.rating IS NOT NULL), -coalesce(OLD.rating, 0),
                -(OLD.followed_up_at IS NOT NULL AND unixepoch(OLD.followed_up_at) - unixepoch(OLD.created_at) <= 2592000))
        ON CONFLICT DO UPDATE SET received = received + excluded.received, open = open + excluded.open,
            closed = closed + excluded.closed, closed_in_sla = closed_in_sla + excluded.closed_in_sla,
            confirmations = confirmations + excluded.confirmations, ratings = ratings + excluded.ratings,
            rating_sum = rating_sum + excluded.rating_sum, followed_up = followed_up + excluded.followed_up;
    INSERT INTO stats_close_hours (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, hours, n)
        SELECT date(OLD.created_at, '-5 hours'), OLD.entity_code, OLD.service_code, coalesce(OLD.provincia_code, ''), coalesce(OLD.distrito_code, ''), coalesce(OLD.corregimiento_code, ''), (unixepoch(OLD.closed_at) - unixepoch(OLD.created_at)) / 3600, -1
        WHERE OLD.closed_at IS NOT NULL
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
    INSERT INTO stats_open_due (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, due_at, n)
        SELECT date(OLD.created_at, '-5 hours'), OLD.entity_code, OLD.service_code, coalesce(OLD.provincia_code, ''), coalesce(OLD.distrito_code, ''), coalesce(OLD.corregimiento_code, ''), OLD.due_at, -1 WHERE OLD.closed_at IS NULL
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
    DELETE FROM stats_daily WHERE day = date(OLD.created_at, '-5 hours') AND entity_code = OLD.entity_code AND service_code = OLD.service_code AND provincia_code = coalesce(OLD.provincia_code, '') AND distrito_code = coalesce(OLD.distrito_code, '') AND corregimiento_code = coalesce(OLD.corregimiento_code, '') AND received = 0;
    DELETE FROM stats_close_hours WHERE day = date(OLD.created_at, '-5 hours') AND entity_code = OLD.entity_code AND service_code = OLD.service_code AND provincia_code = coalesce(OLD.provincia_code, '') AND distrito_code = coalesce(OLD.distrito_code, '') AND corregimiento_code = coalesce(OLD.corregimiento_code, '') AND OLD.closed_at IS NOT NULL
        AND hours = (unixepoch(OLD.closed_at) - unixepoch(OLD.created_at)) / 3600 AND n = 0;
    DELETE FROM stats_open_due WHERE day = date(OLD.created_at, '-5 hours') AND entity_code = OLD.entity_code AND service_code = OLD.service_code AND provincia_code = coalesce(OLD.provincia_code, '') AND distrito_code = coalesce(OLD.distrito_code, '') AND corregimiento_code = coalesce(OLD.corregimiento_code, '') AND OLD.closed_at IS NULL
        AND due_at = OLD.due_at AND n = 0;
END;

