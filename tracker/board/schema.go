package board

// formatVersion is the version of the database layout below. A model of
// another version is not read: it is emptied and rebuilt from the events.
const formatVersion = 11

// openEnd is the valid-to of a state that is still current.
const openEnd = int64(1<<63 - 1)

// schema creates the model's tables. Times are microseconds since the Unix
// epoch, UTC; an "at" time is the running maximum of the event times along
// a stream, so that the state as of T is the one after the longest prefix
// of the stream recorded at or before T (what a temporal load does, even
// when an import brought times that go backwards).
const schema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value ANY
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS items (
	rid         INTEGER PRIMARY KEY,
	id          TEXT NOT NULL,
	num         INTEGER NOT NULL,
	title       TEXT NOT NULL,
	description TEXT NOT NULL,
	type        TEXT NOT NULL,
	status      TEXT NOT NULL,
	priority    TEXT NOT NULL,
	prank       INTEGER NOT NULL,
	assignee    TEXT NOT NULL,
	initiative  TEXT NOT NULL,
	labels      TEXT NOT NULL,
	blockers    TEXT NOT NULL,
	version     INTEGER NOT NULL,
	created     INTEGER NOT NULL,
	updated     INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	extra       TEXT NOT NULL,
	-- the time of each event of the item's stream: see appendTime
	times       BLOB NOT NULL,
	-- its state intervals: see intervals.go
	intervals   BLOB NOT NULL,
	-- when its claim expires, 0 if it has none
	expires     INTEGER NOT NULL,
	-- how many of its blockers are not done (or not in the model): see
	-- openBlockers
	open_blockers INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS items_id ON items (id);
CREATE INDEX IF NOT EXISTS items_num ON items (num, id);
CREATE INDEX IF NOT EXISTS items_status ON items (status, num);
CREATE INDEX IF NOT EXISTS items_assignee ON items (assignee, num);
CREATE INDEX IF NOT EXISTS items_initiative ON items (initiative, num) WHERE initiative <> '';
CREATE INDEX IF NOT EXISTS items_created ON items (created, num);
CREATE INDEX IF NOT EXISTS items_updated ON items (updated, num);
-- The pool of ready: covering for a brief row (see briefCols), so that
-- a ready table reads these pages and not the items' wide rows; its order
-- is the whole of ready's (id included: no sort after the walk).
CREATE INDEX IF NOT EXISTS items_ready ON items (prank, created, num, id, expires, status, open_blockers, assignee, type, priority, updated, title)
	WHERE assignee = '' AND status IN ('backlog', 'ready');
CREATE INDEX IF NOT EXISTS items_claimed ON items (prank, created, num) WHERE expires <> 0;
-- The candidates of stuck, open ones (the terms Query.where adds), in ID
-- order, with what its test reads, and covering for a brief row and its
-- whyCols: Stuck reads no item's row (on the 10k seed, 4,361 of 10,000
-- items; the model grows by 6%). See Board.Stuck.
CREATE INDEX IF NOT EXISTS items_stuck ON items (num, id, status, open_blockers, expires, type, priority, assignee, created, updated, title, blockers, extra)
	WHERE status NOT IN ('done', 'cancelled') AND status <> '' AND ` + stuckCand + `;

-- Each item's comments (a JSON array), apart from its row: listings that
-- do not show them, and the index builds of a bulk load, then read a
-- tenth of the bytes.
CREATE TABLE IF NOT EXISTS comments (
	rid      INTEGER PRIMARY KEY,
	comments TEXT NOT NULL
);

-- labels carries each item's status too, so that "label X, status S"
-- is one range of its key, in ID order.
CREATE TABLE IF NOT EXISTS labels (
	label  TEXT NOT NULL,
	status TEXT NOT NULL,
	num    INTEGER NOT NULL,
	rid    INTEGER NOT NULL,
	PRIMARY KEY (label, status, num, rid)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS blockers (
	rid     INTEGER NOT NULL,
	blocker TEXT NOT NULL,
	PRIMARY KEY (rid, blocker)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blockers_blocker ON blockers (blocker);

CREATE TABLE IF NOT EXISTS initiatives (
	id          TEXT PRIMARY KEY,
	num         INTEGER NOT NULL,
	title       TEXT NOT NULL,
	description TEXT NOT NULL,
	status      TEXT NOT NULL,
	version     INTEGER NOT NULL,
	created     INTEGER NOT NULL,
	updated     INTEGER NOT NULL,
	at          INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS initiative_history (
	id          TEXT NOT NULL,
	from_at     INTEGER NOT NULL,
	to_at       INTEGER NOT NULL,
	title       TEXT NOT NULL,
	description TEXT NOT NULL,
	status      TEXT NOT NULL,
	version     INTEGER NOT NULL,
	created     INTEGER NOT NULL,
	updated     INTEGER NOT NULL,
	PRIMARY KEY (id, from_at, version)
) WITHOUT ROWID;

-- The activity feed is the log itself, read by blocks of positions:
-- see feed.go.
CREATE TABLE IF NOT EXISTS feed_blocks (
	blk      INTEGER PRIMARY KEY,
	min_time INTEGER NOT NULL,
	max_time INTEGER NOT NULL,
	types    INTEGER NOT NULL,
	actors   INTEGER NOT NULL,
	visible  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS feed_names (
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	bit  INTEGER NOT NULL,
	PRIMARY KEY (kind, name)
) WITHOUT ROWID;

-- Reservations of the dependency graph stream not yet settled: item waits
-- on blocker if its version after item_version records it (see
-- tracker.DependencyReserved).
CREATE TABLE IF NOT EXISTS reservations (
	item         TEXT NOT NULL,
	item_version INTEGER NOT NULL,
	blocker      TEXT NOT NULL,
	PRIMARY KEY (item, item_version, blocker)
) WITHOUT ROWID;

CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5 (
	title, description, comments,
	content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);
`

// stuckCand holds the items that may be stuck (see [Board.Stuck]): those
// blocked, waiting on a blocker, or claimed. The query names it word for
// word, so that SQLite reads the partial index items_stuck.
const stuckCand = "(status = 'blocked' OR open_blockers > 0 OR expires <> 0)"

// tables lists what a reset empties.
var tables = []string{"items", "comments", "labels", "blockers", "initiatives", "initiative_history", "feed_blocks", "feed_names", "reservations", "search"}
