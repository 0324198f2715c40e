-- 0004 (sources hardening, issues 10 and 13). Webhook URLs carry a per-source nonce: the webhook secret
-- is derived from PB_WEBHOOK_KEY (or PB_ENCRYPTION_KEY), the source id and the nonce, so a delivery is
-- verified before anything is read; a new nonce (regeneration) makes the old URL and secret useless.
-- Existing sources get a fresh nonce here: their webhooks must be set up again with the new URL and
-- secret (POST /admin/api/sources/{id}/webhook-secret).
ALTER TABLE sources ADD COLUMN webhook_nonce TEXT;
UPDATE sources SET webhook_nonce = lower(hex(randomblob(16)));

-- What the upstream's packages.json advertises (metadata-url, metadata-changes-url, security advisories
-- api-url, list, providers-api, notify-batch), as JSON; read at creation and at every sync.
ALTER TABLE sources ADD COLUMN endpoints TEXT;
-- A packagist source's change-feed cursor, taken when the source is created (was pb_meta
-- 'packagist_since:<id>', set only at the first sync).
ALTER TABLE sources ADD COLUMN feed_cursor TEXT;
UPDATE sources SET feed_cursor = (SELECT value FROM pb_meta WHERE key = 'packagist_since:' || sources.id);
DELETE FROM pb_meta WHERE key LIKE 'packagist_since:%';
-- The last upstream security-advisories call: 'ok' | 'error', the error, when (admin view).
ALTER TABLE sources ADD COLUMN advisories_status TEXT;
ALTER TABLE sources ADD COLUMN advisories_error TEXT;
ALTER TABLE sources ADD COLUMN advisories_at INTEGER;

-- Webhook deliveries already taken (GitHub X-GitHub-Delivery, GitLab X-Gitlab-Event-UUID, Bitbucket
-- X-Request-UUID): a redelivery is answered without a second sync. Rows older than a week are pruned by
-- the next delivery to the same source.
CREATE TABLE webhook_deliveries (
  source_id    INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  delivery_id  TEXT NOT NULL,
  received_at  INTEGER NOT NULL,
  PRIMARY KEY (source_id, delivery_id)
);

UPDATE pb_meta SET value = '4' WHERE key = 'schema_version';
