package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/postgres"
)

// TestCloseWhileAppendWaits closes a store whose append waits for head's
// lock, held by another session: Close returns without waiting for the
// lock, and the append ends with es.ErrClosed having stored nothing.
func TestCloseWhileAppendWaits(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	s, err := postgres.Open(ctx, testDSN(t), postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, release := holdHead(t, schema)
	defer release()
	appended := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, "a", es.Any, []es.Event{ev("x", `1`)})
		appended <- err
	}()
	waitForLockWaiters(t, conn, 1)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		// Not a timing assertion: without the fix Close waits for the
		// lock, which is only released when the test ends.
		t.Fatal("Close still waiting 10s later for an append blocked on head")
	}
	if err := <-appended; !errors.Is(err, es.ErrClosed) {
		t.Errorf("append in flight at Close: %v, want es.ErrClosed", err)
	}
	release()
	_, release = holdHead(t, schema)
	release()
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+schemaTable(schema, "events")).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d events stored (%v), want 0", n, err)
	}
}

func schemaTable(schema, table string) string {
	return pgx.Identifier{schema, table}.Sanitize()
}
