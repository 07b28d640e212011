-- Evidence: records that point at write-once blobs by SHA-256. A correction is a new revision;
-- old revisions, their files and their control links stay readable. The vault holds the bytes;
-- `blobs` is the index of what the vault must hold (one row per distinct hash).

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY NOT NULL,
    size BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE evidence (
    id TEXT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL UNIQUE,
    -- Who added the first revision: employees see only their own submissions.
    created_by TEXT REFERENCES users (id),
    created_at TEXT NOT NULL,
    -- The current (latest) revision.
    revision BIGINT NOT NULL,
    -- Set when retention purged the files; the record stays as a tombstone.
    purged_at TEXT
);
CREATE INDEX evidence_created_by ON evidence (created_by);

CREATE TABLE evidence_revisions (
    evidence_id TEXT NOT NULL REFERENCES evidence (id),
    revision BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    link TEXT,
    -- The days the evidence covers (YYYY-MM-DD), not when it was added.
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    -- upload, integration or vouch.
    source TEXT NOT NULL,
    source_detail TEXT,
    -- Why this revision was made (for corrections).
    note TEXT NOT NULL,
    created_by TEXT REFERENCES users (id),
    created_by_label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (evidence_id, revision)
);

CREATE TABLE evidence_files (
    evidence_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    media_type TEXT NOT NULL,
    PRIMARY KEY (evidence_id, revision, position),
    FOREIGN KEY (evidence_id, revision) REFERENCES evidence_revisions (evidence_id, revision)
);
CREATE INDEX evidence_files_sha256 ON evidence_files (sha256);

CREATE TABLE evidence_controls (
    evidence_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    control_id TEXT NOT NULL REFERENCES controls (id),
    PRIMARY KEY (evidence_id, revision, control_id),
    FOREIGN KEY (evidence_id, revision) REFERENCES evidence_revisions (evidence_id, revision)
);
CREATE INDEX evidence_controls_control ON evidence_controls (control_id);
