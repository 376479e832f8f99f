package flock

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// Mode is the kind of lock: Shared locks exclude only Exclusive ones;
// an Exclusive lock excludes every other lock.
type Mode int

// The modes of a lock.
const (
	Shared Mode = iota + 1
	Exclusive
)

// ErrUnsupported is returned on systems without flock(2).
var ErrUnsupported = errors.New("flock: not supported on this system")

// ErrWouldBlock is returned by TryLock when another open file holds a
// conflicting lock.
var ErrWouldBlock = errors.New("flock: lock held by another")

// Holder is what a lock file says about the process holding its lock.
type Holder struct {
	// PID is the holder's process ID; 0 if the file names none.
	PID int
	// Since is when it took the lock, as it recorded; zero if unknown.
	Since time.Time
}

// String describes h for a person.
func (h Holder) String() string {
	if h.PID == 0 {
		return "an unknown process"
	}
	if h.Since.IsZero() {
		return fmt.Sprintf("process %d", h.PID)
	}
	return fmt.Sprintf("process %d (since %s)", h.PID, h.Since.UTC().Format(time.RFC3339))
}

// Notice is called by Lock when the wait has lasted longer than its delay,
// with the holder as the lock file names it and the time waited so far.
type Notice func(h Holder, waited time.Duration)

// TryLock takes the lock on f in mode m without waiting. It returns
// ErrWouldBlock if another open file holds a conflicting lock.
func TryLock(f *os.File, m Mode) error { return tryLock(f, m) }

// Unlock releases the lock that f holds.
func Unlock(f *os.File) error { return unlock(f) }

// Lock takes the lock on f in mode m, waiting in flock(2) as long as it
// takes. If it has waited longer than after, and then every after again, it
// calls notice (when not nil) from another goroutine with the holder that f's
// file names and the time waited so far; notice is never called after Lock
// returns. The wait cannot be cancelled: a caller that must give up waits
// for the lock in a goroutine of its own.
func Lock(f *os.File, m Mode, after time.Duration, notice Notice) error {
	err := tryLock(f, m)
	if !errors.Is(err, ErrWouldBlock) {
		return err
	}
	if notice != nil && after > 0 {
		start := time.Now()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(after)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case now := <-t.C:
					notice(ReadHolder(f), now.Sub(start))
				}
			}
		}()
		defer func() {
			close(stop)
			wg.Wait()
		}()
	}
	return lock(f, m)
}

// holderLen is the size of a holder record: "pid NNNNNNNNNN since NNNNNNNNNNNNNNNNNNNN\n".
const holderLen = 4 + 10 + 7 + 20 + 1

// RecordHolder writes the calling process's ID and the time into f, which
// must be open for writing and locked exclusively by the caller. It is not
// synced: the record only serves waiters of the same boot.
func RecordHolder(f *os.File) error {
	b := fmt.Appendf(nil, "pid %010d since %020d\n", os.Getpid(), time.Now().UnixNano())
	_, err := f.WriteAt(b, 0)
	return err
}

// ReadHolder reads the holder record of f. A missing or damaged record gives
// a zero Holder.
func ReadHolder(f *os.File) Holder {
	var b [holderLen]byte
	n, _ := f.ReadAt(b[:], 0)
	fields := bytes.Fields(b[:n])
	if n != holderLen || len(fields) != 4 || string(fields[0]) != "pid" || string(fields[2]) != "since" {
		return Holder{}
	}
	pid, err1 := strconv.Atoi(string(fields[1]))
	ns, err2 := strconv.ParseInt(string(fields[3]), 10, 64)
	if err1 != nil || err2 != nil || pid <= 0 {
		return Holder{}
	}
	return Holder{PID: pid, Since: time.Unix(0, ns)}
}
