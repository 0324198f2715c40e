-- 0007 (issue 12, the self-hosted server): leases that let one of several server replicas do a piece
-- of work at a time (the cron trigger's syncs). A lease is held until until_ms or until its holder
-- gives it back; the Worker does not use the table (Cloudflare fires each cron trigger once).
CREATE TABLE leases (
  name      TEXT PRIMARY KEY,
  holder    TEXT NOT NULL,
  until_ms  INTEGER NOT NULL
);

UPDATE pb_meta SET value = '7' WHERE key = 'schema_version';
