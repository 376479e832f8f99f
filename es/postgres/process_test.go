package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/postgres"
	"github.com/jerry-es/jerry/internal/testproc"
)

// Environment of a child process of TestProcessesRacing.
const (
	childSchemaEnv = "JERRY_PG_CHILD_SCHEMA"
	childIDEnv     = "JERRY_PG_CHILD_ID"
	childCountEnv  = "JERRY_PG_CHILD_APPENDS" // 0: append until killed
)

// childPayload is the data of every event a child appends: which append of
// which child it belongs to, and how many events that append had.
type childPayload struct {
	Child, Append, K, N int
}

// runChild appends, as one OS process among several, to a stream of its own
// (with exact expected versions) and to a shared one (with Any).
func runChild() {
	ctx := context.Background()
	id, _ := strconv.Atoi(os.Getenv(childIDEnv))
	count, _ := strconv.Atoi(os.Getenv(childCountEnv))
	s, err := postgres.Open(ctx, os.Getenv(dsnEnv), postgres.WithSchema(os.Getenv(childSchemaEnv)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	own := fmt.Sprintf("child-%d", id)
	var version int64
	for i := 0; count == 0 || i < count; i++ {
		n := 1 + i%3
		evs := make([]es.Event, n)
		for k := range evs {
			data, _ := json.Marshal(childPayload{Child: id, Append: i, K: k, N: n})
			evs[k] = es.Event{Type: "ChildEvent", Data: data}
		}
		if i%2 == 0 {
			_, err = s.Append(ctx, "shared", es.Any, evs)
		} else {
			_, err = s.Append(ctx, own, es.Exact(version), evs)
			version += int64(n)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "child append:", err)
			os.Exit(3)
		}
	}
	s.Close()
	os.Exit(0)
}

// TestProcessesRacing runs OS processes appending to one schema at once, two
// of them killed with SIGKILL in mid-flight, while this process subscribes
// with polling off, so that only NOTIFY from the other processes wakes it.
// Afterwards the log must run 1..N with no gap or repeat, the subscriber
// must have seen exactly that, every stream's versions must run 1..k, and
// every append must be stored whole or not at all.
func TestProcessesRacing(t *testing.T) {
	if _, ok := testproc.Child(childSchemaEnv); ok {
		runChild()
		return
	}
	schema := newSchema(t)
	dsn := testDSN(t)
	start := func(id, count int) *exec.Cmd {
		cmd := testproc.Command(childSchemaEnv, schema, "^TestProcessesRacing$")
		cmd.Env = append(cmd.Env, childIDEnv+"="+strconv.Itoa(id), childCountEnv+"="+strconv.Itoa(count))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	// The children and this process open the fresh schema at once, so
	// they race on creating it too.
	var finite, doomed []*exec.Cmd
	for id := range 4 {
		finite = append(finite, start(id, 40))
	}
	for id := 4; id < 6; id++ {
		doomed = append(doomed, start(id, 0))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema), postgres.WithPollInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	seen := make(chan es.Record, 1024)
	subErr := make(chan error, 1)
	go func() {
		defer close(seen)
		for r, err := range s.Subscribe(ctx, 1) {
			if err != nil {
				subErr <- err
				return
			}
			seen <- r
		}
	}()
	var got []es.Record
	next := func(deadline <-chan time.Time) {
		select {
		case r, ok := <-seen:
			if !ok {
				t.Fatalf("subscription ended: %v", <-subErr)
			}
			got = append(got, r)
		case <-deadline:
			t.Fatalf("subscription stalled after %d events: NOTIFY from other processes not received?", len(got))
		}
	}
	// Kill the doomed children once events flow, while they append.
	deadline := time.After(2 * time.Minute)
	for len(got) < 100 {
		next(deadline)
	}
	for _, c := range doomed {
		c.Process.Signal(syscall.SIGKILL)
		c.Wait()
	}
	for _, c := range finite {
		if err := c.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}
	last, err := s.LastPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for int64(len(got)) < last {
		next(deadline)
	}

	// The subscription saw positions 1..last in order.
	for i, r := range got {
		if r.Position != int64(i+1) {
			t.Fatalf("subscriber: record %d has position %d", i, r.Position)
		}
	}
	// The log holds the same, every stream's versions run 1..k, and
	// every append is whole.
	log, err := es.Collect(s.ReadLog(ctx, 1))
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, "log vs subscription", log, got)
	versions := map[string]int64{}
	type appendKey struct{ child, append int }
	parts := map[appendKey][]int{}
	for _, r := range log {
		versions[r.Stream]++
		if r.Version != versions[r.Stream] {
			t.Fatalf("stream %s: version %d after %d", r.Stream, r.Version, versions[r.Stream]-1)
		}
		var p childPayload
		if err := json.Unmarshal(r.Data, &p); err != nil {
			t.Fatal(err)
		}
		k := appendKey{p.Child, p.Append}
		parts[k] = append(parts[k], p.K)
		if len(parts[k]) > p.N {
			t.Fatalf("append %v stored more than its %d events", k, p.N)
		}
	}
	for k, ks := range parts {
		if want := 1 + k.append%3; len(ks) != want {
			t.Fatalf("append %v stored %d of its %d events", k, len(ks), want)
		}
	}
	var want int64
	for i := 1; i < 40; i += 2 {
		want += int64(1 + i%3)
	}
	for id := range 4 {
		if v := versions[fmt.Sprintf("child-%d", id)]; v != want {
			t.Fatalf("child-%d: version %d, want %d", id, v, want)
		}
	}
	t.Logf("%d events from 6 processes (2 killed with SIGKILL), followed gap-free through LISTEN/NOTIFY", last)
}

func checkSame(t *testing.T, what string, a, b []es.Record) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d and %d records", what, len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Position != b[i].Position {
			t.Fatalf("%s: record %d differs", what, i)
		}
	}
}

// TestListenerReconnects kills the store's LISTEN connection on the server
// and checks that a subscription with polling off still gets an event
// appended afterwards by another store (as another process would): the store
// reconnects, and wakes its subscriptions on reconnecting in case it missed
// a notification meanwhile.
func TestListenerReconnects(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := newStore(t, postgres.WithPollInterval(0))
	other, err := postgres.Open(ctx, testDSN(t), postgres.WithSchema(s.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	got := make(chan es.Record)
	go func() {
		for r, err := range s.Subscribe(ctx, 1) {
			if err != nil {
				return
			}
			got <- r
		}
	}()
	if _, err := other.Append(ctx, "a", es.NoStream, []es.Event{ev("x", `1`)}); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r.Position != 1 {
		t.Fatalf("first event at position %d", r.Position)
	}
	// Terminate the LISTEN backends of this schema (ours and other's). The
	// first event may have reached the subscription by its catch-up read
	// before the store's LISTEN connection was up (it is opened in the
	// background once something subscribes): wait for it to exist.
	var killed int
	for killed == 0 {
		err = other.Pool().QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = 'jerry-listen' AND query LIKE '%' || $1 || '%'`, postgres.ChannelName(s.Schema())).Scan(&killed)
		if err != nil {
			t.Fatalf("terminated %d listeners: %v", killed, err)
		}
		if killed == 0 {
			select {
			case <-ctx.Done():
				t.Fatal("no LISTEN connection appeared for the subscription")
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	if _, err := other.Append(ctx, "a", es.Exact(1), []es.Event{ev("x", `2`)}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r.Position != 2 {
			t.Fatalf("second event at position %d", r.Position)
		}
	case <-ctx.Done():
		t.Fatal("subscription never saw the event appended after its LISTEN connection was killed")
	}
}
