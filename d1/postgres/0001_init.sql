-- PostgreSQL twin of d1/migrations/0001_init.sql (same tables and columns; see docs/SELF-HOSTING.md).
CREATE TABLE IF NOT EXISTS pb_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO pb_meta (key, value) VALUES ('schema_version', '1')
  ON CONFLICT (key) DO UPDATE SET value = excluded.value;
