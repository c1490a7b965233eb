-- 0010 (PostgreSQL): a reporter may mark a case private. Its description is then shown only to
-- the staff of its entity and to admins: never in public reads, Open311 feeds or the open-data
-- export.
ALTER TABLE reports ADD COLUMN is_private integer NOT NULL DEFAULT 0 CHECK (is_private IN (0, 1));
