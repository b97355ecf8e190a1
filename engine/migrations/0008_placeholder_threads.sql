-- Placeholder so the reviews branch (migration 0009) runs on its own: the conversations branch
-- owns 0008. When merging, keep that branch's 0008 and delete this file.
SELECT 1;
