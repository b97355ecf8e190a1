-- copybot schema, version 1: workspaces and their settings, generations, variants, feedback.
-- Times are ISO-8601 UTC text ("2026-11-28T21:15:49.123Z") so they sort and compare as strings.

CREATE TABLE workspaces (
    id         TEXT PRIMARY KEY,            -- "<platform>:<platform's workspace id>", e.g. "slack:T123"
    platform   TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE settings (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    updated_by   TEXT,
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (workspace_id, key)
);

CREATE TABLE generations (
    id            INTEGER PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    channel       TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    request       TEXT NOT NULL,           -- JSON of the CopyRequest
    prompt        TEXT NOT NULL,           -- JSON chat messages exactly as given to the model
    model_version TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX generations_by_workspace ON generations(workspace_id, created_at);

CREATE TABLE variants (
    id             INTEGER PRIMARY KEY,
    generation_id  INTEGER NOT NULL REFERENCES generations(id),
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id),
    position       INTEGER NOT NULL,
    text           TEXT NOT NULL,
    posted_channel TEXT,                   -- where the adapter posted it, once it has
    posted_message TEXT,
    UNIQUE (generation_id, position)
);
CREATE UNIQUE INDEX variants_by_message
    ON variants(workspace_id, posted_channel, posted_message) WHERE posted_message IS NOT NULL;

-- Current feedback state: one row per (variant, user, verdict). Re-sending an event writes the same
-- state again, so retried or repeated events are idempotent; withdrawing sets active = 0.
CREATE TABLE feedback (
    variant_id INTEGER NOT NULL REFERENCES variants(id),
    user_id    TEXT NOT NULL,
    verdict    TEXT NOT NULL CHECK (verdict IN ('approve', 'reject')),
    active     INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (variant_id, user_id, verdict)
);

-- A variant's status follows from its active feedback: more approvals than rejections = approved.
CREATE VIEW variant_status AS
SELECT v.id AS variant_id,
       v.workspace_id,
       COALESCE(SUM(f.verdict = 'approve' AND f.active), 0) AS approvals,
       COALESCE(SUM(f.verdict = 'reject' AND f.active), 0) AS rejections,
       MAX(CASE WHEN f.verdict = 'approve' AND f.active THEN f.updated_at END) AS approved_at,
       CASE
           WHEN COALESCE(SUM(f.verdict = 'approve' AND f.active), 0)
              > COALESCE(SUM(f.verdict = 'reject' AND f.active), 0) THEN 'approved'
           WHEN COALESCE(SUM(f.verdict = 'approve' AND f.active), 0)
              < COALESCE(SUM(f.verdict = 'reject' AND f.active), 0) THEN 'rejected'
           ELSE 'pending'
       END AS status
FROM variants v LEFT JOIN feedback f ON f.variant_id = v.id
GROUP BY v.id;

-- Platform event ids already handled (Slack retries events it thinks were lost; a restart must not
-- make us act twice). Old rows may be pruned; retries arrive within minutes.
CREATE TABLE processed_events (
    key        TEXT PRIMARY KEY,             -- e.g. "slack:Ev0123"
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
