// Package jsonfile is Jerry's embedded default event store: a directory of
// human-readable JSON-lines files, safe for many goroutines and many
// processes at once, durable by default, and crash-safe. It implements
// es.EventStore, es.LogReader, es.Subscriber and es.SnapshotStore.
//
//	s, err := jsonfile.Open(".jerry")
//	...
//	defer s.Close()
//
// It is for local filesystems only (ext4, xfs, btrfs, apfs and the like). It
// relies on flock(2) and fsync(2) behaving as they do on a local disk; on
// NFS, SMB or other network filesystems the lock may be ignored and appends
// may be lost or interleaved.
//
// # Layout
//
//	DIR/LOCK                    the cross-process lock (flock); holds the pid of the last writer to take it
//	DIR/events.jsonl            the log: every event, once, in commit order
//	DIR/head                    derived: how far the indexes are up to date
//	DIR/positions.idx           derived: position -> line of the log
//	DIR/streams/NAME.idx        derived: version -> line of the log, per stream
//	DIR/streams.tab             derived: every stream's version, a second time
//	DIR/snapshots/NAME/V.json   one snapshot per file; V is 20 digits
//	DIR/repairs.jsonl           the record of every repair made to the store
//
// The byte-level format of each file is in docs/file-format.md in the
// repository. The data lives once, in the log. Each line is one record, a
// JSON object with its keys in a fixed order and a CRC-32C of the rest of
// the line:
//
//	{"position":7,"stream":"item-1","version":3,"type":"Renamed","schema":1,"time":"2026-11-20T10:00:00.000000Z","id":"0193…","last":true,"metadata":{"actor":"ann"},"data":{…},"crc":"1c2d3e4f"}
//
// so `cat`, `grep` and `jq` work on it (`jq -c 'select(.stream=="item-1")'
// DIR/events.jsonl`). "last" marks the final record of one Append call: a
// call's records are consecutive lines, and recovery keeps them only if the
// last one is intact, which keeps appends atomic across crashes. Data is
// stored as given, except that a document containing line breaks (which
// can only be insignificant whitespace) is compacted onto one line.
//
// Everything else is derived from the log and could be rebuilt from it. The
// index files hold fixed-size binary entries (offset, length and a CRC-32C
// of the entry), grown in zero-filled chunks. The stream table holds each
// stream's version beside its index file, so that damage to either is seen:
// an index file that is missing, emptied, cut short or copied from another
// stream disagrees with the table, or its last entry does not point to the
// stream's record of that version. The head holds the log size and last
// position the indexes cover, the point up to which they are durable,
// whether the writer synced, and the boot ID of the machine that wrote it. NAME is an injective, filesystem-safe encoding
// of the stream ID: bytes in [a-z0-9-] stand for themselves, every other
// byte is '_' and two hex digits ("a/b" is "a_2fb", "a_b" is "a_5fb", ".."
// is "_2e_2e", "A" is "_41", so names never collide on case-insensitive
// filesystems); an encoding over 180 bytes is cut and followed by '~' and
// 128 bits of SHA-256 of the ID. Every record carries its full stream ID and
// readers check it.
//
// # Writing
//
// An append takes the directory lock (flock, exclusive), checks the
// expected version against the stream's index (itself checked against the
// stream table), assigns versions and global positions, writes its lines at
// the end of the log, and fdatasyncs the log once. Then it writes the
// indexes, the table and the head, without fsync (they are derived, and are
// repaired from the log; see Recovery), and only then is it acknowledged.
// So each commit costs one write to the log and one fsync, and the version check and
// the position are decided under the same lock, by whichever process holds
// it.
//
// Within a process, appends are committed in groups: while one commit is
// in flight, the appends that arrive queue up, and the next commit writes
// all of them with one write and one fsync. Concurrent writers therefore
// share syncs; one writer's append rate is bounded by the disk's sync rate.
// An Append whose context ends while it waits returns at once (see Append).
//
// NoSync skips the fsync; see it for what that risks.
//
// A directory the process may read but not write is opened read-only (see
// Open): reads work, writes fail with an error matching fs.ErrPermission.
//
// Several processes may open one directory at once. The lock is flock(2),
// which the kernel releases when its holder dies, so a process killed while
// holding it never blocks the others. A writer that has waited for the lock
// longer than a few seconds says which process holds it (OnLockWait).
//
// # Reading
//
// Reads take no lock, and Open takes it only if it is free (or the derived
// files must be rebuilt): a writer stuck holding the lock, in a slow fsync
// or stopped, never delays a reader. The log is append-only, it is only
// ever cut beyond the committed size, and readers learn that size from the
// head, which writers update last. Opening a store costs a few small reads,
// never a scan of the log; reading a stream reads the stream table's slot,
// its index and only the lines it points to (neighbouring lines in one
// read); the global log is read sequentially with one reused buffer. Append
// cost does not depend on the stream's length or the store's size.
//
// Subscribe follows the log with es.Follow: appends in this process wake
// subscribers at once; appends by other processes are found by polling the
// head every DefaultPollInterval (100 ms; see WithPollInterval).
//
// # Recovery
//
// An acknowledged append is never cut. On Open, and whenever a process
// takes the lock:
//   - A log longer than a head of this boot: a writer died between its log
//     write and its index writes, before acknowledging anything there. The
//     tail is read; complete appends are synced and indexed; a torn line or
//     an append without its last record is cut and reported.
//   - A log shorter than the head says was committed: acknowledged events
//     are missing. Open fails with an *es.CorruptError naming the log and
//     the offset, cuts nothing, writes nothing, and fails the same way every
//     time until a person runs Repair. (Except after a crash of the machine
//     under NoSync, whose head says so: those appends were the option's
//     risk, and the rest is rebuilt and reported.)
//   - A head written before the last reboot: the derived files are written
//     without fsync, but every 1 MiB of log a writer makes them durable (one
//     syncfs(2), on Linux) and records that point, synced, in the head. So
//     the first open after a reboot indexes only the log past the last such
//     checkpoint, as it does a dead writer's tail. A damaged tail is cut
//     only past the size the head says was committed.
//   - A head missing or damaged, or one with no checkpoint (NoSync writers
//     make none; nor do systems without syncfs): the derived files are
//     rebuilt from the whole log, which is read once. With no head nothing
//     is cut: damage is then an error, as above.
//   - Damage followed by valid lines is damage in the middle of committed
//     data: it is never cut and never skipped; Open (or the read that meets
//     it) fails with an *es.CorruptError naming the file and the offset.
//   - Derived files that disagree with the log or with each other (the
//     head, positions.idx's last entry and the log's last line are compared
//     at the first lock of a process; a stream's index and the table at
//     each append to it) are rebuilt from the log and the rebuild reported.
//
// Every repair is reported by Recovered, to the process that made it, and
// recorded durably in repairs.jsonl, which Verify lists. Reads check every
// line's checksum, every index entry they use, and each stream's index
// against the table; a mismatch is an *es.CorruptError naming the file,
// never a panic, never a silently skipped record, never a shorter stream.
// Verify checks the whole store; Reindex rebuilds the derived files; Repair
// rebuilds the store from what its log holds when acknowledged data is
// damaged, and records what was lost.
//
// After a failed write or fsync the store refuses further appends until it
// is reopened (the state of the file after a failed fsync is unknown), and
// takes back what it wrote so that no other process builds on it.
//
// # Snapshots
//
// A snapshot is one file, written to a temporary name, fsynced, renamed into
// place, and the directory fsynced (internal/atomicfile). The latest snapshot, and the latest at or
// before a version, are found by listing the stream's snapshot directory.
// Old snapshots are kept.
//
// # Building a store at once
//
// Build fills a new store beside its directory (DIR.build) and renames it
// into place once it is complete and durable, so that an import is all or
// nothing: a process killed, or a disk that fills up, before the rename
// leaves DIR as it was.
//
// # Limits
//
// Event and append sizes are those of package es (es.MaxEventSize,
// es.MaxAppendEvents). Event times must fall in the years 1 to 9999.
package jsonfile
