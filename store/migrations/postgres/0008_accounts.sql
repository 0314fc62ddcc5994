-- Accounts, consent and privacy (SPEC §7): email verification, single-use email links,
-- security events, the member's sessions, versioned terms and the consents given.
-- The same text in ../sqlite and ../postgres.

-- When the member proved they read mail at `email` (NULL: not yet; they may browse, not create).
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
-- Accounts from before verification existed count as verified.
UPDATE users SET email_verified_at = created_at;
-- Separate opt-in to training use of the member's images (off by default).
ALTER TABLE users ADD COLUMN training_consent_at BIGINT;
-- Preferences: `light`, `dark` or `system`; a language tag (`en`, `de`).
ALTER TABLE users ADD COLUMN theme TEXT NOT NULL DEFAULT 'system';
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
-- Set when the account was deleted: what stays (ledger, audit) is anonymised.
ALTER TABLE users ADD COLUMN deleted_at BIGINT;

-- Single-use links sent by mail. Only the SHA-256 (hex) of the token is kept.
CREATE TABLE email_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    -- `verify` (24 h), `reset` (1 h), `email_change` (24 h, to the new address).
    purpose TEXT NOT NULL CHECK (purpose IN ('verify', 'reset', 'email_change')),
    token_hash TEXT NOT NULL UNIQUE,
    new_email TEXT,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX email_tokens_user ON email_tokens (user_id, purpose);

-- What happened to an account, for its member to see: sign-ins, failed sign-ins, resets,
-- email and password changes, API key changes, admin actions. The IP is kept truncated
-- (IPv4 /24, IPv6 /48).
CREATE TABLE security_events (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX security_events_user ON security_events (user_id, created_at);

-- The member's signed-in sessions (the session store's id), with where they were last seen.
CREATE TABLE user_sessions (
    session_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    user_agent TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id, last_seen_at);

-- Terms and privacy versions an administrator published (markdown). The newest version in
-- effect of each document is current; a `material` one must be accepted again.
CREATE TABLE legal_versions (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (doc IN ('terms', 'privacy')),
    version TEXT NOT NULL,
    body TEXT NOT NULL,
    effective_at BIGINT NOT NULL,
    material BIGINT NOT NULL DEFAULT 0,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (doc, version)
);

-- Consents given or withdrawn: terms (a version), age, training use. The IP is kept as a
-- salted SHA-256 only.
CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL CHECK (kind IN ('terms', 'age', 'training')),
    version TEXT NOT NULL DEFAULT '',
    granted BIGINT NOT NULL,
    ip_hash TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX consents_user ON consents (user_id, created_at);

-- Data exports: a ZIP built by a background task, offered through a signed link for 24 h.
CREATE TABLE exports (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    status TEXT NOT NULL CHECK (status IN ('queued', 'ready', 'failed')),
    file_key TEXT,
    bytes BIGINT,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX exports_user ON exports (user_id, created_at);
