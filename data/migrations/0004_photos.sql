-- 0004: photos of cases. The files live under the media directory, named by the SHA-256 of
-- the display JPEG (media/store.c); a row here is what keeps a file from the startup sweep.
CREATE TABLE photos (
    id           INTEGER PRIMARY KEY,
    report_id    INTEGER NOT NULL REFERENCES reports (id),
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    thumb_width  INTEGER NOT NULL,
    thumb_height INTEGER NOT NULL,
    kind         TEXT NOT NULL DEFAULT 'report' CHECK (kind IN ('report', 'after')),
    added_by     TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (report_id, sha256)
);
CREATE INDEX photos_sha256 ON photos (sha256);
