-- Jerry event store, schema version 1.
-- Runs inside one transaction with search_path set to the store's schema.

-- events holds every event once. position is the event's place in the global
-- log: 1..N with no gaps, in commit order (see head below). data and extra are
-- bytea so that the bytes a writer supplied come back exactly; read them with
-- convert_from(data, 'UTF8')::jsonb.
CREATE TABLE events (
    position       bigint      NOT NULL PRIMARY KEY,
    stream         text        NOT NULL,
    version        bigint      NOT NULL CHECK (version >= 1),
    type           text        NOT NULL,
    schema         integer     NOT NULL CHECK (schema >= 1),
    data           bytea       NOT NULL,
    actor          text        NOT NULL DEFAULT '',
    correlation_id text        NOT NULL DEFAULT '',
    causation_id   text        NOT NULL DEFAULT '',
    extra          bytea,
    time           timestamptz NOT NULL,
    id             uuid        NOT NULL,
    CONSTRAINT events_stream_version UNIQUE (stream, version),
    CONSTRAINT events_id UNIQUE (id)
);

-- head is a single row holding the last position handed out. Every append
-- updates it in its own transaction, so appends commit one after another and
-- positions become visible in order; a rolled-back append rolls its positions
-- back too, so no gap is ever left.
CREATE TABLE head (
    one      boolean NOT NULL PRIMARY KEY DEFAULT true CHECK (one),
    position bigint  NOT NULL
);
INSERT INTO head (one, position) VALUES (true, 0);

-- snapshots keeps aggregate states by stream and version.
CREATE TABLE snapshots (
    stream  text        NOT NULL,
    version bigint      NOT NULL CHECK (version >= 1),
    type    text        NOT NULL,
    schema  integer     NOT NULL CHECK (schema >= 1),
    state   bytea       NOT NULL,
    time    timestamptz NOT NULL,
    PRIMARY KEY (stream, version)
);
