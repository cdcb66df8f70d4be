-- depositd schema v6, PostgreSQL dialect (see ../006_proven_finality.sql):
-- chain_cursors.finalized now names the highest finalized block proven on
-- our own chain (by finalized_hash); heights recorded before are unproven.
ALTER TABLE chain_cursors ADD COLUMN finalized_hash text COLLATE "C";
UPDATE chain_cursors SET finalized = NULL;
