package postgres

import (
	"strings"

	"github.com/jackc/pgx/v5"
)

// statements holds the store's SQL with the schema's tables named in full, so
// that it does not depend on any connection's search_path. pgx prepares each
// statement once per connection and reuses it.
type statements struct {
	appendOne, appendMany     string
	streamVersion             string
	readStream, readLog       string
	lastPosition, findEventID string
	saveSnapshot, loadSnap    string
	lockHead, notify          string
}

const recordColumns = `position, stream, version, type, schema, data, actor, correlation_id, causation_id, extra, time, id`

func newStatements(schemaName string) statements {
	schema := pgx.Identifier{schemaName}.Sanitize()
	q := func(sql string) string { return strings.ReplaceAll(sql, "S.", schema+".") }
	// Both appends are one statement, run outside any explicit transaction,
	// so that a single round trip checks the expected version, takes the
	// next positions from head and inserts (the NOTIFY that wakes other
	// processes is sent after the commit: see hints). $2 is the
	// kind of expected version (1 exact, 2 stream exists, 3 any) and $3 the
	// exact version. When the check fails nothing is written and the
	// returned base is NULL; the returned current is the version the check
	// saw.
	//
	// cur reads the stream's version before head's row lock is taken, so
	// under concurrency it can be stale; stale only means lower, and then
	// the insert at cur+1 hits the (stream, version) unique constraint,
	// which the Go side turns into a conflict or a retry.
	const check = `
WITH cur AS (
	SELECT coalesce(max(version), 0) AS v FROM S.events WHERE stream = $1
), ok AS (
	SELECT v FROM cur
	WHERE CASE $2::int WHEN 1 THEN v = $3::bigint WHEN 2 THEN v > 0 ELSE true END
)`
	return statements{
		appendOne: q(check + `, h AS (
	UPDATE S.head SET position = head.position + 1 FROM ok
	RETURNING head.position AS base, ok.v + 1 AS ver
), ins AS (
	INSERT INTO S.events (` + recordColumns + `)
	SELECT h.base, $1, h.ver, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM h
)
SELECT cur.v, h.base FROM cur LEFT JOIN h ON true`),

		appendMany: q(check + `, h AS (
	UPDATE S.head SET position = head.position + cardinality($4::text[]) FROM ok
	RETURNING head.position - cardinality($4::text[]) AS base, ok.v AS ver
), ins AS (
	INSERT INTO S.events (` + recordColumns + `)
	SELECT h.base + e.ord, $1, h.ver + e.ord, e.type, e.schema, e.data, e.actor, e.corr, e.caus, e.extra, e.time, e.id
	FROM h, unnest($4::text[], $5::int[], $6::bytea[], $7::text[], $8::text[], $9::text[], $10::bytea[], $11::timestamptz[], $12::uuid[])
		WITH ORDINALITY AS e(type, schema, data, actor, corr, caus, extra, time, id, ord)
)
SELECT cur.v, h.base + 1 FROM cur LEFT JOIN h ON true`),

		streamVersion: q(`SELECT coalesce(max(version), 0) FROM S.events WHERE stream = $1`),
		readStream: q(`SELECT ` + recordColumns + ` FROM S.events
WHERE stream = $1 AND version >= $2 AND version <= $3 ORDER BY version LIMIT $4`),
		readLog: q(`SELECT ` + recordColumns + ` FROM S.events
WHERE position >= $1 ORDER BY position LIMIT $2`),
		lastPosition: q(`SELECT position FROM S.head`),
		lockHead:     q(`SELECT position FROM S.head FOR UPDATE`),
		// PostgreSQL gives a notifying transaction an ID, so its commit
		// would wait for a WAL flush of its own; a hint has nothing to
		// keep durable, so it commits without waiting (the notification
		// is delivered at the commit either way).
		notify: `SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)`,

		findEventID: q(`SELECT stream, version FROM S.events WHERE id = $1`),
		saveSnapshot: q(`INSERT INTO S.snapshots (stream, version, type, schema, state, time)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (stream, version) DO UPDATE
SET type = excluded.type, schema = excluded.schema, state = excluded.state, time = excluded.time`),
		loadSnap: q(`SELECT version, type, schema, state, time FROM S.snapshots
WHERE stream = $1 AND version <= $2 ORDER BY version DESC LIMIT 1`),
	}
}
