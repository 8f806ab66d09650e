-- The audit tables: one row per statement, two per session (opened, closed). Parameters:
-- {db:Identifier}, {retention_days:UInt32}. The columns are schemas/audit-record.schema.json.
-- Inserts carry insert_deduplication_token = the writer's batch id; non_replicated_deduplication_window
-- makes a plain MergeTree honour it, so a replayed batch is stored once (ReplicatedMergeTree does by default).

CREATE TABLE IF NOT EXISTS {db:Identifier}.statements
(
    ts DateTime64(3, 'UTC'),
    session_id String,
    seq UInt32,
    identity_sub String,
    identity_groups Array(String),
    identity_issuer LowCardinality(String),
    identity_via LowCardinality(String),
    client_addr String,
    application_name String,
    database LowCardinality(String),
    protocol LowCardinality(String),
    statement_index UInt32,
    statement_count UInt32,
    command LowCardinality(String),
    tables_read Array(String),
    tables_written Array(String),
    statement String CODEC(ZSTD(3)),
    statement_form LowCardinality(String),
    sha256 String,
    fingerprint String,
    outcome LowCardinality(String),
    executed Bool,
    rule_ids Array(String),
    would_block Array(String),
    reason Nullable(String),
    masked_columns Array(String),
    rows Nullable(UInt64),
    duration_ms Float64,
    sqlstate Nullable(String),
    bundle_revision Nullable(String),
    grant_ids Array(String),
    approval_id Nullable(String),
    facts String CODEC(ZSTD(3)),
    prev_hash String,
    hash String,
    INDEX idx_sub identity_sub TYPE bloom_filter GRANULARITY 4,
    INDEX idx_tables_read tables_read TYPE bloom_filter GRANULARITY 4,
    INDEX idx_tables_written tables_written TYPE bloom_filter GRANULARITY 4,
    -- A session's timeline (WHERE session_id = ? ORDER BY seq) reads this copy sorted by session.
    PROJECTION by_session (SELECT * ORDER BY session_id, seq)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
-- Listing and cursor pagination go by (ts, session_id, seq).
ORDER BY (ts, session_id, seq)
TTL toDateTime(ts) + INTERVAL {retention_days:UInt32} DAY
-- rebuild: an operator's DELETE (erasure request) keeps the projection consistent instead of failing.
SETTINGS non_replicated_deduplication_window = 10000, lightweight_mutation_projection_mode = 'rebuild';

CREATE TABLE IF NOT EXISTS {db:Identifier}.session_events
(
    ts DateTime64(3, 'UTC'),
    session_id String,
    event LowCardinality(String),
    identity_sub String,
    identity_groups Array(String),
    identity_issuer LowCardinality(String),
    identity_via LowCardinality(String),
    client_addr String,
    application_name String,
    database LowCardinality(String),
    tls Bool,
    reason Nullable(String),
    sqlstate Nullable(String),
    bytes_in UInt64,
    bytes_out UInt64,
    statement_count UInt32,
    last_hash Nullable(String),
    INDEX idx_session session_id TYPE bloom_filter GRANULARITY 1,
    INDEX idx_sub identity_sub TYPE bloom_filter GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, session_id, event)
TTL toDateTime(ts) + INTERVAL {retention_days:UInt32} DAY
SETTINGS non_replicated_deduplication_window = 10000;
