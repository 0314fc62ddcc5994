-- Credit lots (SPEC §5): every credit added is a lot that may expire; charges take from the
-- soonest-expiring lot first and record what they took (so a refund gives it back); expiry
-- writes an `expiry` ledger entry for what is left. Invariant: users.balance = sum of the
-- member's entries = sum of their lots' `remaining` (once due lots are expired).
-- The same text in ../sqlite and ../postgres.
CREATE TABLE credit_lots (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    -- The ledger entry that added it.
    entry_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    remaining BIGINT NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
    -- NULL: never expires.
    expires_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX credit_lots_user ON credit_lots (user_id, expires_at);

-- What a debit took from which lot.
CREATE TABLE lot_draws (
    entry_id TEXT NOT NULL,
    lot_id TEXT NOT NULL REFERENCES credit_lots(id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    PRIMARY KEY (entry_id, lot_id)
);

-- Balances from before lots: one lot each that never expires.
INSERT INTO credit_lots (id, user_id, entry_id, kind, amount, remaining, expires_at, created_at)
SELECT 'lot-' || id, id, 'before-lots', 'adjustment', balance, balance, NULL, created_at FROM users WHERE balance > 0;
