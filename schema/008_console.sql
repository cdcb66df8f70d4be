-- The operator's console (SPEC §12), manual order actions (SPEC §10, issue
-- 21) and Telegram notifications.

-- Who did what by hand, and why. One row per action, written in the same
-- transaction as the action itself: an action that is not in the log did
-- not happen.
--   actor_kind  'api' (an API key, named by its label; never the key) or
--               'console' (a console user)
--   action      order.mark_paid | event.resend | link.publish | link.archive |
--               deposit.recheck | console.login | console.logout
--   target      the id acted on (ord_..., evt_..., plink_..., a tx hash)
--   reason      the operator's words (required for order.mark_paid)
--   detail      JSON: what changed (from -> to, events created, ...)
--   client      the client address the request came from
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,                 -- unix ms
    actor_kind  TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT,
    reason      TEXT,
    detail      TEXT,
    client      TEXT
);
CREATE INDEX audit_log_by_target ON audit_log (target, seq);
CREATE INDEX audit_log_by_action ON audit_log (action, seq);

-- An order settled by hand (POST /api/v1/orders/{id}/mark-paid): its events
-- and the order object say "manual": true.
ALTER TABLE orders ADD COLUMN manual INTEGER NOT NULL DEFAULT 0;

-- The console's search (a transaction hash, or an address as pasted: EVM
-- addresses in any letter case) and its lists, newest first, by status.
CREATE INDEX deposits_by_tx_hash ON deposits (tx_hash);
CREATE INDEX deposits_by_address_text ON deposits (address COLLATE NOCASE);
CREATE INDEX orders_by_address_text ON orders (address COLLATE NOCASE);
CREATE INDEX orders_by_status_created ON orders (status, created_at);
CREATE INDEX events_by_status_seq ON events (status, seq);
-- Events of a kind after a position: the Telegram relay.
CREATE INDEX events_by_kind ON events (kind, seq);

-- Telegram notifications. The relay turns committed webhook events (seq >
-- relay_seq) into Telegram messages in the outbox, moving relay_seq in the
-- same transaction; alerts (chain, pool, webhook state) remember what was
-- last reported and when, so a flapping state sends at most one message per
-- [notify.telegram].alert_interval.
CREATE TABLE notify_state (
    key         TEXT    PRIMARY KEY,             -- 'relay_seq' | 'alert:<event>:<subject>'
    value       TEXT    NOT NULL,                -- relay: the last seq; alert: the state last reported
    changed_at  INTEGER NOT NULL                 -- unix ms of the last change (alert: last message sent)
);
