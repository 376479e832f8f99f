package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/postgres"
)

// listeners counts the server's LISTEN connections on s's channel.
func listeners(t *testing.T, s *postgres.Store) int {
	t.Helper()
	var n int
	err := s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'jerry-listen' AND query LIKE '%' || $1 || '%'`, postgres.ChannelName(s.Schema())).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitListening waits until s's LISTEN connection is listening.
func waitListening(t *testing.T, s *postgres.Store) {
	t.Helper()
	for i := 0; listeners(t, s) == 0; i++ {
		if i == 1000 {
			t.Fatal("no LISTEN connection 10s after the first Subscribe")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOneShotOpensNoListener checks that a store that appends and reads but
// never follows opens no LISTEN connection, and that its first Subscribe
// opens one.
func TestOneShotOpensNoListener(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := newStore(t)
	if _, err := s.Append(ctx, "a", es.NoStream, []es.Event{ev("x", `1`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := es.Collect(s.ReadLog(ctx, 1)); err != nil {
		t.Fatal(err)
	}
	// A listener started at Open would be connected well within half a
	// second: look for one that long.
	for range 50 {
		if n := listeners(t, s); n != 0 {
			t.Fatalf("%d LISTEN connections before any Subscribe, want 0", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for r, err := range s.Subscribe(ctx, 1) {
		if err != nil || r.Position != 1 {
			t.Fatalf("subscription: %v at %d", err, r.Position)
		}
		break
	}
	waitListening(t, s)
}

// TestCloseSendsHint follows a store with polling off, so that only a
// NOTIFY wakes it, while another store (as another process would) appends
// once and closes at once: the follower still gets the event, because Close
// sends the hint that appends leave to be sent after their commit.
func TestCloseSendsHint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := newStore(t, postgres.WithPollInterval(0))
	got := make(chan es.Record, 1)
	go func() {
		for r, err := range s.Subscribe(ctx, 1) {
			if err != nil {
				return
			}
			got <- r
			return
		}
	}()
	waitListening(t, s)
	for i := range 5 {
		other, err := postgres.Open(ctx, testDSN(t), postgres.WithSchema(s.Schema()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Append(ctx, "a", es.Exact(int64(i)), []es.Event{ev("x", `1`)}); err != nil {
			t.Fatal(err)
		}
		other.Close()
		if i == 0 {
			select {
			case r := <-got:
				if r.Position != 1 {
					t.Fatalf("first event at position %d", r.Position)
				}
			case <-ctx.Done():
				t.Fatal("the follower never woke for an append by a store closed right after it")
			}
		}
	}
}
