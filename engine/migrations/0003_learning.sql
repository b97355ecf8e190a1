-- The learning loop (issue 6): fine-tuned model versions, which one is active, fine-tune runs, and
-- the last run of each scheduled job. Times are ISO-8601 UTC text, as in 0001, so they sort as text.

-- Every fine-tuned version ever kept. The base model is not a row: a version with parent NULL was
-- trained on the base model itself. ``base`` names the base model (e.g. "SmolLM2-135M-Instruct"), so
-- versions trained on another base are never loaded on this one.
CREATE TABLE model_versions (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,                 -- "v3"
    base           TEXT NOT NULL,
    parent_id      INTEGER REFERENCES model_versions(id),
    path           TEXT NOT NULL,                        -- adapter folder, relative to the data dir
    status         TEXT NOT NULL CHECK (status IN ('promoted', 'rejected')),
    train_examples INTEGER NOT NULL CHECK (train_examples >= 0),
    valid_examples INTEGER NOT NULL CHECK (valid_examples >= 0),
    data_until     TEXT,                                 -- newest approval it was trained on
    metrics        TEXT NOT NULL DEFAULT '{}',           -- JSON: NLLs, clean rates, steps, decision
    run_id         INTEGER REFERENCES finetune_runs(id),
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Which version is active: the newest row not undone. version_id NULL means the base model.
-- ``models rollback`` marks the newest row undone, so the one before it is active again.
CREATE TABLE model_activations (
    id         INTEGER PRIMARY KEY,
    base       TEXT NOT NULL,
    version_id INTEGER REFERENCES model_versions(id),
    reason     TEXT NOT NULL CHECK (reason IN ('promoted', 'use')),
    by         TEXT NOT NULL,                            -- the run's trigger, or "platform:user"
    undone     INTEGER NOT NULL DEFAULT 0 CHECK (undone IN (0, 1)),
    undone_by  TEXT,
    undone_at  TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX model_activations_by_base ON model_activations(base, undone, id);

-- One row per fine-tune attempt, for /finetune status and the weekly report.
CREATE TABLE finetune_runs (
    id          INTEGER PRIMARY KEY,
    trigger     TEXT NOT NULL,                           -- "schedule", "start-up catch-up", "platform:user"
    status      TEXT NOT NULL CHECK (status IN ('running', 'promoted', 'rejected', 'skipped', 'failed')),
    message     TEXT NOT NULL DEFAULT '',
    version_id  INTEGER REFERENCES model_versions(id),
    started_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT
);

-- Scheduled jobs (weekly fine-tune, weekly report): when each last ran, so a run missed while the
-- bot was down happens once at start-up.
CREATE TABLE scheduled_jobs (
    name             TEXT PRIMARY KEY,
    last_started_at  TEXT,
    last_finished_at TEXT
);
