-- depositd schema v1. Portable SQL (SQLite now, PostgreSQL later): no
-- AUTOINCREMENT tricks, timestamps are unix milliseconds (INTEGER), amounts
-- are decimal strings, hashes and addresses are text in their canonical form.

-- The address pool: every address here is watched, bound or not.
CREATE TABLE addresses (
    id              INTEGER PRIMARY KEY,
    protocol        TEXT    NOT NULL,           -- evm | tron | bitcoin | solana
    address         TEXT    NOT NULL,           -- canonical display form (EIP-55, T..., bech32 lower, base58)
    watch_key       BLOB    NOT NULL,           -- raw bytes adapters match on (20-byte EVM/TRON, scriptPubKey, 32-byte key)
    source          TEXT    NOT NULL,           -- 'file:<name>' or 'xpub:<fingerprint>'
    derivation_path TEXT,                       -- '0/17' for derived addresses
    state           TEXT    NOT NULL DEFAULT 'free',  -- free | bound | cooling
    cooldown_until  INTEGER,                    -- unix ms; NULL with state cooling = never handed out again
    created_at      INTEGER NOT NULL,
    UNIQUE (protocol, address),
    UNIQUE (protocol, watch_key)
);
CREATE INDEX addresses_free ON addresses (protocol, state, id);

-- Bindings of a depositReference to an address. Active while unbound_at IS NULL.
CREATE TABLE bindings (
    id          INTEGER PRIMARY KEY,
    reference   TEXT    NOT NULL,
    protocol    TEXT    NOT NULL,
    address_id  INTEGER NOT NULL REFERENCES addresses (id),
    metadata    TEXT,                            -- JSON text as given
    bound_at    INTEGER NOT NULL,
    unbound_at  INTEGER
);
CREATE UNIQUE INDEX bindings_active_ref  ON bindings (reference, protocol) WHERE unbound_at IS NULL;
CREATE UNIQUE INDEX bindings_active_addr ON bindings (address_id) WHERE unbound_at IS NULL;
CREATE INDEX bindings_by_address ON bindings (address_id);

-- Next derivation index per extended public key, so a second derive continues.
CREATE TABLE xpub_cursors (
    xpub        TEXT    NOT NULL,
    protocol    TEXT    NOT NULL,
    next_index  INTEGER NOT NULL,
    PRIMARY KEY (xpub, protocol)
);

-- Per-chain scan progress: the last block whose transfers are committed.
CREATE TABLE chain_cursors (
    chain_id    TEXT    PRIMARY KEY,
    height      INTEGER NOT NULL,
    hash        TEXT    NOT NULL,
    head        INTEGER,                         -- last head seen (for /health)
    halted      TEXT,                            -- why the chain stopped (reorg deeper than allowed), NULL when running
    updated_at  INTEGER NOT NULL
);

-- The last N blocks of each chain, for parent-hash continuity and reorg walks.
CREATE TABLE chain_blocks (
    chain_id    TEXT    NOT NULL,
    height      INTEGER NOT NULL,
    hash        TEXT    NOT NULL,
    parent      TEXT    NOT NULL,
    PRIMARY KEY (chain_id, height)
);

-- One row per transfer seen in one block. (chain_id, tx_hash, idx, block_hash)
-- identifies it; a re-mined transfer in another block is a new row.
CREATE TABLE deposits (
    id                      TEXT    PRIMARY KEY,     -- dep_...
    chain_id                TEXT    NOT NULL,
    tx_hash                 TEXT    NOT NULL,
    idx                     INTEGER NOT NULL,
    block_hash              TEXT    NOT NULL,
    block_number            INTEGER NOT NULL,
    address_id              INTEGER REFERENCES addresses (id),
    address                 TEXT    NOT NULL,
    reference               TEXT,                    -- binding at detection time, NULL if none
    currency                TEXT    NOT NULL,
    contract                TEXT,                    -- NULL for the native coin
    raw_amount              TEXT    NOT NULL,        -- exact integer, decimal string
    decimals                INTEGER NOT NULL,
    from_address            TEXT,
    confirmations           INTEGER NOT NULL,
    required_confirmations  INTEGER NOT NULL,
    status                  TEXT    NOT NULL,        -- pending | confirmed | reverted
    detected_at             INTEGER NOT NULL,
    confirmed_at            INTEGER,
    reverted_at             INTEGER,
    UNIQUE (chain_id, tx_hash, idx, block_hash)
);
CREATE INDEX deposits_by_status    ON deposits (chain_id, status, block_number);
CREATE INDEX deposits_by_reference ON deposits (reference, detected_at);
CREATE INDEX deposits_by_address   ON deposits (address_id);

-- The webhook outbox. seq gives the delivery order; id is the webhook-id.
-- payload is the exact JSON body, frozen when the event is created, so every
-- retry signs and sends the same bytes.
CREATE TABLE events (
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,        -- evt_...
    deposit_id       TEXT    REFERENCES deposits (id),
    type             TEXT    NOT NULL,               -- deposit.pending | deposit.confirmed | deposit.reverted
    payload          TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending',  -- pending | delivered | failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,               -- unix ms
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER,
    UNIQUE (deposit_id, type)
);
CREATE INDEX events_due ON events (status, next_attempt_at);
CREATE INDEX events_by_deposit ON events (deposit_id, seq);

-- Every delivery attempt, for operators and `depositctl events list`.
CREATE TABLE delivery_attempts (
    id                INTEGER PRIMARY KEY,
    event_id          TEXT    NOT NULL REFERENCES events (id),
    attempted_at      INTEGER NOT NULL,
    status_code       INTEGER,                        -- NULL when no HTTP answer
    latency_ms        INTEGER NOT NULL,
    error             TEXT,
    response_excerpt  TEXT                            -- first KiB of the body
);
CREATE INDEX delivery_attempts_by_event ON delivery_attempts (event_id, id);
