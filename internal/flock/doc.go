// Package flock takes advisory locks on files with flock(2), shared among
// processes, and says who holds one when a caller waits too long.
//
// A lock belongs to the open file description: two *os.File values opened
// separately on one path exclude each other even within one process, and
// the kernel drops a lock when its holder closes the file or dies, so a
// process killed while holding a lock never blocks the others.
//
// The holder of an exclusive lock may record its process ID in the lock file
// (RecordHolder); a caller that waits longer than its notice delay gets a
// Holder naming that process, to tell a person which process to look at.
// The record is advisory: it is written without fsync and may be stale once
// the lock is free.
//
// Locks are advisory: only callers that use them are excluded. They work on
// local filesystems; on network filesystems flock(2) may be ignored. On
// systems without flock(2) every call fails with ErrUnsupported.
package flock
