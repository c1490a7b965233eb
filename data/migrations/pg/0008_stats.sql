-- 0008 (PostgreSQL): statistics kept as cases change. Per Panama day (of creation) x entity x
-- service x area, the counts every statistic adds up; triggers on reports keep them exact in
-- the very transaction of each change (creation, status, transfer, confirmation, a re-keying
-- of codes), whoever makes it: a row's old contribution is taken away (rows left at zero are
-- deleted) and its new one added.
-- stats_close_hours: how many closed cases took each whole number of hours, in integer
-- seconds / 3600 (exact quantiles at one-hour resolution). stats_open_due: open cases by due
-- time ("overdue now" is a sum over due_at < now). Area codes are '' where a level did not
-- cover the case.
-- The SQLite triggers' three statements per direction are one PL/pgSQL function here,
-- reports_stats_apply(row, +1 | -1), called by one trigger function for the three triggers.

CREATE TABLE stats_daily (
    day text COLLATE "C" NOT NULL, entity_code text COLLATE "C" NOT NULL,
    service_code text COLLATE "C" NOT NULL, provincia_code text COLLATE "C" NOT NULL,
    distrito_code text COLLATE "C" NOT NULL, corregimiento_code text COLLATE "C" NOT NULL,
    received      bigint NOT NULL,
    open          bigint NOT NULL,
    closed        bigint NOT NULL,
    closed_in_sla bigint NOT NULL,
    confirmations bigint NOT NULL,
    PRIMARY KEY (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code)
);

CREATE TABLE stats_close_hours (
    day text COLLATE "C" NOT NULL, entity_code text COLLATE "C" NOT NULL,
    service_code text COLLATE "C" NOT NULL, provincia_code text COLLATE "C" NOT NULL,
    distrito_code text COLLATE "C" NOT NULL, corregimiento_code text COLLATE "C" NOT NULL,
    hours bigint NOT NULL,
    n     bigint NOT NULL,
    PRIMARY KEY (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, hours)
);

CREATE TABLE stats_open_due (
    day text COLLATE "C" NOT NULL, entity_code text COLLATE "C" NOT NULL,
    service_code text COLLATE "C" NOT NULL, provincia_code text COLLATE "C" NOT NULL,
    distrito_code text COLLATE "C" NOT NULL, corregimiento_code text COLLATE "C" NOT NULL,
    due_at text COLLATE "C" NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, due_at)
);
CREATE INDEX stats_open_due_at ON stats_open_due (due_at);

-- Adds a case's contribution times dir (+1 or -1) to the three aggregates; taking one away
-- (dir -1) then deletes the rows of its keys left at zero, as the SQLite triggers do.
CREATE FUNCTION reports_stats_apply(r reports, dir integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_day   text := reporta_day(r.created_at);
    v_p     text := coalesce(r.provincia_code, '');
    v_d     text := coalesce(r.distrito_code, '');
    v_c     text := coalesce(r.corregimiento_code, '');
    v_hours bigint := (reporta_epoch(r.closed_at) - reporta_epoch(r.created_at)) / 3600;
BEGIN
    INSERT INTO stats_daily AS s (day, entity_code, service_code, provincia_code, distrito_code,
                                  corregimiento_code, received, open, closed, closed_in_sla,
                                  confirmations)
        VALUES (v_day, r.entity_code, r.service_code, v_p, v_d, v_c, dir,
                dir * (r.closed_at IS NULL)::int, dir * (r.closed_at IS NOT NULL)::int,
                dir * coalesce(r.closed_at IS NOT NULL AND r.closed_at <= r.due_at, false)::int,
                dir * r.confirmations)
        ON CONFLICT (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code)
        DO UPDATE SET received = s.received + excluded.received, open = s.open + excluded.open,
            closed = s.closed + excluded.closed, closed_in_sla = s.closed_in_sla + excluded.closed_in_sla,
            confirmations = s.confirmations + excluded.confirmations;
    IF r.closed_at IS NOT NULL THEN
        INSERT INTO stats_close_hours AS s (day, entity_code, service_code, provincia_code,
                                            distrito_code, corregimiento_code, hours, n)
            VALUES (v_day, r.entity_code, r.service_code, v_p, v_d, v_c, v_hours, dir)
            ON CONFLICT (day, entity_code, service_code, provincia_code, distrito_code,
                         corregimiento_code, hours)
            DO UPDATE SET n = s.n + excluded.n;
    ELSE
        INSERT INTO stats_open_due AS s (day, entity_code, service_code, provincia_code,
                                         distrito_code, corregimiento_code, due_at, n)
            VALUES (v_day, r.entity_code, r.service_code, v_p, v_d, v_c, r.due_at, dir)
            ON CONFLICT (day, entity_code, service_code, provincia_code, distrito_code,
                         corregimiento_code, due_at)
            DO UPDATE SET n = s.n + excluded.n;
    END IF;
    IF dir > 0 THEN
        RETURN;
    END IF;
    DELETE FROM stats_daily WHERE day = v_day AND entity_code = r.entity_code
        AND service_code = r.service_code AND provincia_code = v_p AND distrito_code = v_d
        AND corregimiento_code = v_c AND received = 0;
    IF r.closed_at IS NOT NULL THEN
        DELETE FROM stats_close_hours WHERE day = v_day AND entity_code = r.entity_code
            AND service_code = r.service_code AND provincia_code = v_p AND distrito_code = v_d
            AND corregimiento_code = v_c AND hours = v_hours AND n = 0;
    ELSE
        DELETE FROM stats_open_due WHERE day = v_day AND entity_code = r.entity_code
            AND service_code = r.service_code AND provincia_code = v_p AND distrito_code = v_d
            AND corregimiento_code = v_c AND due_at = r.due_at AND n = 0;
    END IF;
END $$;

-- the old row's contribution out, the new one's in
CREATE FUNCTION reports_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM reports_stats_apply(OLD, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM reports_stats_apply(NEW, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER reports_stats_insert AFTER INSERT ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_stats();
CREATE TRIGGER reports_stats_update AFTER UPDATE OF status, closed_at, entity_code, service_code,
    provincia_code, distrito_code, corregimiento_code, confirmations, due_at, created_at ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_stats();
CREATE TRIGGER reports_stats_delete AFTER DELETE ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_stats();

-- what the database held before this migration
INSERT INTO stats_daily (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, received, open, closed, closed_in_sla, confirmations)
    SELECT reporta_day(created_at), entity_code, service_code, coalesce(provincia_code, ''),
           coalesce(distrito_code, ''), coalesce(corregimiento_code, ''), count(*),
           sum((closed_at IS NULL)::int), sum((closed_at IS NOT NULL)::int),
           sum(coalesce(closed_at IS NOT NULL AND closed_at <= due_at, false)::int),
           sum(confirmations)
    FROM reports GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO stats_close_hours (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, hours, n)
    SELECT reporta_day(created_at), entity_code, service_code, coalesce(provincia_code, ''),
           coalesce(distrito_code, ''), coalesce(corregimiento_code, ''),
           (reporta_epoch(closed_at) - reporta_epoch(created_at)) / 3600, count(*)
    FROM reports WHERE closed_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7;
INSERT INTO stats_open_due (day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code, due_at, n)
    SELECT reporta_day(created_at), entity_code, service_code, coalesce(provincia_code, ''),
           coalesce(distrito_code, ''), coalesce(corregimiento_code, ''), due_at, count(*)
    FROM reports WHERE closed_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6, 7;
