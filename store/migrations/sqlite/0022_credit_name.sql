-- A member may show their display name with their public items (Explore, public pages):
-- when they opted in (Unix ms); NULL, the default, shows no name.
ALTER TABLE users ADD COLUMN show_name_at BIGINT;
