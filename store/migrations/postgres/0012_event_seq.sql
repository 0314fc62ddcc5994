-- Per-member event sequence numbers (the live stream's SSE ids).
--
-- A global BIGSERIAL id is taken when a row is inserted, not when its transaction commits:
-- two transactions of one member (two workers, two web nodes) can commit out of id order,
-- and a stream that already read the higher id would skip the lower one for ever. `seq` is
-- taken from `users.event_seq` by an UPDATE, which holds the member's row lock until commit,
-- so one member's events commit in `seq` order and `seq > last` never skips one.
-- Existing rows keep their id as their seq, so a client's Last-Event-ID stays valid.
ALTER TABLE users ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN seq BIGINT;
UPDATE events SET seq = id;
ALTER TABLE events ALTER COLUMN seq SET NOT NULL;
UPDATE users SET event_seq = GREATEST(
    COALESCE((SELECT MAX(seq) FROM events WHERE events.user_id = users.id), 0),
    COALESCE((SELECT pruned_through FROM event_horizons WHERE event_horizons.user_id = users.id), 0));
CREATE UNIQUE INDEX events_user_seq ON events (user_id, seq);
DROP INDEX events_user;
