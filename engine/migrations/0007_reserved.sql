-- Reserved: 0007 is the per-workspace model versions migration (0007_workspace_models.sql), written
-- on another branch. This placeholder keeps the numbers gapless until that file replaces it at the
-- merge (delete this one then; two 0007 files make Store.open refuse to start).
SELECT 1;
