-- 0001: what the walking skeleton needs. pb_meta holds deployment-wide facts; /health reads
-- schema_version to tell a migrated database from an empty one. Later migrations bump it.
CREATE TABLE IF NOT EXISTS pb_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO pb_meta (key, value) VALUES ('schema_version', '1')
  ON CONFLICT (key) DO UPDATE SET value = excluded.value;
