-- Several nodes on one database (scale-out).
--
-- Rate limits held for the whole cluster: one row per bucket ("api-key:<hash>", "api-ip:<hash>",
-- "auth-account:<hash>": the key is kept only as a keyed hash, never an address or an email)
-- with its GCRA theoretical arrival time in Unix ms
-- (store::cluster). A request is one conditional upsert; rows whose time has passed are
-- pruned hourly.
CREATE TABLE rate_limits (
    bucket TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);
-- Keys every node must share (the media-URL signing key also keys IP and user hashes): a
-- fingerprint (HMAC of a fixed text under the key, never the key) written by the first node;
-- a node that starts with another key stops with an error instead of signing URLs the others
-- refuse.
CREATE TABLE cluster_keys (
    name TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    set_at BIGINT NOT NULL
);
-- The id of the HTTP request that created a job (the `x-request-id` header), carried into
-- the worker's logs of that job.
ALTER TABLE jobs ADD COLUMN request_id TEXT;
