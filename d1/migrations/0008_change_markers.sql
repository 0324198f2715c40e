-- 0008 (issue 11): change markers in pb_meta, moved by triggers, so that what an instance caches can
-- be checked with one small read instead of being read again. Each holds unix milliseconds and moves
-- to at least one past its last value (so it only grows, even ahead of a clock set back):
-- - listing_changed_ms: on every write that can change /packages.json: a package name added, removed
--   or renamed, a source added, removed, enabled, disabled, retyped or given other include patterns.
--   The listing's Last-Modified, so composer's If-Modified-Since gets a 304.
-- - documents_changed_ms: on every write to metadata_documents (the prebuilt p2 documents). A cached
--   document read under the value still read now is current, however long ago it was read.
-- Triggers rather than the writers, so that a change made with `wrangler d1 execute` moves them too.
-- Each trigger body is one statement and ends in an upper-case END: wrangler splits migration files on
-- semicolons and keeps a trigger whole only in that form.
INSERT INTO pb_meta (key, value) VALUES ('listing_changed_ms', CAST(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS TEXT))
  ON CONFLICT (key) DO NOTHING;
INSERT INTO pb_meta (key, value) VALUES ('documents_changed_ms', CAST(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS TEXT))
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

CREATE TRIGGER documents_added AFTER INSERT ON metadata_documents BEGIN
  UPDATE pb_meta SET value = CAST(MAX(CAST(value AS INTEGER) + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) AS TEXT) WHERE key = 'documents_changed_ms';
END;
CREATE TRIGGER documents_changed AFTER UPDATE ON metadata_documents BEGIN
  UPDATE pb_meta SET value = CAST(MAX(CAST(value AS INTEGER) + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) AS TEXT) WHERE key = 'documents_changed_ms';
END;
CREATE TRIGGER documents_removed AFTER DELETE ON metadata_documents BEGIN
  UPDATE pb_meta SET value = CAST(MAX(CAST(value AS INTEGER) + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) AS TEXT) WHERE key = 'documents_changed_ms';
END;

UPDATE pb_meta SET value = '8' WHERE key = 'schema_version';
