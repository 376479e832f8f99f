// Package board is Jerry's read model: every work item and initiative, the
// state intervals that answer lists as of a past time, and the activity
// feed, kept in an embedded SQLite database (modernc.org/sqlite, pure Go)
// and fed from the store's global log. It answers list, ready, search,
// initiative list and log with indexed queries, so that a command's cost
// follows what it prints, not the size of the store.
//
// # Model
//
// The database holds, per work item, one row of its current state (every
// field list and ready need, when its claim expires, its comments, the
// time of each of its events, and its state intervals: each state of the
// fields lists filter on, sort on and show, from the time it began,
// delta-encoded in one value, see intervals.go), its labels and blockers in
// tables of their own; per initiative, its state and intervals; a
// full-text index (FTS5) over titles, descriptions and comments; and, for
// the activity feed, one row per block of 256 log positions saying what
// the block holds (its time range, which actors and event types, how many
// item and initiative events): the feed reads the log itself, but only the
// blocks that may match (feed.go). A small meta table holds the format
// version, the log position the model reflects, the ID of the event there,
// and the version of the dependency graph stream, whose unsettled
// reservations have a table too.
//
// Lists now are indexed queries that stop at their limit (ready reads the
// unclaimed items and the expired claims each from a partial index in
// priority order); lists as of a time read the items' intervals in ID
// order and stop at the limit too (asof.go). An empty model is filled by
// a bulk load: the log read, folded in memory and inserted on three
// goroutines, rows in key order in large statements, all in one
// transaction with the checkpoint (bulk.go); later catch-ups apply the new
// events row by row, in transactions of at most Options.BatchSize.
//
// Initiative members are not stored on the initiative's side: they are
// the items whose initiative field names it, so that the two sides of
// membership agree for every reader at every moment.
//
// # Guarantees
//
//   - Exactly once: [Board.CatchUp] applies the events after the model's
//     position in transactions that also move the position, so each
//     event's effect lands once, whatever process is killed when; the
//     next catch-up goes on from the last committed transaction (a bulk
//     load killed half way leaves the model empty, and starts over).
//   - Incremental: a catch-up after N new events reads and writes rows of
//     the items those events touch and the feed blocks they fall in, O(N),
//     whatever the number of items.
//   - Several processes: SQLite's write lock serialises catch-ups; each
//     transaction reads the position under it, so two processes catching
//     up at once never apply an event twice. Readers (WAL mode) see one
//     committed state and do not wait for a writer.
//   - As of a time: lists, ready and initiatives as of T show each item in
//     the state after the longest prefix of its stream recorded at or
//     before T, as a temporal load of the aggregate does (even when an
//     import brought times that go backwards along a stream); they equal
//     folding the log up to T.
//   - Never trusted blindly: a file that is not a model of this format, is
//     shorter than its header says, or that SQLite reports damaged, is
//     removed and rebuilt ([Open], [Board.CatchUp]; a query that meets
//     damage returns an error matching [ErrDamaged], and [Board.Repair]
//     starts over). A model built from another store (the event at its
//     position is not the one it recorded) is emptied and rebuilt.
//     Deleting the file is always safe: the next catch-up rebuilds it.
//
// # Where it lives
//
// The caller chooses the file: beside a file store (DIR/readmodels/), or,
// for a PostgreSQL store, a local cache file named by the store's identity
// ([CachePath]). The package's shared test suite, boardtest, runs on
// every event store backend.
//
// # Errors
//
// Damage matches [ErrDamaged]; invalid queries match
// tracker.ErrInvalidInput; a closed board returns an error matching
// es.ErrClosed.
package board
