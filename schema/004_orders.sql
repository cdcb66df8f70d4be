-- Orders (SPEC §8), payment links, and the merchant-protocol deliveries of
-- SPEC §9 in the same outbox as the webhooks.

-- The outbox delivers three kinds of requests now:
--   kind    'webhook'  signed POST of payload to [webhook].url, success = any 2xx
--           'epay'     GET of target (the notify URL with its signed query), success = the body contains "success"
--           'epusdt'   POST of payload (JSON) to target, success = the body is "ok"
--   target  the URL of an epay / epusdt delivery; NULL for webhooks
--   stream  delivery order: an event waits until every earlier event (lower
--           seq) of its stream is delivered. A deposit's events: the deposit
--           id; an order's webhooks: the order id; an order's merchant
--           notify: '<order id>/notify'. NULL = independent.
--   order_id the order an event is about (order.* and merchant notifies)
ALTER TABLE events ADD COLUMN kind TEXT NOT NULL DEFAULT 'webhook';
ALTER TABLE events ADD COLUMN target TEXT;
ALTER TABLE events ADD COLUMN stream TEXT;
ALTER TABLE events ADD COLUMN order_id TEXT;
UPDATE events SET stream = deposit_id WHERE stream IS NULL;
CREATE INDEX events_by_stream ON events (stream, seq);
CREATE INDEX events_by_order ON events (order_id, seq);

-- The timestamp of a deposit's block (unix ms) when the chain gives one: an
-- order counts a payment mined before its expiresAt even when the daemon
-- only sees it later (it was down, or catching up), and never one mined after.
ALTER TABLE deposits ADD COLUMN block_time INTEGER;

-- Shared receive addresses of mode "amount" ([orders].receive) live in the
-- pool table with state 'receive': watched like every pool address, never
-- handed out to a binding or an order of mode "address".

-- One row per order. Amounts are exact decimal strings; pay_raw and paid_raw
-- are integers of base units (decimals of the currency) so matching and
-- summing never round.
CREATE TABLE orders (
    id              TEXT    PRIMARY KEY,          -- ord_ + 32 hex (128 random bits): the payment page needs no key
    order_id        TEXT    NOT NULL,             -- the merchant's id (orderId, out_trade_no, order_id)
    source          TEXT    NOT NULL,             -- api | epay | epusdt | link
    mode            TEXT    NOT NULL,             -- address | amount
    status          TEXT    NOT NULL,             -- waiting | paid | completed | expired
    chain_id        TEXT    NOT NULL,
    currency        TEXT    NOT NULL,             -- symbol as configured ("USDT")
    contract        TEXT,                         -- token contract / mint; NULL for the native coin
    decimals        INTEGER NOT NULL,
    amount          TEXT    NOT NULL,             -- in the pay currency, before the unique-amount step
    pay_raw         TEXT    NOT NULL,             -- what must arrive, base units
    paid_raw        TEXT    NOT NULL DEFAULT '0', -- non-reverted deposits matched to the order, base units
    fiat_amount     TEXT,
    fiat_currency   TEXT,
    rate            TEXT,                         -- fiat per unit of the pay currency, exact
    address_id      INTEGER NOT NULL REFERENCES addresses (id),
    address         TEXT    NOT NULL,
    redirect_url    TEXT,                         -- where the payment page sends the payer when paid
    notify_url      TEXT,                         -- epay notify / epusdt callback
    merchant        TEXT,                         -- JSON: protocol fields echoed back (epay: type, name, money, param)
    metadata        TEXT,                         -- JSON text as given
    link_id         TEXT,                         -- the payment link that made it
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    paid_at         INTEGER,
    completed_at    INTEGER,
    expired_at      INTEGER
);
CREATE INDEX orders_by_order_id ON orders (order_id, created_at);
CREATE INDEX orders_due ON orders (status, expires_at);
CREATE INDEX orders_by_address ON orders (address_id, status, expires_at);
CREATE INDEX orders_by_link ON orders (link_id, status);
CREATE INDEX orders_by_created ON orders (created_at);
-- One live order per merchant id (an expired one may be followed by a new one).
-- (Unique amounts of mode "amount" are chosen inside the creating
-- transaction; no index, since an expired order revived by a payment mined
-- in time may share its amount with a newer order.)
CREATE UNIQUE INDEX orders_live_order_id ON orders (order_id) WHERE status <> 'expired';

-- Deposits matched to an order. A deposit pays at most one order.
CREATE TABLE order_deposits (
    order_id    TEXT    NOT NULL REFERENCES orders (id),
    deposit_id  TEXT    NOT NULL REFERENCES deposits (id),
    linked_at   INTEGER NOT NULL,
    PRIMARY KEY (order_id, deposit_id)
);
CREATE UNIQUE INDEX order_deposits_by_deposit ON order_deposits (deposit_id);

-- Reusable payment links (PayIn's shape): each checkout visit makes an order.
CREATE TABLE payment_links (
    id               TEXT    PRIMARY KEY,         -- plink_ + 24 hex
    slug             TEXT    NOT NULL UNIQUE,     -- the public part of /checkout/{slug}
    title            TEXT    NOT NULL,
    description      TEXT,
    amount           TEXT    NOT NULL,            -- decimal; "0" = the payer enters it
    fiat             TEXT,                        -- amount is in this fiat ([orders].fiat) when set
    currencies       TEXT    NOT NULL,            -- JSON [{"currency","chainId"}]
    inventory_total  INTEGER,                     -- completed orders allowed; NULL = unlimited
    expires_at       INTEGER,
    metadata         TEXT,
    status           TEXT    NOT NULL,            -- draft | active | archived
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX payment_links_by_created ON payment_links (created_at);
