-- 0013: the statistics change log. Every insert, delete and change of a counted column of a
-- case appends its id here, in the transaction of the change, whoever makes it. The server's
-- scorecard in memory (server/scorecard.c) follows it: it re-reads the cases named since its
-- last read, so its numbers stay equal to the aggregates of 0008 and to a count over reports.
-- Rows it has read are deleted (through the writer) as it goes.
CREATE TABLE stats_log (
    seq       INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL
);

CREATE TRIGGER reports_log_insert AFTER INSERT ON reports
BEGIN
    INSERT INTO stats_log (report_id) VALUES (NEW.id);
END;

CREATE TRIGGER reports_log_update AFTER UPDATE OF status, closed_at, entity_code, service_code,
    provincia_code, distrito_code, corregimiento_code, confirmations, due_at, created_at, rating,
    followed_up_at ON reports
BEGIN
    INSERT INTO stats_log (report_id) VALUES (NEW.id);
END;

CREATE TRIGGER reports_log_delete AFTER DELETE ON reports
BEGIN
    INSERT INTO stats_log (report_id) VALUES (OLD.id);
END;
