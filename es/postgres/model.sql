-- Read models saved whole: one row per name, holding the encoded state and
-- the position in the global log it reflects. {{table}} is replaced by the
-- quoted schema.table. (The table name is the one jerry has always used, so
-- that existing databases keep their read models.)
CREATE TABLE IF NOT EXISTS {{table}} (
    name     text        PRIMARY KEY,
    position bigint      NOT NULL CHECK (position >= 0),
    state    bytea       NOT NULL,
    saved_at timestamptz NOT NULL DEFAULT now()
);
