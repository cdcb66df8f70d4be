-- depositd schema v5, PostgreSQL dialect (see ../005_checkout_and_late_payments.sql
-- for the meaning).
ALTER TABLE orders
    ADD COLUMN client text COLLATE "C",
    ADD COLUMN visitor text COLLATE "C";
CREATE INDEX orders_by_client ON orders (client, status) WHERE client IS NOT NULL;
CREATE INDEX orders_by_visitor ON orders (link_id, visitor) WHERE visitor IS NOT NULL;
CREATE INDEX orders_by_source ON orders (source, status);

-- A 0/1 flag: bigint like SQLite's INTEGER (the store compares it with 1 and 0).
ALTER TABLE order_deposits ADD COLUMN late bigint NOT NULL DEFAULT 0;
