//go:build unix

package flock_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jerry-es/jerry/internal/flock"
)

func openTwice(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "LOCK")
	a, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestModes(t *testing.T) {
	a, b := openTwice(t)
	if err := flock.TryLock(a, flock.Shared); err != nil {
		t.Fatal(err)
	}
	if err := flock.TryLock(b, flock.Shared); err != nil {
		t.Fatalf("second shared lock: %v", err)
	}
	if err := flock.Unlock(b); err != nil {
		t.Fatal(err)
	}
	if err := flock.TryLock(b, flock.Exclusive); !errors.Is(err, flock.ErrWouldBlock) {
		t.Fatalf("exclusive over shared: %v, want ErrWouldBlock", err)
	}
	if err := flock.Unlock(a); err != nil {
		t.Fatal(err)
	}
	if err := flock.TryLock(b, flock.Exclusive); err != nil {
		t.Fatal(err)
	}
	if err := flock.TryLock(a, flock.Shared); !errors.Is(err, flock.ErrWouldBlock) {
		t.Fatalf("shared over exclusive: %v, want ErrWouldBlock", err)
	}
}

// TestNoticeNamesHolder holds a lock with a recorded holder and checks that
// a waiter is told, more than once, which process holds it, and gets the
// lock once it is released.
func TestNoticeNamesHolder(t *testing.T) {
	a, b := openTwice(t)
	if err := flock.Lock(a, flock.Exclusive, 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := flock.RecordHolder(a); err != nil {
		t.Fatal(err)
	}
	notices := make(chan flock.Holder, 10)
	var after atomic.Bool
	done := make(chan error)
	go func() {
		err := flock.Lock(b, flock.Exclusive, 5*time.Millisecond, func(h flock.Holder, waited time.Duration) {
			if after.Load() {
				t.Error("notice after Lock returned")
			}
			select {
			case notices <- h:
			default:
			}
		})
		after.Store(true)
		done <- err
	}()
	for range 2 {
		h := <-notices
		if h.PID != os.Getpid() || h.Since.IsZero() {
			t.Fatalf("notice names %v, want process %d", h, os.Getpid())
		}
	}
	if err := flock.Unlock(a); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestDamagedHolderRecord(t *testing.T) {
	a, _ := openTwice(t)
	for _, content := range []string{"", "pid x since y\n", "garbage", "pid 0000000012 since 00000000000000000001"} {
		a.Truncate(0)
		a.WriteAt([]byte(content), 0)
		if h := flock.ReadHolder(a); h.PID != 0 {
			t.Errorf("%q read as %v", content, h)
		}
	}
}
