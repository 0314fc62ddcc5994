-- The operator's settings changed in the console without a restart (service::settings):
-- one JSON document, numbered so two administrators saving at once cannot overwrite each
-- other's change unseen. No row: the defaults from the environment.
CREATE TABLE site_settings (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    doc TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_by TEXT REFERENCES users(id),
    updated_at BIGINT NOT NULL
);
