-- 0009 (PostgreSQL): tows per Panama day of the request and pickup area, kept by triggers on
-- tows as 0008 keeps the cases' aggregates, for the scorecard's towing counts per distrito and
-- month. As on SQLite, a row a tow leaves stays (at zero), and an update or delete of a tow
-- whose row is missing changes nothing.
CREATE TABLE stats_tows_daily (
    day                text COLLATE "C" NOT NULL,
    provincia_code     text COLLATE "C" NOT NULL,
    distrito_code      text COLLATE "C" NOT NULL,
    corregimiento_code text COLLATE "C" NOT NULL,
    tows               bigint NOT NULL,
    PRIMARY KEY (day, provincia_code, distrito_code, corregimiento_code)
);

CREATE FUNCTION tows_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE stats_tows_daily SET tows = tows - 1 WHERE day = reporta_day(OLD.created_at)
            AND provincia_code = coalesce(OLD.provincia_code, '')
            AND distrito_code = coalesce(OLD.distrito_code, '')
            AND corregimiento_code = coalesce(OLD.corregimiento_code, '');
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO stats_tows_daily AS s VALUES (reporta_day(NEW.created_at),
            coalesce(NEW.provincia_code, ''), coalesce(NEW.distrito_code, ''),
            coalesce(NEW.corregimiento_code, ''), 1)
            ON CONFLICT (day, provincia_code, distrito_code, corregimiento_code)
            DO UPDATE SET tows = s.tows + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER tows_stats_insert AFTER INSERT ON tows
    FOR EACH ROW EXECUTE FUNCTION tows_stats();
CREATE TRIGGER tows_stats_update AFTER UPDATE OF created_at, provincia_code, distrito_code,
    corregimiento_code ON tows
    FOR EACH ROW EXECUTE FUNCTION tows_stats();
CREATE TRIGGER tows_stats_delete AFTER DELETE ON tows
    FOR EACH ROW EXECUTE FUNCTION tows_stats();

INSERT INTO stats_tows_daily
    SELECT reporta_day(created_at), coalesce(provincia_code, ''), coalesce(distrito_code, ''),
           coalesce(corregimiento_code, ''), count(*)
    FROM tows GROUP BY 1, 2, 3, 4;
