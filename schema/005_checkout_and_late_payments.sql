-- Issue 18: the merchant side under abuse, late payments and block clocks.

-- Checkout orders (payment links, source 'link') remember who asked:
--   client   the client address a per-client cap counts (IPv4, or an IPv6
--            /56; behind [api].trusted_proxies the forwarded one)
--   visitor  the random id of the visitor's checkout cookie: the same
--            visitor gets its open order back instead of a new one
ALTER TABLE orders ADD COLUMN client TEXT;
ALTER TABLE orders ADD COLUMN visitor TEXT;
CREATE INDEX orders_by_client ON orders (client, status) WHERE client IS NOT NULL;
CREATE INDEX orders_by_visitor ON orders (link_id, visitor) WHERE visitor IS NOT NULL;
-- Open checkout orders, counted against the free pool.
CREATE INDEX orders_by_source ON orders (source, status);

-- A payment that matches an order which had ended (its address after the
-- order completed or expired, or its held amount in mode "amount") is
-- linked to that order as a late payment: shown on the order and announced
-- as order.late_payment, never counted in paidAmount and never credited to
-- another order.
ALTER TABLE order_deposits ADD COLUMN late INTEGER NOT NULL DEFAULT 0;
