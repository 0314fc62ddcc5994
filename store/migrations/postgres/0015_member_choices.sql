-- Two of a member's own choices, recorded on their row:
-- publish_reviewed_at: when they confirmed, before their first public item, that AI output
--   may be inaccurate and that they reviewed it (asked once; NULL: not yet);
-- processing_restricted_at: since when they restrict processing of their data (no training
--   use, no showcase; NULL: not restricted).
ALTER TABLE users ADD COLUMN publish_reviewed_at BIGINT;
ALTER TABLE users ADD COLUMN processing_restricted_at BIGINT;
