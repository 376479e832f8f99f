// Package natsjs is an event store, snapshot store and checkpoint store on
// NATS JetStream, for a store that must survive the loss of a machine: with
// three replicas (R3) every acknowledged append is on a quorum of servers,
// and the store keeps working, after a leader election, when one of them
// goes. It implements es.EventStore, es.LogReader, es.Subscriber,
// es.SnapshotStore and es.CheckpointStore, and passes the es/estest and
// projectiontest suites.
//
// It needs nats-server 2.12 or later ([MinServerVersion]): atomic batch
// publish, and the per-subject expectation on a batch, came in 2.12. [New]
// refuses an older server with [ErrUnsupportedServer], both by the version
// the server reports and because the stream it creates comes back without
// atomic publish (an older server drops the option it does not know, and
// would store a batch message by message).
//
// # Layout
//
// One store is one JetStream stream, NAME (default JERRY), and two
// key-value buckets:
//
//   - The stream holds the events, one message each, on the subject
//     NAME.e.<stream ID in unpadded URL-safe base64>: one subject per event
//     stream. The headers Jerry-Id and Jerry-Version carry the event ID and
//     the version in its stream; the body is one JSON line (type, schema,
//     time, metadata) and, after the newline, the event's data as given. The
//     stream's sequence is the event's position in the global log.
//   - The stream denies deletes and purges and has no limits (no maximum
//     age, count or size), so its sequence runs 1, 2, 3... with no gaps:
//     [New] refuses an existing stream configured otherwise
//     ([ErrStreamConfig]).
//   - Bucket NAME_snapshots holds one key per snapshot (stream and
//     version); bucket NAME_checkpoints one key per checkpoint name.
//   - Appends publish a nudge on the core subject NAME.wake after each ack,
//     outside the stream, to wake subscribers in every process.
//
// # Appends
//
// An append sends its events as one JetStream atomic batch (one plain
// message for a single event). The batch's first message expects the
// subject's last message to be the one the append saw (header
// Nats-Expected-Last-Subject-Sequence): the server stores the whole batch
// only if no other append to the stream got in between, and nothing
// otherwise. JetStream's expectation compares stream sequences, not counts,
// which is why the version travels in a header: an append learns the
// stream's version, and the sequence to expect, from the stream's last
// message, read from the stream's leader (the message-get API, which a
// follower never answers). An append that expects the exact version this
// Store last wrote or read skips that read and lets the server check.
//
// When the server refuses the expectation (error 10071), reports another
// write to the subject in flight (10164, which says nothing of the outcome
// and can be spurious on a cluster), or the reply is lost (a timeout, a
// leader that went away), the append reads the stream's tail again and
// decides as the other adapters do, with [es.ConflictWindow] and
// [es.ResolveConflict]: events already stored with the same IDs at the
// versions it expected mean its earlier attempt succeeded, and it returns
// them; a stream at another version is a [*es.ConcurrencyError]; otherwise
// it sends again. Transient failures (no leader yet, timeouts, a server
// gone) are retried for up to [Options.RetryTimeout].
//
// # Reads
//
// Reads use JetStream's batched direct get, up to 1000 messages a request,
// which followers may answer and which may be behind the leader. So every
// read first asks the leader where it must end (the subject's last
// sequence, or the stream's), and keeps asking until it has read that far:
// a read that begins after an append was acknowledged includes it.
// ReadStream scans the subject from its first message, so reading the tail
// of a long stream costs as much as reading it whole. ReadLog checks that
// positions follow one another with no gap and reports a gap as a
// [*es.CorruptError].
//
// Subscribe follows the log with [es.Follow]: woken by the nudges of
// appends from any process, and polling every second for nudges lost on
// the way (core NATS delivers at most once).
//
// # Measured
//
// On this project's shared 2-core machine, against nats-server 2.15.2
// embedded in the test binary, as medians of five rounds that each ran the
// store and then raw JetStream publishes of the same bytes (bench_test.go):
// one-event appends ran at 0.94x (R1) and 0.90x (R3) the rate of a raw
// synchronous publish, 100-event appends at 0.96x (R1) and 0.79x (R3) that
// of a raw atomic batch of 100. Reading a 100,000-event stream ran at
// 14,000 to 35,000 events/s, and the global log likewise. When the leader
// of an R3 stream was killed with SIGKILL, appends resumed about 6 s later
// (the followers' election); when it was shut down, within a second.
//
// # What it cannot promise
//
//   - At most [MaxAppendEvents] (1000) events per append, JetStream's limit
//     on an atomic batch, against es's 10,000: a longer append is refused
//     with [es.ErrTooManyEvents]. Only 50 atomic batches may be open on one
//     stream at once; more concurrent multi-event appends wait and retry.
//   - Every message must fit the server's max_payload, 1 MiB by default. An
//     event of es.MaxEventSize (1 MiB of data, type and metadata) needs a
//     server with max_payload of at least 2 MiB; a larger message is
//     refused with [es.ErrEventTooLarge].
//   - Event IDs are unique in the store only within the server's duplicate
//     window (the stream's Duplicates, two minutes by default): an ID seen
//     in that window is refused with [es.ErrPartialDuplicate]; an ID stored
//     longer ago is not looked for. A retry with [es.Exact] is recognised
//     whatever the time; a retry with [es.Any] only while its events are the
//     stream's last, as for the other adapters.
//   - Durability is the server's: an append is acknowledged once a quorum
//     of the stream's replicas has it, but nats-server writes its files
//     through to disk only every two minutes by default (sync_interval).
//     With one replica a power loss can take back acknowledged appends
//     unless the server runs with sync_interval: always; with three, it
//     takes losing a majority of the machines at once.
//   - While a stream has no leader (after its leader is lost, for a few
//     seconds until the others elect one) appends and reads wait; they
//     fail if that lasts longer than [Options.RetryTimeout].
//   - The list of a stream's snapshots comes from a consumer that a
//     follower may serve, so LoadSnapshot may miss a snapshot saved a
//     moment before on another connection: a longer replay, never a wrong
//     state. Checkpoints are read from the leader.
//   - Subjects other than the store's in the stream, or messages put there
//     by other clients, are reported as [*es.CorruptError] when read.
package natsjs
