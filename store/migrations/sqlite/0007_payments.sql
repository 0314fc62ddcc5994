-- Plans and payments (SPEC §5): the catalogue, the payments made through Stripe or PayPal,
-- the provider events already applied (exactly once), and subscriptions.
-- Only what the SPEC allows is kept of a payment: provider, customer id, transaction id,
-- status, amount, currency, billing email. No card data, ever.
-- The same text in ../sqlite and ../postgres.

-- One-time top-up packages (`package`) and monthly subscriptions (`subscription`).
-- Prices are in the currency's minor unit (cents); `currency` is ISO 4217, lower case.
-- `lot_days`: the plan's credits expire this many days after they are added (NULL: never).
CREATE TABLE plans (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('package', 'subscription')),
    name TEXT NOT NULL,
    credits BIGINT NOT NULL CHECK (credits > 0),
    price_minor BIGINT NOT NULL CHECK (price_minor > 0),
    currency TEXT NOT NULL,
    lot_days BIGINT CHECK (lot_days IS NULL OR lot_days > 0),
    position BIGINT NOT NULL DEFAULT 0,
    -- Set: no longer offered (payments that name it keep working).
    archived_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A payment: created when a member starts a checkout, `paid` once the provider says so
-- (then `lot_id` names the credits it added), `refunded`/`partially_refunded` after a refund.
CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    plan_id TEXT NOT NULL REFERENCES plans(id),
    provider TEXT NOT NULL CHECK (provider IN ('stripe', 'paypal')),
    kind TEXT NOT NULL CHECK (kind IN ('package', 'subscription')),
    -- Stripe Checkout Session id or PayPal order id.
    checkout_id TEXT,
    -- Stripe customer id or PayPal payer id.
    customer_id TEXT,
    -- Stripe PaymentIntent id (packages) or invoice id (subscriptions); PayPal capture id.
    transaction_id TEXT,
    subscription_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('created', 'paid', 'partially_refunded', 'refunded')),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    billing_email TEXT,
    credits BIGINT NOT NULL,
    lot_id TEXT,
    refunded_minor BIGINT NOT NULL DEFAULT 0,
    -- Credits a refund took back (only what was still unspent in the lot).
    credits_revoked BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX payments_checkout ON payments (provider, checkout_id);
CREATE UNIQUE INDEX payments_transaction ON payments (provider, transaction_id);
CREATE INDEX payments_user ON payments (user_id, created_at);

-- Provider events applied: the primary key is what makes each event count once, however
-- often and however concurrently it is delivered.
CREATE TABLE payment_events (
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- What it did: `applied` or `ignored: <why>`.
    outcome TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (provider, event_id)
);

CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    plan_id TEXT NOT NULL REFERENCES plans(id),
    provider TEXT NOT NULL,
    provider_subscription_id TEXT NOT NULL,
    customer_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'canceled')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX subscriptions_provider ON subscriptions (provider, provider_subscription_id);
CREATE INDEX subscriptions_user ON subscriptions (user_id);

-- A starting catalogue; administrators edit it on /admin/plans.
INSERT INTO plans (id, kind, name, credits, price_minor, currency, lot_days, position, created_at, updated_at) VALUES
    ('starter', 'package', 'Starter', 100, 500, 'usd', 365, 1, 0, 0),
    ('studio', 'package', 'Studio', 500, 2000, 'usd', 365, 2, 0, 0),
    ('monthly', 'subscription', 'Monthly', 400, 1000, 'usd', 31, 3, 0, 0);
