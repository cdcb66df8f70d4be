-- depositd schema v6: finality proven by hash (issue 19).
--
-- chain_cursors.finalized used to be the highest finalized height any node
-- had claimed; behind a load balancer that claim could come from another
-- backend than the blocks we stored. It now names the highest finalized
-- block PROVEN on our own chain: the node's finalized block hash at that
-- height is the hash of our stored block there (parent links prove the
-- blocks below). Nothing at or below it is ever reverted.
ALTER TABLE chain_cursors ADD COLUMN finalized_hash TEXT;
-- Heights recorded before were never checked against our blocks: a restart
-- must not halt on them. They are proven again at the next poll.
UPDATE chain_cursors SET finalized = NULL;
