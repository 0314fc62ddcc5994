-- Job creation's one-statement path (`Store::create_job_at_once`).
--
-- `users.credit_additions` counts the times credits were added to the member's lots (grants,
-- purchases, refunds), which can change which lot is spent first. The one statement reads the
-- lots from its snapshot and takes the member's row last: if an addition committed while it
-- waited for that row, the counts differ and it does not apply (the general path then reads
-- the lots again). Charges only take from lots, which keeps their order.
ALTER TABLE users ADD COLUMN credit_additions BIGINT NOT NULL DEFAULT 0;

-- A statement's own check: `darkroom_require(ok, what)` raises (SQLSTATE DR001) unless `ok`
-- is true, so the whole statement is undone. Job creation's one-statement path
-- (`Store::create_job_at_once`) ends with it: every step must have applied, or nothing did.
CREATE FUNCTION darkroom_require(ok BOOLEAN, what TEXT) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'not applied: %', what USING ERRCODE = 'DR001';
    END IF;
    RETURN TRUE;
END
$$;
