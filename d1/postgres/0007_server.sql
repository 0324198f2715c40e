-- PostgreSQL twin of d1/migrations/0007_server.sql.
CREATE TABLE leases (
  name      TEXT PRIMARY KEY,
  holder    TEXT NOT NULL,
  until_ms  BIGINT NOT NULL
);

UPDATE pb_meta SET value = '7' WHERE key = 'schema_version';
