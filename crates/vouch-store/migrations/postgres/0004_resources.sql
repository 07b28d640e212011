-- Collected resources with their history, the runs that collected them, the integrations
-- that run on a schedule, and the links between accounts and people.
--
-- A run is applied all or nothing: a failed run writes its `collection_runs` row (and its raw
-- files as evidence) but never touches `resources`. Within a run's scope, a resource the run
-- no longer contains gets `deleted_at`; `resource_versions` keeps every state a resource has
-- had, so its state on any day can be read back.

CREATE TABLE integrations (
    name TEXT PRIMARY KEY NOT NULL,
    -- github, okta, google_workspace or aws.
    kind TEXT NOT NULL,
    -- The settings that are not secret, as JSON.
    settings_json TEXT NOT NULL,
    -- The credential; written, never shown back.
    secret TEXT,
    -- Minutes between scheduled runs; NULL runs only on demand.
    schedule_minutes BIGINT,
    enabled BIGINT NOT NULL,
    -- Controls the runs' raw evidence supports, as a JSON array of control ids.
    controls_json TEXT NOT NULL,
    -- When the next scheduled run is due. Claimed by compare-and-set so that with several
    -- instances exactly one runs it.
    next_run_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE collection_runs (
    id TEXT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL UNIQUE,
    -- The integration's name, or `import` for a file import.
    source TEXT NOT NULL,
    -- The importer or connector kind: hr_roster_csv, github, …
    kind TEXT NOT NULL,
    system TEXT,
    -- The full-sync scope this run replaces.
    scope TEXT NOT NULL,
    -- schedule, manual or import.
    trigger_kind TEXT NOT NULL,
    started_by TEXT REFERENCES users (id),
    started_by_label TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    -- succeeded or failed.
    status TEXT NOT NULL,
    error TEXT,
    warnings_json TEXT NOT NULL,
    -- {"total", "added", "changed", "unchanged", "deleted", "restored"} as JSON.
    counts_json TEXT NOT NULL,
    collector_version TEXT NOT NULL,
    -- The evidence record holding the raw files or API responses the run read.
    evidence_id TEXT REFERENCES evidence (id)
);
CREATE INDEX collection_runs_source ON collection_runs (source, seq);

CREATE TABLE resources (
    id BIGINT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    system TEXT NOT NULL,
    natural_key TEXT NOT NULL,
    -- The full-sync scope that last reported it (an integration, or an import's kind/system).
    scope TEXT NOT NULL,
    attrs_json TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    deleted_at TEXT,
    -- The number of its latest row in resource_versions.
    version BIGINT NOT NULL,
    last_run_id TEXT NOT NULL,
    UNIQUE (kind, system, natural_key)
);
CREATE INDEX resources_scope ON resources (scope);
CREATE INDEX resources_kind ON resources (kind, system);

CREATE TABLE resource_versions (
    resource_id BIGINT NOT NULL REFERENCES resources (id),
    version BIGINT NOT NULL,
    -- added, changed, deleted or restored.
    change TEXT NOT NULL,
    -- The attributes from valid_from until valid_to (NULL: still current). A deleted
    -- version keeps the last attributes seen.
    attrs_json TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    run_id TEXT NOT NULL,
    PRIMARY KEY (resource_id, version)
);
CREATE INDEX resource_versions_run ON resource_versions (run_id);

CREATE TABLE account_links (
    -- The account resource.
    account_id BIGINT PRIMARY KEY NOT NULL REFERENCES resources (id),
    -- The person's email (an HR roster key), or NULL for a service account.
    person_email TEXT,
    service BIGINT NOT NULL,
    note TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL
);
