-- Checkpoints of consumers of the global log: one row per name, holding the
-- position of the last event the consumer has fully handled. {{schema}} is
-- replaced by the quoted schema name.
CREATE SCHEMA IF NOT EXISTS {{schema}};

CREATE TABLE IF NOT EXISTS {{schema}}.checkpoints (
    name     text        PRIMARY KEY CHECK (octet_length(name) BETWEEN 1 AND 80),
    position bigint      NOT NULL CHECK (position >= 0),
    saved_at timestamptz NOT NULL DEFAULT now()
);
