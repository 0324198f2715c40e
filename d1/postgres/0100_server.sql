-- PostgreSQL twin of d1/migrations/0100_server.sql.
CREATE TABLE leases (
  name      TEXT PRIMARY KEY,
  holder    TEXT NOT NULL,
  until_ms  BIGINT NOT NULL
);
