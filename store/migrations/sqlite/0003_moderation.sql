-- Moderation (SPEC §6): prompts on jobs, the `review` state, decisions per gate, reports,
-- strikes and account standing. Keep in step with ../postgres/0003_moderation.sql.

-- SQLite cannot alter a CHECK constraint: rebuild `jobs` with `review` allowed.
CREATE TABLE jobs_new (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    upload_id TEXT NOT NULL REFERENCES uploads(id),
    mode TEXT NOT NULL,
    params TEXT NOT NULL,
    cost BIGINT NOT NULL CHECK (cost >= 0),
    status TEXT NOT NULL CHECK (status IN ('queued', 'review', 'running', 'succeeded', 'rejected', 'failed', 'canceled')),
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
    prompt TEXT NOT NULL DEFAULT '',
    moderation_category TEXT,
    hidden_at BIGINT,
    UNIQUE (user_id, idempotency_key)
);
INSERT INTO jobs_new (id, user_id, upload_id, mode, params, cost, status, progress, error, attempts, lease_owner, lease_until,
    result_key, thumb_key, result_hash, result_width, result_height, visibility, idempotency_key, created_at, started_at,
    finished_at, deleted_at)
SELECT id, user_id, upload_id, mode, params, cost, status, progress, error, attempts, lease_owner, lease_until,
    result_key, thumb_key, result_hash, result_width, result_height, visibility, idempotency_key, created_at, started_at,
    finished_at, deleted_at FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_queue ON jobs (status, created_at);
CREATE INDEX jobs_user ON jobs (user_id, created_at);

ALTER TABLE users ADD COLUMN restricted_until BIGINT;
ALTER TABLE users ADD COLUMN suspended_at BIGINT;

-- One row per gate a generation passed (prompt, upload, output) and per moderator action.
CREATE TABLE moderation_decisions (
    id TEXT PRIMARY KEY,
    job_id TEXT,
    user_id TEXT NOT NULL,
    gate TEXT NOT NULL CHECK (gate IN ('prompt', 'upload', 'output', 'moderator', 'report')),
    decision TEXT NOT NULL CHECK (decision IN ('allow', 'review', 'block')),
    category TEXT,
    detector TEXT NOT NULL,
    labels TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    actor_id TEXT,
    reason TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX moderation_decisions_job ON moderation_decisions (job_id, created_at);
CREATE INDEX moderation_decisions_user ON moderation_decisions (user_id, created_at);

CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    reporter_id TEXT,
    reporter_key TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('sexual', 'minors', 'violence', 'hate', 'illegal', 'spam', 'other')),
    note TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'upheld', 'dismissed')),
    resolved_by TEXT,
    resolved_at BIGINT,
    resolution TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX reports_open ON reports (status, created_at);
CREATE INDEX reports_reporter ON reports (reporter_key, created_at);

CREATE TABLE strikes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    job_id TEXT,
    report_id TEXT,
    category TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    lifted_at BIGINT,
    lifted_by TEXT
);
CREATE INDEX strikes_user ON strikes (user_id, created_at);
CREATE INDEX audit_log_target ON audit_log (target, created_at);
