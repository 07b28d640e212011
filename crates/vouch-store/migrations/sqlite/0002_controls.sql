-- Controls and scope: the organisation's control matrix mapped to the criteria, and the
-- system under audit (one JSON document, validated by vouch-domain's Scope).

CREATE TABLE scope (
    id BIGINT PRIMARY KEY NOT NULL,
    doc TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE controls (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    domain TEXT NOT NULL,
    owner_role TEXT NOT NULL,
    owner_id TEXT REFERENCES users (id),
    backup_owner_id TEXT REFERENCES users (id),
    -- Frequency names separated by commas, e.g. 'annual,per_event'.
    frequencies TEXT NOT NULL,
    nature TEXT NOT NULL,
    -- JSON array of strings.
    evidence TEXT NOT NULL,
    applicable BIGINT NOT NULL,
    na_justification TEXT,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX controls_owner ON controls (owner_id);

CREATE TABLE control_criteria (
    control_id TEXT NOT NULL REFERENCES controls (id) ON DELETE CASCADE,
    criterion_id TEXT NOT NULL,
    PRIMARY KEY (control_id, criterion_id)
);
CREATE INDEX control_criteria_criterion ON control_criteria (criterion_id);
