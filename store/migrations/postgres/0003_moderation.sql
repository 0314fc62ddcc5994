-- Moderation (SPEC §6): prompts on jobs, the `review` state, decisions per gate, reports,
-- strikes and account standing. Keep in step with ../sqlite/0003_moderation.sql.

ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
    CHECK (status IN ('queued', 'review', 'running', 'succeeded', 'rejected', 'failed', 'canceled'));
ALTER TABLE jobs ADD COLUMN prompt TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN moderation_category TEXT;
ALTER TABLE jobs ADD COLUMN hidden_at BIGINT;

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
