// Package projection keeps read models up to date from a store's global log.
//
// A [Runner] reads the log from a projection's checkpoint, hands the events to
// the projection in batches, and saves the checkpoint after each batch (or
// less often, see [Options.CheckpointEvery]), so that a restarted projection
// resumes where it stopped instead of replaying the whole store. It has three
// modes:
//
//   - [Runner.CatchUp] reads to the store's current end and returns: what a
//     command such as `jerry list` calls before answering from its read model.
//   - [Runner.Run] catches up, then follows new events as they commit, until
//     its context is cancelled. It follows through [es.Subscriber] when the
//     store has it (woken by commits), and otherwise polls the
//     [es.LogReader] every [Options.PollInterval].
//   - [Runner.Rebuild] resets the checkpoint to zero and catches up from the
//     first event, reporting progress through [Options.Progress].
//
// [Subscribe] is the runner's live source on its own, for consumers that want
// the events rather than a read model, such as `jerry log --follow`.
//
// # Guarantees
//
//   - Order: a projection sees events in log position order, each position
//     at most once per run, none skipped. A checkpoint beyond the end of the
//     log (a replaced store, or one that lost events) is refused with
//     [ErrCheckpointBeyondLog], rather than skipping the events that will
//     take those positions.
//   - At-least-once across runs: the checkpoint is saved after the batch is
//     applied, so a crash (or an error saving the checkpoint) between the two
//     makes the next run apply those events again. Make handlers idempotent,
//     or keep the checkpoint with the read model: a projection that
//     implements [Committer] (such as the PostgreSQL adapter's transactional
//     projection) commits each batch and its checkpoint together, and a read
//     model that is itself the [es.CheckpointStore] (saving its state and
//     position in one file write) gets the same effect.
//   - Starting from zero is a rebuild: when the checkpoint is 0 (a new
//     projection, or after [Runner.Rebuild], even one interrupted by a crash)
//     the runner calls the projection's Reset ([Resetter]) before the first
//     batch, so a read model never gets events applied twice on top of an
//     old state.
//   - Graceful stop: when the context is cancelled, the runner abandons the
//     batch it was gathering, lets a batch already being applied finish (or
//     fail with the context's error, in which case it is abandoned too),
//     saves the checkpoint of exactly what was applied, and returns.
//   - Errors are never swallowed: a failing handler stops the runner, which
//     returns an [*Error] carrying the projection's name and the position of
//     the event (or batch) that failed, wrapping the handler's error. The
//     failed batch is not checkpointed, so it is retried on the next run.
//   - Schema evolution: with [Options.Registry], every event is upcast to
//     its current schema before the projection sees it.
//   - Bounded memory: the runner holds at most one batch and, in live mode,
//     one batch-sized queue; a slow projection slows only itself.
//
// A Runner runs one mode at a time; run one Runner per checkpoint name.
package projection
