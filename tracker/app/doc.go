// Package app holds Jerry's use cases: the operations the jerry command (or
// any other front end) runs on work items and initiatives. It is written
// against the es contracts (an [es.EventStore], an [es.SnapshotStore], an
// [es.LogReader]) and the read model of package board, whose file the
// caller names ([WithBoard]); cmd/jerry picks the concrete store. It opens
// no file and no database driver of its own.
//
// # For the faces
//
// Everything a face (the jerry command; later HTTP and MCP) needs beyond
// parsing and printing is here, so that no rule is written twice:
// [Explain] turns any error into one [Problem] (a code, a message, fields
// to act on, and a [Class] with its exit code), [Usage] marks a face's own
// usage errors, [Service.Follow] follows the log (with the store's
// subscription, else a 200 ms poll), [StreamLabel] and [Service.Describe]
// name streams and events for people, [Service.Members] loads an
// initiative's items and [Service.Card] an item with its blockers, the items
// waiting on it and its claim, now or as of a time. [Service.Stats] (pure:
// [ComputeStats]) gives the flow statistics that jerry stats prints and the
// web board draws (counts per status per day, throughput, work in progress,
// cycle-time percentiles), [Service.ItemIntervals] an item's status
// intervals for its timeline, and [Service.LogBounds] the log's first time
// and last position, where a live page starts following.
//
// # What it adds to the domain
//
//   - Work item and initiative IDs ("J-42", "I-7"): a number is taken by
//     appending to a counter stream with [es.Any]; the store gives each
//     append the next version atomically, so two agents creating items at
//     the same moment always get different numbers. The item's own stream
//     is then created with [es.NoStream].
//   - Writes with [es.Any] as the expected version retry on a conflict
//     ([es.Repository.Update]): concurrent agents never lose an update.
//     Writes with an exact expected version fail with a *es.ConcurrencyError
//     if the aggregate is at another version, and do not retry.
//   - Rules that span aggregates: an item starts only when its blockers are
//     done (their statuses are loaded for the domain to check); a blocker
//     that would close a cycle is refused, even when agents race to close
//     one: the check walks the graph in one cut of the read model, and the
//     block then appends a reservation to the [DependencyStream] expecting
//     the version that cut saw, so of two blocks checked against the same
//     graph only one goes on, and the other checks again (the reasoning,
//     crashes included, is in dependencies.go); an item's initiative field
//     and the initiative's members are two writes (add: initiative, then
//     item); every add, remove and create --initiative ends by making the
//     initiatives involved agree with the item, looking again if the item
//     changed meanwhile, so racing commands leave both sides agreeing, and
//     a crash between the writes is repaired by running add or remove again
//     (see initiatives.go).
//   - One read model: package board (tracker/board), an indexed SQLite
//     database fed from the global log, answers every question about many
//     items: [Service.Items], [Service.ListCards], [Service.List],
//     [Service.ReadyCards], [Service.Ready], [Service.ClaimReady]'s
//     candidates, [Service.Blocked], [Service.Search], [Service.Feed],
//     [Service.InitiativesAsOf], [Service.Initiatives], a card's blockers and
//     the items waiting on it ([Service.Card] now), and block's cycle check.
//     Each brings the model up to date first (a few rows per new event,
//     in transactions that move its checkpoint too). Questions about one
//     item or initiative (show, history, every write) load its aggregate
//     from the store and open no model, except show's card now.
//     [Service.RebuildBoard] recreates the model from the first event.
//   - Export and import of every event as JSON lines, and verification.
//
// # Errors
//
// Errors match the es and tracker sentinels with errors.Is: es.ErrNotFound
// (as a [*NotFoundError]), es.ErrConcurrency (a *es.ConcurrencyError),
// tracker.ErrClaimed (a *tracker.ClaimedError naming the holder),
// es.ErrInvalidInput (which tracker.ErrInvalidInput is) and its kinds,
// tracker.ErrInvalidTransition, tracker.ErrBlocked. [Explain] maps each to
// its code.
package app
