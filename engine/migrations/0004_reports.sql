-- Weekly reports (issue 7): one row per workspace and period. The row is written (claimed) before
-- the report is posted and marked posted after, so a restart neither repeats nor skips a report.

CREATE TABLE reports (
    id           INTEGER PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    channel      TEXT NOT NULL,
    text         TEXT NOT NULL,
    late         INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    posted_at    TEXT,
    UNIQUE (workspace_id, period_start)
);
