-- 0005 (PostgreSQL): nothing to do. On SQLite this file replaces SpatiaLite's R*Tree trigger
-- on reports with a cheaper one. PostgreSQL has no R*Tree table: the GiST index
-- idx_reports_geom on reports (geom), made in 0003, is kept by PostgreSQL itself on every
-- insert, update and delete. Queries test the exact lat/lon as well, as they do on SQLite.
-- The file keeps the version numbers of both backends equal.
COMMENT ON INDEX idx_reports_geom IS
    'reports by point: stands in for SpatiaLite''s R*Tree idx_reports_geom (0003, 0005)';
