-- PostgreSQL twin of d1/migrations/0006_queue.sql: the claim on a source's sync.
ALTER TABLE sources ADD COLUMN sync_lease_id TEXT;
ALTER TABLE sources ADD COLUMN sync_lease_until BIGINT;

UPDATE pb_meta SET value = '6' WHERE key = 'schema_version';
