-- Review aspects (issue 16): each theme's sentiment counts, each review's language and what it
-- said about each theme ({"battery": "negative", "price": "positive"}), for the weekly alerts.
ALTER TABLE review_themes ADD COLUMN positive INTEGER NOT NULL DEFAULT 0 CHECK (positive >= 0);
ALTER TABLE review_themes ADD COLUMN negative INTEGER NOT NULL DEFAULT 0 CHECK (negative >= 0);
ALTER TABLE review_themes ADD COLUMN neutral INTEGER NOT NULL DEFAULT 0 CHECK (neutral >= 0);
ALTER TABLE review_labels ADD COLUMN language TEXT;
ALTER TABLE review_labels ADD COLUMN aspects_json TEXT NOT NULL DEFAULT '{}';
