-- Review sentiment summaries (issue 5): one row per /reviews request, its per-review labels and themes.
-- Times are ISO-8601 UTC text ("2026-11-28T21:15:49.123Z"), as in 0001, so they sort as text.

CREATE TABLE review_batches (
    id              INTEGER PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL,
    source          TEXT NOT NULL,              -- file name or 'pasted text'
    model           TEXT NOT NULL,
    channel         TEXT,                       -- platform-neutral ids of where it was asked, if known
    user_id         TEXT,
    analysed        INTEGER NOT NULL CHECK (analysed >= 0),
    positive        INTEGER NOT NULL CHECK (positive >= 0),
    negative        INTEGER NOT NULL CHECK (negative >= 0),
    neutral         INTEGER NOT NULL CHECK (neutral >= 0),
    score           INTEGER NOT NULL CHECK (score BETWEEN -100 AND 100),
    average_rating  REAL,
    rating_scale    REAL,
    found           INTEGER NOT NULL,
    skipped         INTEGER NOT NULL DEFAULT 0,
    trend_unit      TEXT CHECK (trend_unit IN ('week', 'month')),
    trend_direction TEXT CHECK (trend_direction IN ('improving', 'declining', 'steady')),
    details_json    TEXT NOT NULL DEFAULT '{}'  -- trend points, skipped languages, notes
);
CREATE INDEX review_batches_by_workspace_time ON review_batches (workspace_id, created_at);

CREATE TABLE review_labels (
    batch_id    INTEGER NOT NULL REFERENCES review_batches(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,               -- order in the batch, from 0
    line        INTEGER NOT NULL,               -- line / data row in the input
    text        TEXT NOT NULL,
    label       TEXT CHECK (label IN ('positive', 'negative', 'neutral')),  -- NULL when skipped
    confidence  REAL CHECK (confidence BETWEEN 0 AND 1),
    rating      REAL,
    review_date TEXT,                           -- YYYY-MM-DD
    skipped     TEXT,                           -- why it was not analysed
    PRIMARY KEY (batch_id, position)
);

CREATE TABLE review_themes (
    batch_id INTEGER NOT NULL REFERENCES review_batches(id) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('praise', 'complaint')),
    rank     INTEGER NOT NULL,                  -- 1 = most mentioned
    label    TEXT NOT NULL,
    mentions INTEGER NOT NULL CHECK (mentions > 0),
    quote    TEXT NOT NULL,
    line     INTEGER NOT NULL,
    PRIMARY KEY (batch_id, kind, rank)
);
