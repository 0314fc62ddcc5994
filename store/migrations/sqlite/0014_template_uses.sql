-- A template's use count is counted from its jobs when an administrator looks (over the
-- jobs_template index), no longer kept in a column every job creation updated: that one row
-- was shared by every member's creation transaction and made them wait for each other's
-- commits.
ALTER TABLE templates DROP COLUMN uses;
