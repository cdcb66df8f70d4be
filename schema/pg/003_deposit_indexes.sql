-- depositd schema v3, PostgreSQL dialect (see ../003_deposit_indexes.sql).
-- The list order is detected_at DESC, rowid DESC: SQLite's rowid, which
-- every SQLite index carries implicitly, is the column deposits.rowid here
-- (see 001_initial.sql) and is spelled out as the last key. PostgreSQL
-- scans a B-tree backwards as well as forwards, so ascending keys serve the
-- descending list. There are no index hints (SQLite's INDEXED BY): the
-- planner picks from these by the filters.
CREATE INDEX deposits_time                ON deposits (detected_at, rowid);
CREATE INDEX deposits_status_time         ON deposits (status, detected_at, rowid);
CREATE INDEX deposits_chain_time          ON deposits (chain_id, detected_at, rowid);
CREATE INDEX deposits_currency_time       ON deposits (currency, detected_at, rowid);
CREATE INDEX deposits_chain_status_time   ON deposits (chain_id, status, detected_at, rowid);
CREATE INDEX deposits_chain_currency_time ON deposits (chain_id, currency, detected_at, rowid);
CREATE INDEX deposits_currency_status_time ON deposits (currency, status, detected_at, rowid);
CREATE INDEX deposits_chain_currency_status_time ON deposits (chain_id, currency, status, detected_at, rowid);

CREATE TABLE deposit_counts (
    chain_id  text    COLLATE "C" NOT NULL,
    currency  text    COLLATE "C" NOT NULL,
    status    text    COLLATE "C" NOT NULL,
    n         bigint  NOT NULL,
    PRIMARY KEY (chain_id, currency, status)
);
INSERT INTO deposit_counts (chain_id, currency, status, n)
    SELECT chain_id, currency, status, count(*) FROM deposits GROUP BY chain_id, currency, status;

-- INSERT ... ON CONFLICT DO NOTHING of a known deposit inserts nothing and
-- fires nothing (as SQLite's INSERT OR IGNORE).
CREATE FUNCTION deposit_counts_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE deposit_counts SET n = n - 1
            WHERE chain_id = OLD.chain_id AND currency = OLD.currency AND status = OLD.status;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO deposit_counts (chain_id, currency, status, n) VALUES (NEW.chain_id, NEW.currency, NEW.status, 1)
            ON CONFLICT (chain_id, currency, status) DO UPDATE SET n = deposit_counts.n + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER deposit_counts_insert AFTER INSERT ON deposits
    FOR EACH ROW EXECUTE FUNCTION deposit_counts_change();
CREATE TRIGGER deposit_counts_delete AFTER DELETE ON deposits
    FOR EACH ROW EXECUTE FUNCTION deposit_counts_change();
CREATE TRIGGER deposit_counts_update AFTER UPDATE OF chain_id, currency, status ON deposits
    FOR EACH ROW
    WHEN (OLD.chain_id IS DISTINCT FROM NEW.chain_id OR OLD.currency IS DISTINCT FROM NEW.currency
          OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION deposit_counts_change();
