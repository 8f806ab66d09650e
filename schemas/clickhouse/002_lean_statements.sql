-- Cheaper writes for statements, the table every statement adds a row to. Parameters: {db:Identifier}.
-- The by_session projection wrote every row a second time (and merged it again); a session's timeline
-- now finds its rows through a bloom filter on session_id, within the session's time range
-- (audit/queries-sessions.ts). Parts stay compact (one data file instead of two per column) until
-- merges make them large, so an insert batch writes a few files instead of about a hundred.

ALTER TABLE {db:Identifier}.statements
    DROP PROJECTION IF EXISTS by_session;

ALTER TABLE {db:Identifier}.statements
    ADD INDEX IF NOT EXISTS idx_session session_id TYPE bloom_filter GRANULARITY 1;

-- Existing parts get the index in the background (a mutation); new parts are written with it.
ALTER TABLE {db:Identifier}.statements
    MATERIALIZE INDEX idx_session;

ALTER TABLE {db:Identifier}.statements
    MODIFY SETTING min_bytes_for_wide_part = 134217728;
