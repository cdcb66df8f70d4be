-- depositd schema 010, PostgreSQL dialect (see ../010_counts_per_statement.sql):
-- the count tables of 003 and 007 take a multi-row INSERT's rows once per
-- statement (its transition table, grouped) instead of once per row.
--
-- Why: a catch-up inserts hundreds of deposits and events per transaction,
-- and a pool import hundreds of thousands of addresses. A row trigger
-- updated the same count row once per inserted row; within one transaction
-- every such update leaves a version the next one must step over, so a
-- transaction's count updates grew with the square of its rows. Row counts
-- stay exact: an INSERT ... ON CONFLICT DO NOTHING's transition table holds
-- only the rows it inserted. UPDATE and DELETE keep their row triggers
-- (PostgreSQL allows no transition table on a trigger with a column list,
-- and those statements change one row or a few).

CREATE FUNCTION pool_counts_insert_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pool_counts (protocol, state, n)
        SELECT protocol, state, count(*) FROM inserted GROUP BY protocol, state
        ON CONFLICT (protocol, state) DO UPDATE SET n = pool_counts.n + excluded.n;
    RETURN NULL;
END $$;
DROP TRIGGER pool_counts_insert ON addresses;
DROP FUNCTION pool_counts_insert();
CREATE TRIGGER pool_counts_insert AFTER INSERT ON addresses REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION pool_counts_insert_rows();

CREATE FUNCTION event_counts_insert_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_counts (status, n)
        SELECT status, count(*) FROM inserted GROUP BY status
        ON CONFLICT (status) DO UPDATE SET n = event_counts.n + excluded.n;
    RETURN NULL;
END $$;
DROP TRIGGER event_counts_insert ON events;
DROP FUNCTION event_counts_insert();
CREATE TRIGGER event_counts_insert AFTER INSERT ON events REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION event_counts_insert_rows();

-- deposit_counts_change() (003) still serves the UPDATE and DELETE triggers.
CREATE FUNCTION deposit_counts_insert_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO deposit_counts (chain_id, currency, status, n)
        SELECT chain_id, currency, status, count(*) FROM inserted GROUP BY chain_id, currency, status
        ON CONFLICT (chain_id, currency, status) DO UPDATE SET n = deposit_counts.n + excluded.n;
    RETURN NULL;
END $$;
DROP TRIGGER deposit_counts_insert ON deposits;
CREATE TRIGGER deposit_counts_insert AFTER INSERT ON deposits REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION deposit_counts_insert_rows();
