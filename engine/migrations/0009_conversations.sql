-- Conversations (issue 14): a copy request is a thread, and every reply in it is a turn.
-- A turn is a generation like a /copy, tied to its conversation, with the instruction it carried
-- out ("shorter", "in Chinese"); each variant it wrote names the variant it rewrote. Together with
-- the feedback table this says which variant was rewritten into which, by what instruction, and
-- which one the team then approved: the preference pairs `copybot export --pairs` writes.

CREATE TABLE conversations (
    id           INTEGER PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    channel      TEXT NOT NULL,             -- where the thread is (Slack channel, Discord channel)
    thread       TEXT NOT NULL,             -- the platform's thread: Slack thread_ts, Discord thread id
    user_id      TEXT NOT NULL,             -- who asked first
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (workspace_id, channel, thread)
);

ALTER TABLE generations ADD COLUMN conversation_id INTEGER REFERENCES conversations(id);
-- NULL for the request that opened the conversation (or a plain /copy); else what the turn did:
-- rewrite (a variant changed by the instruction), like (more like a variant), again (new variants).
ALTER TABLE generations ADD COLUMN turn_kind TEXT
    CHECK (turn_kind IS NULL OR turn_kind IN ('rewrite', 'like', 'again'));
ALTER TABLE generations ADD COLUMN instruction TEXT;  -- as the person wrote it
-- 0 for the opening request, then 1, 2, … per turn; a turn that rewrote three variants is three
-- generations (each its own prompt) with one turn number.
ALTER TABLE generations ADD COLUMN turn INTEGER;
CREATE INDEX generations_by_conversation ON generations(conversation_id) WHERE conversation_id IS NOT NULL;

ALTER TABLE variants ADD COLUMN source_variant_id INTEGER REFERENCES variants(id);
CREATE INDEX variants_by_source ON variants(source_variant_id) WHERE source_variant_id IS NOT NULL;
