-- Per-workspace fine-tunes (issue 13, item 7): each workspace's model versions are trained on its
-- own approvals only, served to it only, and numbered on their own (each team has its v1).
-- Live A/B tests of candidates (issue 15): which model wrote each variant, and the trials.
--
-- Versions made before this migration were trained on every workspace's copy pooled together;
-- they keep their rows (workspace_id NULL) for the record but no workspace is served them: every
-- workspace starts again from the base model, and its own runs rebuild from its own data.

-- The table is rebuilt (SQLite cannot drop a UNIQUE constraint); the store runs migrations with
-- foreign keys off and checks them all before committing.

CREATE TABLE model_versions_rebuilt (
    id             INTEGER PRIMARY KEY,
    workspace_id   TEXT REFERENCES workspaces(id),       -- NULL: a pooled version from before 0007
    name           TEXT NOT NULL,                        -- "v3", counted per workspace
    base           TEXT NOT NULL,
    parent_id      INTEGER REFERENCES model_versions(id),
    path           TEXT NOT NULL UNIQUE,                 -- adapter folder, relative to the data dir
    -- promoted: went live; rejected: failed the offline check; trial: in a live A/B test now;
    -- dropped: lost (or did not clearly win) its A/B test
    status         TEXT NOT NULL CHECK (status IN ('promoted', 'rejected', 'trial', 'dropped')),
    train_examples INTEGER NOT NULL CHECK (train_examples >= 0),
    valid_examples INTEGER NOT NULL CHECK (valid_examples >= 0),
    data_until     TEXT,
    metrics        TEXT NOT NULL DEFAULT '{}',
    run_id         INTEGER REFERENCES finetune_runs(id),
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (workspace_id, base, name)
);
INSERT INTO model_versions_rebuilt(id, workspace_id, name, base, parent_id, path, status,
        train_examples, valid_examples, data_until, metrics, run_id, created_at)
    SELECT id, NULL, name, base, parent_id, path, status, train_examples, valid_examples,
           data_until, metrics, run_id, created_at FROM model_versions;
DROP TABLE model_versions;
ALTER TABLE model_versions_rebuilt RENAME TO model_versions;
CREATE INDEX model_versions_by_workspace ON model_versions(workspace_id, base, id);

-- Activations and runs belong to a workspace; rows from before (NULL) are history only.
ALTER TABLE model_activations ADD COLUMN workspace_id TEXT REFERENCES workspaces(id);
DROP INDEX model_activations_by_base;
CREATE INDEX model_activations_by_workspace ON model_activations(workspace_id, base, undone, id);

-- Runs gain their workspace and a status for a candidate that went into an A/B test (rebuilt for
-- the CHECK constraint).
CREATE TABLE finetune_runs_rebuilt (
    id           INTEGER PRIMARY KEY,
    workspace_id TEXT REFERENCES workspaces(id),             -- NULL: a pooled run from before 0007
    trigger      TEXT NOT NULL,
    status       TEXT NOT NULL
                 CHECK (status IN ('running', 'promoted', 'trial', 'rejected', 'skipped', 'failed')),
    message      TEXT NOT NULL DEFAULT '',
    version_id   INTEGER REFERENCES model_versions(id),
    started_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at  TEXT
);
INSERT INTO finetune_runs_rebuilt(id, workspace_id, trigger, status, message, version_id, started_at,
        finished_at)
    SELECT id, NULL, trigger, status, message, version_id, started_at, finished_at FROM finetune_runs;
DROP TABLE finetune_runs;
ALTER TABLE finetune_runs_rebuilt RENAME TO finetune_runs;
CREATE INDEX finetune_runs_by_workspace ON finetune_runs(workspace_id, id);

-- A candidate that passed the offline check writes part of the workspace's copy, unlabelled, beside
-- the active model (the incumbent) until each has ``verdicts_needed`` approvals + rejections; then a
-- one-sided Fisher exact test decides, once. At most one trial per workspace runs.
CREATE TABLE model_trials (
    id              INTEGER PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    base            TEXT NOT NULL,
    candidate_id    INTEGER NOT NULL REFERENCES model_versions(id),
    incumbent_id    INTEGER REFERENCES model_versions(id),      -- NULL: the base model
    share           REAL NOT NULL CHECK (share > 0 AND share <= 1),  -- of /copy requests in the test
    verdicts_needed INTEGER NOT NULL CHECK (verdicts_needed > 0),   -- per model
    outcome         TEXT CHECK (outcome IN ('promoted', 'dropped', 'cancelled')),  -- NULL: running
    result          TEXT NOT NULL DEFAULT '{}',                 -- JSON: counts, p-value, reason
    started_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at     TEXT
);
CREATE UNIQUE INDEX model_trials_one_running ON model_trials(workspace_id) WHERE outcome IS NULL;

-- Which model wrote a variant ("v2", or the base model's name; NULL before 0007), and the trial it
-- is evidence in (NULL: none).
ALTER TABLE variants ADD COLUMN model_version TEXT;
ALTER TABLE variants ADD COLUMN trial_id INTEGER REFERENCES model_trials(id);
CREATE INDEX variants_by_model ON variants(workspace_id, model_version, id);
CREATE INDEX variants_by_trial ON variants(trial_id) WHERE trial_id IS NOT NULL;
