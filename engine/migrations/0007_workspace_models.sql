-- Per-workspace fine-tunes (issue 13, item 7): each workspace's model versions are trained on its
-- own approvals only, served to it only, and numbered on their own (each team has its v1).
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
    status         TEXT NOT NULL CHECK (status IN ('promoted', 'rejected')),
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

ALTER TABLE finetune_runs ADD COLUMN workspace_id TEXT REFERENCES workspaces(id);
CREATE INDEX finetune_runs_by_workspace ON finetune_runs(workspace_id, id);
