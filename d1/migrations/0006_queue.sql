-- Syncs that continue on a queue (issue 11): a lease on a source's sync, so that only one invocation
-- at a time runs a slice of it. A queue message is only a wake-up: a duplicate finds the lease taken
-- and does nothing; a lease whose holder died expires and the next message or cron run takes over.
-- sync_lease_id is random per claim; every write of the slice's bookkeeping is conditional on it.
ALTER TABLE sources ADD COLUMN sync_lease_id TEXT;
ALTER TABLE sources ADD COLUMN sync_lease_until INTEGER;

UPDATE pb_meta SET value = '6' WHERE key = 'schema_version';
