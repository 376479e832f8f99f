package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jerry-es/jerry/es"
)

// holdHead locks the head row of s's schema in a transaction of another
// connection, and returns that connection (for watching pg_locks) and a
// function that releases the lock.
func holdHead(t *testing.T, schema string) (*pgx.Conn, func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT position FROM "+pgx.Identifier{schema, "head"}.Sanitize()+" FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	return conn, func() { tx.Rollback(ctx) }
}

// waitForLockWaiters returns once n sessions wait for a lock.
func waitForLockWaiters(t *testing.T, conn *pgx.Conn, n int) {
	t.Helper()
	for {
		var got int
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_locks WHERE NOT granted").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestQueuedAppendHonoursContext: an append queued behind another of the
// same Store, which waits for head's lock, ends with ctx.Err() when its
// context is cancelled, and stores nothing; the other goes on.
func TestQueuedAppendHonoursContext(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	conn, release := holdHead(t, s.Schema())
	defer release()
	first := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, "a", es.Any, []es.Event{ev("x", `1`)})
		first <- err
	}()
	waitForLockWaiters(t, conn, 1)
	cctx, cancel := context.WithCancel(ctx)
	second := make(chan error, 1)
	go func() {
		_, err := s.Append(cctx, "b", es.Any, []es.Event{ev("x", `2`)})
		second <- err
	}()
	cancel()
	select {
	case err := <-second:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled append: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		// Not a timing assertion: without the fix it waits for the
		// lock, which is only released below.
		t.Errorf("cancelled append still waiting 10s after its context ended")
	}
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if v, err := s.StreamVersion(ctx, "b"); err != nil || v != 0 {
		t.Errorf("stream b at version %d (%v), want 0", v, err)
	}
	if _, err := s.Append(ctx, "b", es.NoStream, []es.Event{ev("x", `3`)}); err != nil {
		t.Errorf("append after the cancelled one: %v", err)
	}
}

// TestCancelledAppendStoresNothing: an append whose context ends while it
// waits for head's lock is cancelled on the server too, rather than left
// to commit once the lock is free, after the caller was told it failed.
func TestCancelledAppendStoresNothing(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	conn, release := holdHead(t, s.Schema())
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := s.Append(cctx, "a", es.Any, []es.Event{ev("x", `1`)})
		done <- err
	}()
	waitForLockWaiters(t, conn, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled append: %v, want context.Canceled", err)
	}
	release()
	// Lock head once more: this waits for any statement still queued
	// for the lock before this one to finish.
	_, release = holdHead(t, s.Schema())
	release()
	if v, err := s.StreamVersion(ctx, "a"); err != nil || v != 0 {
		t.Errorf("stream at version %d (%v) after its only append was cancelled, want 0", v, err)
	}
}
