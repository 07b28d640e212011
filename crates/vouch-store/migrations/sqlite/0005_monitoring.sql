-- Continuous monitoring: what each test evaluation read, what it found, and how each entity's
-- result changed over time (ADR 0013).

-- The resources (and versions) one evaluation round read, and the account links it used, so
-- any historical result can be evaluated again over exactly the same input.
CREATE TABLE test_snapshots (
    id TEXT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL UNIQUE,
    taken_at TEXT NOT NULL,
    resource_count BIGINT NOT NULL,
    -- SHA-256 of body.
    digest TEXT NOT NULL,
    -- {"resources": [[id, version], ...], "links": [[account_id, person_email, service, note], ...]}
    body TEXT NOT NULL
);

-- One evaluation of one test.
CREATE TABLE test_runs (
    id TEXT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL UNIQUE,
    test_id TEXT NOT NULL,
    test_version BIGINT NOT NULL,
    -- SHA-256 of manifest, policy and library modules: the exact logic.
    logic_hash TEXT NOT NULL,
    engine TEXT NOT NULL,
    params_json TEXT NOT NULL,
    snapshot_id TEXT NOT NULL REFERENCES test_snapshots (id),
    -- The `now` the test was evaluated at.
    evaluated_at TEXT NOT NULL,
    -- collection, schedule, manual or rerun.
    trigger_kind TEXT NOT NULL,
    -- The rolled-up test status at evaluated_at.
    status TEXT NOT NULL,
    counts_json TEXT NOT NULL,
    error TEXT,
    results_digest TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX test_runs_test ON test_runs (test_id, seq);

-- The current result of each entity of each test. Written only when it changes.
CREATE TABLE test_entities (
    test_id TEXT NOT NULL,
    entity TEXT NOT NULL,
    resource_id BIGINT,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    status_since TEXT NOT NULL,
    -- While failing: since when, and the deadline frozen from the SLA at that moment.
    first_failed_at TEXT,
    remediate_by TEXT,
    sla TEXT,
    last_changed_run TEXT NOT NULL,
    PRIMARY KEY (test_id, entity)
);

-- Every change of an entity's status: the failure intervals an auditor reads.
CREATE TABLE test_entity_events (
    seq BIGINT PRIMARY KEY NOT NULL,
    test_id TEXT NOT NULL,
    entity TEXT NOT NULL,
    resource_id BIGINT,
    run_id TEXT NOT NULL,
    at TEXT NOT NULL,
    -- NULL when the entity first appears; 'gone' when it leaves the results.
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX test_entity_events_entity ON test_entity_events (test_id, entity, seq);

-- Exceptions: excuse a whole test (entity NULL) or one entity, once approved, until expiry.
CREATE TABLE test_exceptions (
    id TEXT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL UNIQUE,
    test_id TEXT NOT NULL,
    entity TEXT,
    justification TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    approved_by TEXT,
    approved_at TEXT,
    expires_at TEXT NOT NULL,
    revoked_by TEXT,
    revoked_at TEXT
);
CREATE INDEX test_exceptions_test ON test_exceptions (test_id);

-- Alerts to deliver (an outbox): written in the transaction that found the change, sent
-- after it, retried until delivered. dedupe_key makes each alert happen once.
CREATE TABLE notifications (
    seq BIGINT PRIMARY KEY NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    attempts BIGINT NOT NULL,
    last_error TEXT,
    next_attempt_at TEXT NOT NULL
);
CREATE INDEX notifications_due ON notifications (sent_at, next_attempt_at);

-- Leased schedules (the monitoring round, the daily digest): claimed by compare-and-set on
-- next_run_at so with several instances each run happens once.
CREATE TABLE schedules (
    name TEXT PRIMARY KEY NOT NULL,
    next_run_at TEXT NOT NULL
);
