-- Drops divemap-ingest's own tables (children first). Divemap's tables are
-- untouched; the newsletters our messages were stored into stay.

DROP TABLE IF EXISTS ingest_unresolved;
DROP TABLE IF EXISTS ingest_parse_log;
DROP TABLE IF EXISTS ingest_checkpoints;
DROP TABLE IF EXISTS ingest_raw_messages;
DROP TABLE IF EXISTS ingest_messages;
