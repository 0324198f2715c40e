-- PostgreSQL twin of d1/migrations/0004_sources.sql. Existing sources get a fresh random nonce: 32 hex
-- digits from gen_random_uuid() (PostgreSQL 13+, a strong random source) where D1 uses randomblob(16).
ALTER TABLE sources ADD COLUMN webhook_nonce TEXT;
UPDATE sources SET webhook_nonce = replace(gen_random_uuid()::text, '-', '');

ALTER TABLE sources ADD COLUMN endpoints TEXT;
ALTER TABLE sources ADD COLUMN feed_cursor TEXT;
UPDATE sources SET feed_cursor = (SELECT value FROM pb_meta WHERE key = 'packagist_since:' || sources.id);
DELETE FROM pb_meta WHERE key LIKE 'packagist_since:%';
ALTER TABLE sources ADD COLUMN advisories_status TEXT;
ALTER TABLE sources ADD COLUMN advisories_error TEXT;
ALTER TABLE sources ADD COLUMN advisories_at BIGINT;

CREATE TABLE webhook_deliveries (
  source_id    BIGINT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  delivery_id  TEXT NOT NULL,
  received_at  BIGINT NOT NULL,
  PRIMARY KEY (source_id, delivery_id)
);

UPDATE pb_meta SET value = '4' WHERE key = 'schema_version';
