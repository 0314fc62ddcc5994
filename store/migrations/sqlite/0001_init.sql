-- Darkroom schema, SQLite dialect. Times are Unix milliseconds (BIGINT); ids are UUIDv7 text.
-- Keep in step with ../postgres/0001_init.sql: same tables, columns and constraints.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'moderator', 'admin')),
    balance BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
    age_confirmed_at BIGINT NOT NULL,
    terms_version TEXT NOT NULL,
    terms_accepted_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL CHECK (kind IN ('grant', 'purchase', 'subscription_grant', 'charge', 'refund', 'adjustment', 'expiry')),
    amount BIGINT NOT NULL,
    balance_after BIGINT NOT NULL CHECK (balance_after >= 0),
    reason TEXT NOT NULL,
    job_id TEXT,
    actor_id TEXT,
    idempotency_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX ledger_entries_user ON ledger_entries (user_id, created_at);

CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    object_key TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    mime TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    rights_confirmed_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX uploads_user ON uploads (user_id, created_at);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    upload_id TEXT NOT NULL REFERENCES uploads(id),
    mode TEXT NOT NULL,
    params TEXT NOT NULL,
    cost BIGINT NOT NULL CHECK (cost >= 0),
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'rejected', 'failed', 'canceled')),
    progress BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT,
    result_key TEXT,
    thumb_key TEXT,
    result_hash TEXT,
    result_width BIGINT,
    result_height BIGINT,
    visibility TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'link', 'public')),
    idempotency_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    deleted_at BIGINT,
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX jobs_queue ON jobs (status, created_at);
CREATE INDEX jobs_user ON jobs (user_id, created_at);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_user ON events (user_id, id);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    actor_id TEXT,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
