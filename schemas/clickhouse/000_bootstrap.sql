-- Run at every start before the numbered migrations: the database and the two bookkeeping tables.
-- Parameters: {db:Identifier}. Every statement is idempotent.
CREATE DATABASE IF NOT EXISTS {db:Identifier};

-- One row per applied migration file (001_init.sql → version 1).
CREATE TABLE IF NOT EXISTS {db:Identifier}.schema_migrations
(
    version UInt32,
    name String,
    applied_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY version;

-- Settings the tables were last altered to (retention_days), so a restart changes nothing.
CREATE TABLE IF NOT EXISTS {db:Identifier}.audit_meta
(
    key String,
    value String,
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY key;
