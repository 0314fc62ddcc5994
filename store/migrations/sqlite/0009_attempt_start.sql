-- When the current (last) attempt of a job started. `started_at` keeps the first attempt's
-- start; a job run again after a crash reports its successful attempt's own run time.
-- The same text in ../sqlite and ../postgres.
ALTER TABLE jobs ADD COLUMN attempt_started_at BIGINT;
