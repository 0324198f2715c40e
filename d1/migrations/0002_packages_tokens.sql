-- 0002: packages, their versions, the prebuilt Composer metadata documents, access tokens and download
-- counters (issue 3). Times are unix milliseconds unless the column says otherwise.

-- One row per package name (lower-case vendor/name). revision goes up on every change to the
-- package's versions; metadata documents record the revision they were built from.
CREATE TABLE packages (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  source      TEXT NOT NULL DEFAULT 'artifact',
  revision    INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

-- One row per version. composer_json is the normalized composer.json (as stored in the archive, minus
-- "version"); versions are immutable: (package_id, version_normalized) is unique.
CREATE TABLE versions (
  id                 INTEGER PRIMARY KEY,
  package_id         INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
  version            TEXT NOT NULL,
  version_normalized TEXT NOT NULL,
  stability          TEXT NOT NULL,
  is_dev             INTEGER NOT NULL DEFAULT 0,
  reference          TEXT NOT NULL,
  composer_json      TEXT NOT NULL,
  dist_type          TEXT NOT NULL DEFAULT 'zip',
  dist_key           TEXT,             -- R2 key of the archive, when we hold it
  dist_shasum        TEXT,             -- sha1 hex of the archive bytes
  dist_sha256        TEXT,
  dist_size          INTEGER,
  release_time       INTEGER,          -- when the version was released (upload time for artifacts)
  source             TEXT NOT NULL DEFAULT 'artifact',
  created_at         INTEGER NOT NULL,
  UNIQUE (package_id, version_normalized)
);
-- /dist lookups are by package and reference.
CREATE INDEX versions_by_reference ON versions (package_id, reference);

-- Prebuilt p2 documents: key is the path without the leading slash ("p2/acme/widget.json",
-- "p2/acme/widget~dev.json"). body holds the JSON; documents over D1's row limit live in R2 (blob_key).
CREATE TABLE metadata_documents (
  key            TEXT PRIMARY KEY,
  package_id     INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
  body           TEXT,
  blob_key       TEXT,
  last_modified  TEXT NOT NULL,        -- HTTP date, sent as Last-Modified
  revision       INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);

-- Access tokens: only the SHA-256 of the secret is kept. packages is a JSON list of name patterns
-- ("acme/*"); access 'read' may install, 'update' may also bring in new mirrored packages.
CREATE TABLE tokens (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL,
  token_hash    TEXT NOT NULL UNIQUE,
  token_prefix  TEXT NOT NULL,         -- first characters of the secret, to recognise it in lists
  packages      TEXT NOT NULL DEFAULT '["*"]',
  access        TEXT NOT NULL DEFAULT 'read' CHECK (access IN ('read', 'update')),
  expires_at    INTEGER,
  revoked_at    INTEGER,
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER
);

-- Download counts from composer's notify-batch, per package, version, token (0 = unknown) and day.
CREATE TABLE downloads (
  package_id          INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
  version_normalized  TEXT NOT NULL,
  token_id            INTEGER NOT NULL DEFAULT 0,
  day                 TEXT NOT NULL,   -- YYYY-MM-DD (UTC)
  count               INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (package_id, version_normalized, token_id, day)
);

UPDATE pb_meta SET value = '2' WHERE key = 'schema_version';
