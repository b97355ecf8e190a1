-- Placeholder so the reviews branch (migration 0009) runs on its own: the per-workspace models
-- branch owns 0007. When merging, keep that branch's 0007 and delete this file.
SELECT 1;
