-- Sharing (SPEC §4): share links, likes, the showcase opt-in, and the Explore index.
-- The same text in ../sqlite and ../postgres, but for the JSON backfill of `style`.

-- Set when the owner allows the operator to showcase the item (separate from visibility).
ALTER TABLE jobs ADD COLUMN showcase_at BIGINT;
CREATE INDEX jobs_public ON jobs (visibility, id);

-- The item's (first) style, the engine's index 0..=24 (-1: none), for the Explore and
-- gallery filters; copied out of `params` so both can use an index.
ALTER TABLE jobs ADD COLUMN style BIGINT NOT NULL DEFAULT -1;
UPDATE jobs SET style = COALESCE((params::json -> 'styles' -> 0 ->> 0)::BIGINT, -1);
CREATE INDEX jobs_public_style ON jobs (visibility, style, id);
CREATE INDEX jobs_user_style ON jobs (user_id, style, id);

-- A share link: the token itself is never stored, only its SHA-256 (hex).
CREATE TABLE share_links (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at BIGINT,
    revoked_at BIGINT,
    views BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX share_links_job ON share_links (job_id, created_at);

-- One like per member per item.
CREATE TABLE likes (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (job_id, user_id)
);
CREATE INDEX likes_recent ON likes (job_id, created_at);

-- A counter bumped in every transaction that changes what the public feed shows
-- (visibility, hide, delete, purge, likes): caches of Explore pages key on it.
CREATE TABLE feed_version (id BIGINT PRIMARY KEY, version BIGINT NOT NULL);
INSERT INTO feed_version (id, version) VALUES (1, 0);
