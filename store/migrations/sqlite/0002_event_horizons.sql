-- Per member: the newest event id removed by retention. A stream resuming from an id at or
-- below it has missed events for good and gets a snapshot first.
CREATE TABLE event_horizons (
    user_id TEXT PRIMARY KEY,
    pruned_through BIGINT NOT NULL
);
CREATE INDEX events_created ON events (created_at);
