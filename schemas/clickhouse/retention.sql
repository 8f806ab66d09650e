-- Applied only when audit.retention_days differs from the value recorded in audit_meta (it starts a
-- MATERIALIZE TTL mutation). Parameters: {db:Identifier}, {retention_days:UInt32}.
ALTER TABLE {db:Identifier}.statements
    MODIFY TTL toDateTime(ts) + INTERVAL {retention_days:UInt32} DAY;

ALTER TABLE {db:Identifier}.session_events
    MODIFY TTL toDateTime(ts) + INTERVAL {retention_days:UInt32} DAY;
