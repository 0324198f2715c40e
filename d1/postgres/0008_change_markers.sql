-- PostgreSQL twin of d1/migrations/0008_change_markers.sql: the same markers, moved by the same writes.
INSERT INTO pb_meta (key, value) VALUES ('listing_changed_ms', CAST(CAST(floor(extract(epoch FROM clock_timestamp()) * 1000) AS BIGINT) AS TEXT))
  ON CONFLICT (key) DO NOTHING;
INSERT INTO pb_meta (key, value) VALUES ('documents_changed_ms', CAST(CAST(floor(extract(epoch FROM clock_timestamp()) * 1000) AS BIGINT) AS TEXT))
  ON CONFLICT (key) DO NOTHING;

-- One function for both markers: the trigger names the key (TG_ARGV[0]).
CREATE FUNCTION pb_marker_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE pb_meta SET value = CAST(GREATEST(CAST(value AS BIGINT) + 1, CAST(floor(extract(epoch FROM clock_timestamp()) * 1000) AS BIGINT)) AS TEXT)
    WHERE key = TG_ARGV[0];
  RETURN NULL;
END
$$;

CREATE TRIGGER listing_package_added AFTER INSERT ON packages FOR EACH ROW EXECUTE FUNCTION pb_marker_moved('listing_changed_ms');
CREATE TRIGGER listing_package_removed AFTER DELETE ON packages FOR EACH ROW EXECUTE FUNCTION pb_marker_moved('listing_changed_ms');
CREATE TRIGGER listing_package_renamed AFTER UPDATE OF name ON packages FOR EACH ROW EXECUTE FUNCTION pb_marker_moved('listing_changed_ms');
CREATE TRIGGER listing_source_added AFTER INSERT ON sources FOR EACH ROW EXECUTE FUNCTION pb_marker_moved('listing_changed_ms');
CREATE TRIGGER listing_source_removed AFTER DELETE ON sources FOR EACH ROW EXECUTE FUNCTION pb_marker_moved('listing_changed_ms');
CREATE TRIGGER listing_source_changed AFTER UPDATE OF type, include_patterns, enabled ON sources FOR EACH ROW EXECUTE FUNCTION pb_marker_moved('listing_changed_ms');

CREATE TRIGGER documents_added AFTER INSERT ON metadata_documents FOR EACH ROW EXECUTE FUNCTION pb_marker_moved('documents_changed_ms');
CREATE TRIGGER documents_changed AFTER UPDATE ON metadata_documents FOR EACH ROW EXECUTE FUNCTION pb_marker_moved('documents_changed_ms');
CREATE TRIGGER documents_removed AFTER DELETE ON metadata_documents FOR EACH ROW EXECUTE FUNCTION pb_marker_moved('documents_changed_ms');

UPDATE pb_meta SET value = '8' WHERE key = 'schema_version';
