-- Support requests from the support page (visitors and members) and staff's answers.
-- `topic` and `status` are darkroom_contract's SupportTopic and SupportStatus.
CREATE TABLE support_requests (
    id TEXT PRIMARY KEY,
    user_id TEXT REFERENCES users(id),
    email TEXT NOT NULL,
    topic TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL,
    answer TEXT,
    answered_by TEXT REFERENCES users(id),
    answered_at BIGINT,
    closed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX support_requests_status ON support_requests (status, created_at);
CREATE INDEX support_requests_user ON support_requests (user_id, created_at);
