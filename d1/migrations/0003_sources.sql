-- 0003: upstream sources (issue 4). A source is where packages come from: another Composer repository,
-- packagist.org (mirrored lazily), or a GitHub/GitLab/Bitbucket repository. Inline credentials are kept
-- only encrypted (AES-256-GCM with the PB_ENCRYPTION_KEY secret); `credentials_secret` names a Worker
-- secret instead. The last sync's outcome is kept on the row for the admin API.
CREATE TABLE sources (
  id                     INTEGER PRIMARY KEY,
  type                   TEXT NOT NULL CHECK (type IN ('composer', 'packagist', 'github', 'gitlab', 'bitbucket')),
  url                    TEXT NOT NULL,
  api_url                TEXT,
  credentials_type       TEXT CHECK (credentials_type IN ('basic', 'bearer')),
  credentials_enc        TEXT,             -- {"iv":..,"ct":..} of the credentials JSON
  credentials_secret     TEXT,             -- name of a Worker secret holding the credentials
  include_patterns       TEXT NOT NULL DEFAULT '[]',
  exclude_patterns       TEXT NOT NULL DEFAULT '[]',
  webhook_secret_enc     TEXT,             -- {"iv":..,"ct":..} of the webhook secret
  sync_interval_s        INTEGER NOT NULL DEFAULT 3600,
  enabled                INTEGER NOT NULL DEFAULT 1,
  sync_cursor            TEXT,             -- resumable sync state (JSON), null when idle
  next_sync_at           INTEGER NOT NULL DEFAULT 0,
  last_sync_status       TEXT CHECK (last_sync_status IN ('running', 'ok', 'error')),
  last_sync_started_at   INTEGER,
  last_sync_finished_at  INTEGER,
  last_sync_packages     INTEGER,
  last_sync_versions     INTEGER,
  last_sync_error        TEXT,
  created_at             INTEGER NOT NULL,
  updated_at             INTEGER NOT NULL
);

-- Packages and versions know which source they came from (NULL: uploaded artifacts).
ALTER TABLE packages ADD COLUMN source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL;
ALTER TABLE versions ADD COLUMN source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL;
-- Where the archive comes from upstream, until it is held in R2 (dist_key).
ALTER TABLE versions ADD COLUMN upstream_dist_url TEXT;
-- Single flight for first downloads: the request holding the lease fetches upstream, others wait for R2.
ALTER TABLE versions ADD COLUMN fetch_lease_until INTEGER;
-- The upstream Last-Modified of a mirrored package's metadata, sent back as If-Modified-Since.
ALTER TABLE packages ADD COLUMN upstream_last_modified TEXT;

-- Security advisories an admin records for private packages (mirrored packages' advisories come from
-- their source). Fields follow Composer's advisory format.
CREATE TABLE advisories (
  id                 INTEGER PRIMARY KEY,
  package_name       TEXT NOT NULL,
  advisory_id        TEXT NOT NULL UNIQUE,
  title              TEXT NOT NULL,
  affected_versions  TEXT NOT NULL,
  cve                TEXT,
  link               TEXT,
  severity           TEXT,
  reported_at        INTEGER NOT NULL,
  created_at         INTEGER NOT NULL
);
CREATE INDEX advisories_by_package ON advisories (package_name);

-- Refs a VCS sync skipped, with the reason (no composer.json, invalid composer.json, bad tag name).
CREATE TABLE skipped_refs (
  source_id   INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  ref         TEXT NOT NULL,
  reason      TEXT NOT NULL,
  seen_at     INTEGER NOT NULL,
  PRIMARY KEY (source_id, ref)
);

UPDATE pb_meta SET value = '3' WHERE key = 'schema_version';
