-- GET /api/v1/deposits at a million deposits (issue 10): every filter
-- combination reads one index in the list's order (detected_at DESC, rowid DESC), so
-- a page costs O(limit) and keyset pagination ("cursor") a range scan; the
-- total of an unfiltered or chain/currency/status-filtered list comes from
-- deposit_counts, kept exact by triggers, never from a scan.

-- No filter, and each combination of chain_id, currency, status. The list
-- order is detected_at DESC, then rowid DESC (the later insert first); every
-- index ends with the rowid implicitly, so a backward scan of (..., detected_at)
-- yields exactly that order. Ascending keys: new deposits append at the right
-- end of each index (full pages, half the size of DESC keys).
CREATE INDEX deposits_time                ON deposits (detected_at);
CREATE INDEX deposits_status_time         ON deposits (status, detected_at);
CREATE INDEX deposits_chain_time          ON deposits (chain_id, detected_at);
CREATE INDEX deposits_currency_time       ON deposits (currency, detected_at);
CREATE INDEX deposits_chain_status_time   ON deposits (chain_id, status, detected_at);
CREATE INDEX deposits_chain_currency_time ON deposits (chain_id, currency, detected_at);
CREATE INDEX deposits_currency_status_time ON deposits (currency, status, detected_at);
CREATE INDEX deposits_chain_currency_status_time ON deposits (chain_id, currency, status, detected_at);

-- A reference (any other filter is a residual test on its few rows) uses
-- deposits_by_reference (reference, detected_at) of schema 001 the same way.

-- Deposits per (chain_id, currency, status): the totals of the list and of
-- anything else that counts deposits (metrics), in O(chains x currencies).
CREATE TABLE deposit_counts (
    chain_id  TEXT    NOT NULL,
    currency  TEXT    NOT NULL,
    status    TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (chain_id, currency, status)
) WITHOUT ROWID;

INSERT INTO deposit_counts (chain_id, currency, status, n)
    SELECT chain_id, currency, status, count(*) FROM deposits GROUP BY chain_id, currency, status;

-- INSERT OR IGNORE of a known deposit inserts nothing and fires nothing.
CREATE TRIGGER deposit_counts_insert AFTER INSERT ON deposits
BEGIN
    INSERT INTO deposit_counts (chain_id, currency, status, n) VALUES (NEW.chain_id, NEW.currency, NEW.status, 1)
        ON CONFLICT (chain_id, currency, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER deposit_counts_delete AFTER DELETE ON deposits
BEGIN
    UPDATE deposit_counts SET n = n - 1
        WHERE chain_id = OLD.chain_id AND currency = OLD.currency AND status = OLD.status;
END;

CREATE TRIGGER deposit_counts_update AFTER UPDATE OF chain_id, currency, status ON deposits
    WHEN OLD.chain_id IS NOT NEW.chain_id OR OLD.currency IS NOT NEW.currency OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE deposit_counts SET n = n - 1
        WHERE chain_id = OLD.chain_id AND currency = OLD.currency AND status = OLD.status;
    INSERT INTO deposit_counts (chain_id, currency, status, n) VALUES (NEW.chain_id, NEW.currency, NEW.status, 1)
        ON CONFLICT (chain_id, currency, status) DO UPDATE SET n = n + 1;
END;
