-- The operator's notices to members (service::notices): a banner until withdrawn or
-- dismissed, and with `mail` = 1 a mail to every member. The mailing walks the users by id:
-- `mail_cursor` is the last id mailed, `mail_lease_until` keeps a second node from mailing
-- the same batch, `mail_done_at` ends it.
CREATE TABLE notices (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    mail BIGINT NOT NULL DEFAULT 0,
    mail_cursor TEXT,
    mail_lease_until BIGINT,
    mail_done_at BIGINT,
    created_by TEXT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    withdrawn_at BIGINT
);
CREATE INDEX notices_created ON notices (created_at);
-- A member closed a notice's banner.
CREATE TABLE notice_dismissals (
    notice_id TEXT NOT NULL REFERENCES notices(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (notice_id, user_id)
);
