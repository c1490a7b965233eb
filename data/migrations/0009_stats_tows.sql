-- 0009: tows per Panama day of the request and pickup area, kept by triggers on tows as 0008
-- keeps the cases' aggregates, for the scorecard's towing counts per distrito and month.
CREATE TABLE stats_tows_daily (
    day                TEXT NOT NULL,
    provincia_code     TEXT NOT NULL,
    distrito_code      TEXT NOT NULL,
    corregimiento_code TEXT NOT NULL,
    tows               INTEGER NOT NULL,
    PRIMARY KEY (day, provincia_code, distrito_code, corregimiento_code)
) WITHOUT ROWID;

CREATE TRIGGER tows_stats_insert AFTER INSERT ON tows
BEGIN
    INSERT INTO stats_tows_daily VALUES (date(NEW.created_at, '-5 hours'),
        coalesce(NEW.provincia_code, ''), coalesce(NEW.distrito_code, ''),
        coalesce(NEW.corregimiento_code, ''), 1)
        ON CONFLICT DO UPDATE SET tows = tows + 1;
END;

CREATE TRIGGER tows_stats_update AFTER UPDATE OF created_at, provincia_code, distrito_code,
    corregimiento_code ON tows
BEGIN
    UPDATE stats_tows_daily SET tows = tows - 1 WHERE day = date(OLD.created_at, '-5 hours')
        AND provincia_code = coalesce(OLD.provincia_code, '')
        AND distrito_code = coalesce(OLD.distrito_code, '')
        AND corregimiento_code = coalesce(OLD.corregimiento_code, '');
    INSERT INTO stats_tows_daily VALUES (date(NEW.created_at, '-5 hours'),
        coalesce(NEW.provincia_code, ''), coalesce(NEW.distrito_code, ''),
        coalesce(NEW.corregimiento_code, ''), 1)
        ON CONFLICT DO UPDATE SET tows = tows + 1;
END;

CREATE TRIGGER tows_stats_delete AFTER DELETE ON tows
BEGIN
    UPDATE stats_tows_daily SET tows = tows - 1 WHERE day = date(OLD.created_at, '-5 hours')
        AND provincia_code = coalesce(OLD.provincia_code, '')
        AND distrito_code = coalesce(OLD.distrito_code, '')
        AND corregimiento_code = coalesce(OLD.corregimiento_code, '');
END;

INSERT INTO stats_tows_daily
    SELECT date(created_at, '-5 hours'), coalesce(provincia_code, ''), coalesce(distrito_code, ''),
           coalesce(corregimiento_code, ''), count(*)
    FROM tows GROUP BY 1, 2, 3, 4;
