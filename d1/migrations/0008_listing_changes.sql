-- 0008 (issue 11): /packages.json's change marker, so the listing can carry a Last-Modified and answer
-- composer's If-Modified-Since with 304. pb_meta's listing_changed_ms moves (in unix milliseconds, to
-- at least one past its last value) on every write that can change the listing: a package name added,
-- removed or renamed, and a source added, removed, enabled, disabled, retyped or given other include
-- patterns. Triggers rather than the writers, so that a change made with `wrangler d1 execute` moves it
-- too. Each trigger body is one statement and ends in an upper-case END: wrangler splits migration files
-- on semicolons and keeps a trigger whole only in that form.
INSERT INTO pb_meta (key, value) VALUES ('listing_changed_ms', CAST(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS TEXT))
  ON CONFLICT (key) DO NOTHING;

CREATE TRIGGER listing_package_added AFTER INSERT ON packages BEGIN
  UPDATE pb_meta SET value = CAST(MAX(CAST(value AS INTEGER) + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) AS TEXT) WHERE key = 'listing_changed_ms';
END;
CREATE TRIGGER listing_package_removed AFTER DELETE ON packages BEGIN
  UPDATE pb_meta SET value = CAST(MAX(CAST(value AS INTEGER) + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) AS TEXT) WHERE key = 'listing_changed_ms';
END;
CREATE TRIGGER listing_package_renamed AFTER UPDATE OF name ON packages BEGIN
  UPDATE pb_meta SET value = CAST(MAX(CAST(value AS INTEGER) + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) AS TEXT) WHERE key = 'listing_changed_ms';
END;
CREATE TRIGGER listing_source_added AFTER INSERT ON sources BEGIN
  UPDATE pb_meta SET value = CAST(MAX(CAST(value AS INTEGER) + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) AS TEXT) WHERE key = 'listing_changed_ms';
END;
CREATE TRIGGER listing_source_removed AFTER DELETE ON sources BEGIN
  UPDATE pb_meta SET value = CAST(MAX(CAST(value AS INTEGER) + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) AS TEXT) WHERE key = 'listing_changed_ms';
END;
CREATE TRIGGER listing_source_changed AFTER UPDATE OF type, include_patterns, enabled ON sources BEGIN
  UPDATE pb_meta SET value = CAST(MAX(CAST(value AS INTEGER) + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) AS TEXT) WHERE key = 'listing_changed_ms';
END;

UPDATE pb_meta SET value = '8' WHERE key = 'schema_version';
