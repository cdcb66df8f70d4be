-- depositd schema v2: the deposit state machine, chain health, and counters
-- that keep /health and /metrics O(1).

-- Deposit status changes are numbered: pending (1) -> reverted (2) ->
-- pending (3) -> confirmed (4) ... Each change is one event whose id derives
-- from (deposit id, change number), written in the same transaction as the
-- change, so a restart or a rescan never mints a second id for one change.
ALTER TABLE deposits ADD COLUMN changes INTEGER NOT NULL DEFAULT 0;
-- 'finalized' on chains confirmed at finality (requiredConfirmations null),
-- NULL when confirmed by a number of confirmations.
ALTER TABLE deposits ADD COLUMN finality TEXT;
UPDATE deposits SET changes = (SELECT count(*) FROM events e WHERE e.deposit_id = deposits.id);

-- Events: a deposit may now have two events of one type (pending, reverted,
-- pending). The id (UNIQUE) is what makes an insert idempotent.
CREATE TABLE events_v2 (
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    deposit_id       TEXT    REFERENCES deposits (id),
    type             TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER
);
INSERT INTO events_v2 (seq, id, deposit_id, type, payload, status, attempts, next_attempt_at, last_error, created_at,
                       delivered_at)
    SELECT seq, id, deposit_id, type, payload, status, attempts, next_attempt_at, last_error, created_at, delivered_at
    FROM events;
DROP TABLE events;
ALTER TABLE events_v2 RENAME TO events;
CREATE INDEX events_due ON events (status, next_attempt_at);
CREATE INDEX events_by_deposit ON events (deposit_id, seq);
CREATE INDEX events_by_type ON events (type, seq);

-- Chain health, for /health after a restart and for `depositctl status`.
ALTER TABLE chain_cursors ADD COLUMN block_height INTEGER;      -- height of the block `hash` names (< height after skipped slots)
ALTER TABLE chain_cursors ADD COLUMN finalized INTEGER;         -- highest finalized height seen; never reverted below
ALTER TABLE chain_cursors ADD COLUMN status TEXT;               -- starting | ok | lagging | error | halted
ALTER TABLE chain_cursors ADD COLUMN last_error TEXT;
ALTER TABLE chain_cursors ADD COLUMN last_success_at INTEGER;   -- unix ms

-- Who held an address at a given time (attribution at block time).
CREATE INDEX bindings_by_address_time ON bindings (address_id, bound_at);

-- Row counts kept current by triggers, so /health and /metrics never scan.
-- kind: 'pool' (a = protocol, b = state), 'deposits' (a = chain, b = status),
-- 'events' (a = status, b = '').
CREATE TABLE counters (
    kind  TEXT    NOT NULL,
    a     TEXT    NOT NULL,
    b     TEXT    NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (kind, a, b)
) WITHOUT ROWID;
INSERT INTO counters SELECT 'pool', protocol, state, count(*) FROM addresses GROUP BY protocol, state;
INSERT INTO counters SELECT 'deposits', chain_id, status, count(*) FROM deposits GROUP BY chain_id, status;
INSERT INTO counters SELECT 'events', status, '', count(*) FROM events GROUP BY status;

CREATE TRIGGER counters_addresses_insert AFTER INSERT ON addresses BEGIN
    INSERT INTO counters VALUES ('pool', NEW.protocol, NEW.state, 1)
        ON CONFLICT (kind, a, b) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER counters_addresses_update AFTER UPDATE OF state ON addresses WHEN OLD.state <> NEW.state BEGIN
    UPDATE counters SET n = n - 1 WHERE kind = 'pool' AND a = OLD.protocol AND b = OLD.state;
    INSERT INTO counters VALUES ('pool', NEW.protocol, NEW.state, 1)
        ON CONFLICT (kind, a, b) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER counters_deposits_insert AFTER INSERT ON deposits BEGIN
    INSERT INTO counters VALUES ('deposits', NEW.chain_id, NEW.status, 1)
        ON CONFLICT (kind, a, b) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER counters_deposits_update AFTER UPDATE OF status ON deposits WHEN OLD.status <> NEW.status BEGIN
    UPDATE counters SET n = n - 1 WHERE kind = 'deposits' AND a = OLD.chain_id AND b = OLD.status;
    INSERT INTO counters VALUES ('deposits', NEW.chain_id, NEW.status, 1)
        ON CONFLICT (kind, a, b) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER counters_events_insert AFTER INSERT ON events BEGIN
    INSERT INTO counters VALUES ('events', NEW.status, '', 1)
        ON CONFLICT (kind, a, b) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER counters_events_update AFTER UPDATE OF status ON events WHEN OLD.status <> NEW.status BEGIN
    UPDATE counters SET n = n - 1 WHERE kind = 'events' AND a = OLD.status AND b = '';
    INSERT INTO counters VALUES ('events', NEW.status, '', 1)
        ON CONFLICT (kind, a, b) DO UPDATE SET n = n + 1;
END;
