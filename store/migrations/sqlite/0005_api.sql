-- The API for integrators (SPEC §9): keys, their webhooks and deliveries, the request log.
-- The same text in ../sqlite and ../postgres.

-- An API key. The secret (`dk_` + 40 characters) is shown once; only its SHA-256 (hex) is
-- kept. `prefix` (the first 11 characters) names it in lists and logs.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    -- Comma-separated: `generate`, `read`.
    scopes TEXT NOT NULL,
    -- Optional spending cap in credits per `cap_period` (UTC day or calendar month).
    cap_credits BIGINT CHECK (cap_credits IS NULL OR cap_credits >= 0),
    cap_period TEXT CHECK (cap_period IS NULL OR cap_period IN ('day', 'month')),
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT,
    -- The member confirmed, when creating the key, the rights and consent for every image
    -- sent with it (the API's form of the upload checkbox).
    rights_confirmed_at BIGINT NOT NULL,
    -- Webhook: an endpoint, the events it wants (comma-separated) and its signing secret
    -- (`whsec_` + base64; kept as is, since signing needs it).
    webhook_url TEXT,
    webhook_events TEXT NOT NULL DEFAULT '',
    webhook_secret TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX api_keys_user ON api_keys (user_id, created_at);

-- Which key made a job, and the hash of the request (same idempotency key + another body → 409).
ALTER TABLE jobs ADD COLUMN api_key_id TEXT;
ALTER TABLE jobs ADD COLUMN request_hash TEXT;
CREATE INDEX jobs_api_key ON jobs (api_key_id, created_at);

-- The upload gate's decision for an image sent to POST /api/v1/uploads, kept until a
-- generation uses it (JSON of the decision record; NULL for the web form's uploads).
ALTER TABLE uploads ADD COLUMN gate TEXT;

-- One delivery per key, job and event, created in the same transaction as the job's final
-- state; `id` is the Standard Webhooks `webhook-id` (stable across retries).
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    api_key_id TEXT NOT NULL REFERENCES api_keys(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    job_id TEXT NOT NULL REFERENCES jobs(id),
    event TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    UNIQUE (api_key_id, job_id, event)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_key ON webhook_deliveries (api_key_id, created_at);

-- Every authenticated API request, for the member to see.
CREATE TABLE api_requests (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    api_key_id TEXT NOT NULL,
    key_prefix TEXT NOT NULL,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    status BIGINT NOT NULL,
    cost BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX api_requests_user ON api_requests (user_id, created_at);
