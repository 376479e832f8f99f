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
//	DIR/LOCK                    empty; the cross-process lock (flock)
//	DIR/events.jsonl            the log: every event, once, in commit order
//	DIR/head                    derived: how far the indexes are up to date
//	DIR/positions.idx           derived: position -> line of the log
//	DIR/streams/NAME.idx        derived: version -> line of the log, per stream
//	DIR/snapshots/NAME/V.json   one snapshot per file; V is 20 digits
//
// The data lives once, in the log. Each line is one record, a JSON object
// with its keys in a fixed order and a CRC-32C of the rest of the line:
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
// Everything else is derived from the log and could be rebuilt from it:
// the index files hold fixed-size binary entries (offset, length and a
// CRC-32C of the entry; the entry of version v at (v-1)*16), followed by
// zeros: they grow in chunks (4 KiB for a stream, 64 KiB for positions), so
// that a commit rarely changes their size, which would make the log's fsync
// journal more. A stream's version is the number of entries before the
// first zero one, found within the file's last 4 KiB (or, while a large
// append is being indexed, the chunks before it). The head holds the log
// size and last position the indexes cover, with the boot ID of the machine
// that wrote them. NAME is an injective, filesystem-safe encoding of the stream ID:
// bytes in [a-z0-9-] stand for themselves, every other byte is '_' and two
// hex digits ("a/b" is "a_2fb", "a_b" is "a_5fb", ".." is "_2e_2e", "A" is
// "_41", so names never collide on case-insensitive filesystems); an encoding
// over 180 bytes is cut and followed by '~' and 128 bits of SHA-256 of the
// ID. Every record carries its full stream ID and readers check it.
//
// # Writing
//
// An append takes the directory lock (flock, exclusive), checks the
// expected version against the stream's index, assigns versions and global
// positions, writes its lines at the end of the log, and fdatasyncs the log
// once. Only then is it acknowledged. The indexes and the head are written
// after the sync, without one: they are derived, and are repaired from the
// log (see Recovery). So each commit costs one write and one fsync, and the
// version check and the position are decided under the same lock, by
// whichever process holds it.
//
// Within a process, appends are committed in groups: while one commit is
// in flight, the appends that arrive queue up, and the next commit writes
// all of them with one write and one fsync. Concurrent writers therefore
// share syncs; one writer's append rate is bounded by the disk's sync rate.
//
// NoSync skips the fsync; see it for what that risks.
//
// A directory the process may read but not write is opened read-only (see
// Open): reads work, writes fail with an error matching fs.ErrPermission.
//
// Several processes may open one directory at once. The lock is flock(2),
// which the kernel releases when its holder dies, so a process killed while
// holding it never blocks the others. A process that takes the lock first
// compares the log with the head: a longer log means a writer died between
// its log write and its index writes, and the rest is indexed then.
//
// Reads take no lock: the log is append-only, it is only ever cut beyond
// the committed size, and readers learn that size from the head, which
// writers update last. Opening a store costs a few small reads, never a
// scan of the log; reading a stream reads its index and only the lines it
// points to (neighbouring lines in one read); the global log is read
// sequentially with one reused buffer. Append cost does not depend on the
// stream's length or the store's size.
//
// Subscribe follows the log with es.Follow: appends in this process wake
// subscribers at once; appends by other processes are found by polling the
// head every DefaultPollInterval (100 ms; see WithPollInterval).
//
// # Recovery
//
// On Open, and whenever a process takes the lock:
//   - A log longer than the head: the tail is read; complete appends are
//     synced and indexed; a torn line or an append without its last record
//     (a writer killed mid-write) is cut. No acknowledged append is ever cut:
//     acknowledgement comes after the sync, and after the sync the lines are
//     complete.
//   - A head written before the last reboot, missing, damaged, or claiming
//     more than the log holds: the derived files were written without fsync
//     and cannot be trusted after a power loss, so they are rebuilt from the
//     whole log (once per boot, at the first open; it reads the log once).
//     A torn or corrupt tail is cut (and, if committed data was lost,
//     snapshots of versions that no longer exist are removed).
//   - Damage followed by valid lines is damage in the middle of committed
//     data: it is never cut and never skipped; Open (or the read that meets
//     it) fails with an *es.CorruptError naming the file and the offset.
//
// Every repair is reported by Recovered. Reads check every line's checksum
// and every index entry they use; a mismatch is an *es.CorruptError, never a
// panic and never a silently skipped record. Verify checks the whole store
// and Reindex rebuilds the derived files.
//
// After a failed write or fsync the store refuses further appends until it
// is reopened (the state of the file after a failed fsync is unknown), and
// takes back what it wrote so that no other process builds on it.
//
// # Snapshots
//
// A snapshot is one file, written to a temporary name, fsynced, renamed into
// place, and the directory fsynced. The latest snapshot, and the latest at or
// before a version, are found by listing the stream's snapshot directory.
// Old snapshots are kept.
//
// # Limits
//
// Event and append sizes are those of package es (es.MaxEventSize,
// es.MaxAppendEvents). Event times must fall in the years 1 to 9999.
package jsonfile
