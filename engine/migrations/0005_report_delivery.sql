-- Weekly reports are posted in parts (a long report is two Discord messages, a chart is an upload).
-- The claim keeps the report as data (content, JSON) and its chart, so a retry posts exactly what was
-- claimed; parts_posted says how many parts are out, so a retry posts only the rest; attempts and
-- last_attempt_at space the retries out, and gave_up_at ends them (the report is then not posted).
-- text is no longer written (the adapters render the content); rows claimed before this keep theirs.

ALTER TABLE reports ADD COLUMN content TEXT;
ALTER TABLE reports ADD COLUMN chart TEXT;
ALTER TABLE reports ADD COLUMN parts_posted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN last_attempt_at TEXT;
ALTER TABLE reports ADD COLUMN gave_up_at TEXT;
