-- Per-member event sequence numbers (the live stream's SSE ids); see the PostgreSQL
-- migration of the same number for why. SQLite has one writer, so ids already commit in
-- order here; the column keeps both stores on one schema and one query.
ALTER TABLE users ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE events SET seq = id;
UPDATE users SET event_seq = MAX(
    COALESCE((SELECT MAX(seq) FROM events WHERE events.user_id = users.id), 0),
    COALESCE((SELECT pruned_through FROM event_horizons WHERE event_horizons.user_id = users.id), 0));
CREATE UNIQUE INDEX events_user_seq ON events (user_id, seq);
DROP INDEX events_user;
