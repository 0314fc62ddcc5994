-- `users.credit_additions`: the times credits were added to the member's lots (see the
-- PostgreSQL migration of the same number, which also adds the `darkroom_require` check
-- function: on SQLite the one-round-trip job creation runs inside the writer's transaction and
-- is rolled back when a step did not apply).
ALTER TABLE users ADD COLUMN credit_additions INTEGER NOT NULL DEFAULT 0;
