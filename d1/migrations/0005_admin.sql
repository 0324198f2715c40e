-- 0005: administration (issue 8): named admins, the audit log, per-token licences and rate limits,
-- archive fetch counts next to notify-batch counts. Times are unix milliseconds.

-- Named admin tokens. Only the SHA-256 of the secret is kept. `owner` may manage admins, `maintainer`
-- everything else, `viewer` only reads. The ADMIN_TOKEN secret is the bootstrap owner and has no row.
CREATE TABLE admins (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  role          TEXT NOT NULL CHECK (role IN ('owner', 'maintainer', 'viewer')),
  token_hash    TEXT NOT NULL UNIQUE,
  token_prefix  TEXT NOT NULL,         -- first characters of the secret, to recognise it in lists
  created_at    INTEGER NOT NULL,
  created_by    TEXT NOT NULL,         -- the actor that created it ("admin:0" is ADMIN_TOKEN)
  revoked_at    INTEGER,
  last_used_at  INTEGER
);

-- Every admin change and every denied access. actor: "admin:<id>" (0 = the ADMIN_TOKEN secret),
-- "token:<id>", "anonymous", or "cli:<user>" for changes made with `broker --local/--remote`.
-- before/after: JSON of the changed object without secrets. count: identical denials an isolate
-- folded into this row (an isolate writes a denial at most once a minute per actor and reason, and
-- per path for known callers).
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  actor_name  TEXT,
  action      TEXT NOT NULL,           -- token.create, package.delete, access.denied, ...
  target      TEXT,                    -- what it was done to: "token:12", "package:acme/widget", a path
  method      TEXT,
  path        TEXT,
  status      INTEGER,
  reason      TEXT,
  before      TEXT,
  after       TEXT,
  count       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX audit_by_time ON audit_log (at);
CREATE INDEX audit_by_actor ON audit_log (actor, at);
CREATE INDEX audit_by_action ON audit_log (action, at);

-- Licences: a JSON list of {"packages":"acme/*","constraint":"^2.0","updates_until":ms|null}; versions
-- outside them are invisible to the token. rate_limit: requests per minute (NULL = the deployment's
-- default, 0 = unlimited).
ALTER TABLE tokens ADD COLUMN licences TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tokens ADD COLUMN rate_limit INTEGER;

-- downloads.count counts composer's notify-batch reports (installs); fetches counts archives served
-- whole by /dist (a cached install reports without fetching, a failed one fetches without reporting).
ALTER TABLE downloads ADD COLUMN fetches INTEGER NOT NULL DEFAULT 0;
CREATE INDEX downloads_by_day ON downloads (day);
CREATE INDEX downloads_by_token ON downloads (token_id, day);

-- Console sessions: an admin token exchanged for a short-lived cookie (POST /admin/api/sessions).
-- Only hashes are kept: of the cookie's secret and of the CSRF token that a state-changing call made
-- with the cookie must echo in X-CSRF-Token. admin_id 0 is the ADMIN_TOKEN secret.
CREATE TABLE admin_sessions (
  id          INTEGER PRIMARY KEY,
  token_hash  TEXT NOT NULL UNIQUE,
  csrf_hash   TEXT NOT NULL,
  admin_id    INTEGER NOT NULL,
  admin_name  TEXT NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('owner', 'maintainer', 'viewer')),
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  revoked_at  INTEGER
);

UPDATE pb_meta SET value = '5' WHERE key = 'schema_version';
