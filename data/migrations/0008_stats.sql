-- 0008: statistics kept as cases change. Per Panama day (of creation) x entity x service x
-- area, the counts every statistic adds up; triggers on reports keep them exact in the very
-- transaction of each change (creation, status, transfer, confirmation, a re-keying of codes),
-- whoever makes it: a row's old contribution is taken away (rows left at zero are deleted)
-- and its new one added.
-- stats_close_hours: how many closed cases took each whole number of hours, in integer
-- seconds / 3600 (exact quantiles at one-hour resolution). stats_open_due: open cases by due
-- time ("overdue now" is a sum over due_at < now). Area codes are '' where a level did not
-- cover the case.

CREATE TABLE stats_daily (
    day TEXT NOT NULL, entity_code TEXT NOT NULL, service_code TEXT NOT NULL,
    provincia_code TEXT NOT NULL, distrito_code TEXT NOT NULL, corregimiento_code TEXT NOT NULL,
    received      INTEGER NOT NULL,
    open          INTEGER NOT NULL,
    closed        INTEGER NOT NULL,
    closed_in_sla INTEGER NOT NULL,
    confirmations INTEGER NOT NULL,
    PRIMARY KEY (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code)
) WITHOUT ROWID;

CREATE TABLE stats_close_hours (
    day TEXT NOT NULL, entity_code TEXT NOT NULL, service_code TEXT NOT NULL,
    provincia_code TEXT NOT NULL, distrito_code TEXT NOT NULL, corregimiento_code TEXT NOT NULL,
    hours INTEGER NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, hours)
) WITHOUT ROWID;

CREATE TABLE stats_open_due (
    day TEXT NOT NULL, entity_code TEXT NOT NULL, service_code TEXT NOT NULL,
    provincia_code TEXT NOT NULL, distrito_code TEXT NOT NULL, corregimiento_code TEXT NOT NULL,
    due_at TEXT NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, due_at)
) WITHOUT ROWID;
CREATE INDEX stats_open_due_at ON stats_open_due (due_at);

CREATE TRIGGER reports_stats_insert AFTER INSERT ON reports
BEGIN
    INSERT INTO stats_daily (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, received, open, closed, closed_in_sla, confirmations)
        VALUES (date(NEW.created_at, '-5 hours'), NEW.entity_code, NEW.service_code, coalesce(NEW.provincia_code, ''), coalesce(NEW.distrito_code, ''), coalesce(NEW.corregimiento_code, ''), +1, +((NEW.closed_at IS NOT NULL) = 0), +(NEW.closed_at IS NOT NULL),
                +((NEW.closed_at IS NOT NULL) AND NEW.closed_at <= NEW.due_at), +NEW.confirmations)
        ON CONFLICT DO UPDATE SET received = received + excluded.received, open = open + excluded.open,
            closed = closed + excluded.closed, closed_in_sla = closed_in_sla + excluded.closed_in_sla,
            confirmations = confirmations + excluded.confirmations;
    INSERT INTO stats_close_hours (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, hours, n)
        SELECT date(NEW.created_at, '-5 hours'), NEW.entity_code, NEW.service_code, coalesce(NEW.provincia_code, ''), coalesce(NEW.distrito_code, ''), coalesce(NEW.corregimiento_code, ''), (unixepoch(NEW.closed_at) - unixepoch(NEW.created_at)) / 3600, +1
        WHERE NEW.closed_at IS NOT NULL
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
    INSERT INTO stats_open_due (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, due_at, n)
        SELECT date(NEW.created_at, '-5 hours'), NEW.entity_code, NEW.service_code, coalesce(NEW.provincia_code, ''), coalesce(NEW.distrito_code, ''), coalesce(NEW.corregimiento_code, ''), NEW.due_at, +1 WHERE NEW.closed_at IS NULL
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER reports_stats_update AFTER UPDATE OF status, closed_at, entity_code, service_code,
    provincia_code, distrito_code, corregimiento_code, confirmations, due_at, created_at ON reports
BEGIN
    INSERT INTO stats_daily (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, received, open, closed, closed_in_sla, confirmations)
        VALUES (date(OLD.created_at, '-5 hours'), OLD.entity_code, OLD.service_code, coalesce(OLD.provincia_code, ''), coalesce(OLD.distrito_code, ''), coalesce(OLD.corregimiento_code, ''), -1, -((OLD.closed_at IS NOT NULL) = 0), -(OLD.closed_at IS NOT NULL),
                -((OLD.closed_at IS NOT NULL) AND OLD.closed_at <= OLD.due_at), -OLD.confirmations)
        ON CONFLICT DO UPDATE SET received = received + excluded.received, open = open + excluded.open,
            closed = closed + excluded.closed, closed_in_sla = closed_in_sla + excluded.closed_in_sla,
            confirmations = confirmations + excluded.confirmations;
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
    INSERT INTO stats_daily (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, received, open, closed, closed_in_sla, confirmations)
        VALUES (date(NEW.created_at, '-5 hours'), NEW.entity_code, NEW.service_code, coalesce(NEW.provincia_code, ''), coalesce(NEW.distrito_code, ''), coalesce(NEW.corregimiento_code, ''), +1, +((NEW.closed_at IS NOT NULL) = 0), +(NEW.closed_at IS NOT NULL),
                +((NEW.closed_at IS NOT NULL) AND NEW.closed_at <= NEW.due_at), +NEW.confirmations)
        ON CONFLICT DO UPDATE SET received = received + excluded.received, open = open + excluded.open,
            closed = closed + excluded.closed, closed_in_sla = closed_in_sla + excluded.closed_in_sla,
            confirmations = confirmations + excluded.confirmations;
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
    INSERT INTO stats_daily (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, received, open, closed, closed_in_sla, confirmations)
        VALUES (date(OLD.created_at, '-5 hours'), OLD.entity_code, OLD.service_code, coalesce(OLD.provincia_code, ''), coalesce(OLD.distrito_code, ''), coalesce(OLD.corregimiento_code, ''), -1, -((OLD.closed_at IS NOT NULL) = 0), -(OLD.closed_at IS NOT NULL),
                -((OLD.closed_at IS NOT NULL) AND OLD.closed_at <= OLD.due_at), -OLD.confirmations)
        ON CONFLICT DO UPDATE SET received = received + excluded.received, open = open + excluded.open,
            closed = closed + excluded.closed, closed_in_sla = closed_in_sla + excluded.closed_in_sla,
            confirmations = confirmations + excluded.confirmations;
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

-- what the database held before this migration
INSERT INTO stats_daily (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, received, open, closed, closed_in_sla, confirmations)
    SELECT date(created_at, '-5 hours'), entity_code, service_code, coalesce(provincia_code, ''),
           coalesce(distrito_code, ''), coalesce(corregimiento_code, ''), count(*),
           sum(closed_at IS NULL), sum(closed_at IS NOT NULL),
           sum(closed_at IS NOT NULL AND closed_at <= due_at), sum(confirmations)
    FROM reports GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO stats_close_hours (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, hours, n)
    SELECT date(created_at, '-5 hours'), entity_code, service_code, coalesce(provincia_code, ''),
           coalesce(distrito_code, ''), coalesce(corregimiento_code, ''),
           (unixepoch(closed_at) - unixepoch(created_at)) / 3600, count(*)
    FROM reports WHERE closed_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7;
INSERT INTO stats_open_due (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, due_at, n)
    SELECT date(created_at, '-5 hours'), entity_code, service_code, coalesce(provincia_code, ''),
           coalesce(distrito_code, ''), coalesce(corregimiento_code, ''), due_at, count(*)
    FROM reports WHERE closed_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6, 7;
