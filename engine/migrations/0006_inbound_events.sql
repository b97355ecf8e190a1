-- The inbound-events journal (issue 13): every platform event copybot acknowledges (a reaction, a
-- slash command, a mention, a Discord interaction) is committed here first, then processed from
-- here. A row with finished_at NULL was acknowledged but not yet carried out; a restart finishes it.
-- The key is the platform's own id for the event, so a retried or replayed event finds its row and
-- is not carried out twice.

CREATE TABLE inbound_events (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,          -- "slack:Ev0123", "slack:trigger:…", "discord:interaction:…"
    platform    TEXT NOT NULL,
    workspace   TEXT NOT NULL,                 -- "<platform>:<workspace id>"; no foreign key: it may be new
    kind        TEXT NOT NULL,                 -- "reaction", "command", "mention", "interaction"
    payload     TEXT NOT NULL,                 -- JSON, as the platform sent it
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    starts      INTEGER NOT NULL DEFAULT 0,    -- process starts that found it unfinished
    finished_at TEXT,
    outcome     TEXT CHECK (outcome IN ('done', 'ignored', 'failed', 'abandoned'))
);
CREATE INDEX inbound_events_unfinished ON inbound_events(platform, id) WHERE finished_at IS NULL;
CREATE INDEX inbound_events_finished ON inbound_events(finished_at) WHERE finished_at IS NOT NULL;
