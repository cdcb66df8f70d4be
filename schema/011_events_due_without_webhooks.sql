-- depositd schema 011: the due events a dispatcher without [webhook].url may
-- deliver (merchant callbacks, Telegram), in delivery order.
--
-- Without a webhook URL the deposits' webhook events wait, pending and due.
-- A claim walked events_due (every due event in next_attempt_at order) and
-- skipped each waiting webhook: after a catch-up of 20,000 deposits, 40,000
-- rows per claim, one claim per scanner commit. This index holds only the
-- events such a dispatcher may take (store/events.cpp, kinds_allowed).
CREATE INDEX events_due_without_webhooks ON events (status, next_attempt_at, seq) WHERE kind <> 'webhook';
