package projection_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/es/postgres"
	"github.com/jerry-es/jerry/es/projection"
)

// The test binary re-executed with childEnv set appends events as another
// process would, instead of running the tests.
const (
	childEnv = "PROJECTION_TEST_CHILD" // "jsonfile DIR" or "postgres SCHEMA"
	dsnEnv   = "JERRY_TEST_POSTGRES"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		if err := runWriter(spec); err != nil {
			fmt.Fprintln(os.Stderr, "writer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	cleanupBenchStores()
	os.Exit(code)
}

// Events the writer process appends, and the pause between appends: slow
// enough that each one is followed on its own, as a person or agent using
// `jerry log --follow` would see them.
const (
	crossEvents = 40
	crossPause  = 25 * time.Millisecond
)

// runWriter is the writer process: it appends crossEvents events, one per
// append, and prints "ack POSITION UNIXNANO" for each, where UNIXNANO is the
// wall-clock time just before Append was called.
func runWriter(spec string) error {
	kind, arg, _ := strings.Cut(spec, " ")
	ctx := context.Background()
	var st es.EventStore
	switch kind {
	case "jsonfile":
		s, err := jsonfile.Open(arg)
		if err != nil {
			return err
		}
		defer s.Close()
		st = s
	case "postgres":
		s, err := postgres.Open(ctx, os.Getenv(dsnEnv), postgres.WithSchema(arg))
		if err != nil {
			return err
		}
		defer s.Close()
		st = s
	default:
		return fmt.Errorf("unknown store %q", kind)
	}
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "ready")
	out.Flush()
	// Wait for the follower to say it is following.
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return err
	}
	for i := range crossEvents {
		time.Sleep(crossPause)
		start := time.Now()
		recs, err := st.Append(ctx, "writer", es.Any, []es.Event{{Type: "tick", Data: json.RawMessage(strconv.Itoa(i))}})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "ack %d %d\n", recs[0].Position, start.UnixNano())
		out.Flush()
	}
	return nil
}

// testCrossProcess follows store with a projection runner while a child
// process appends to the same storage, and measures the time from the
// child's Append call to the projection's Apply. It asserts that every event
// arrives, exactly once and in order, and fails on latency only if the
// median is over 200 ms, so a noisy machine's outliers do not fail it.
func testCrossProcess(t *testing.T, follower es.LogReader, childSpec string) {
	var (
		mu   sync.Mutex
		seen = make(map[int64]time.Time)
		got  []int64
		all  = make(chan struct{})
	)
	proj := projection.Func(func(ctx context.Context, batch []es.Record) error {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		for _, r := range batch {
			seen[r.Position] = now
			got = append(got, r.Position)
		}
		if len(got) == crossEvents {
			close(all)
		}
		return nil
	})
	r, err := projection.New("follow", follower, proj, projection.Options{Checkpoints: memstore.NewCheckpoints()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	runErr := make(chan error, 1)
	go func() { runErr <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-runErr; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+childSpec)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("writer did not start: %q %v", lines.Text(), lines.Err())
	}
	// The follower is live (caught up on an empty store) before the first
	// append; Run's catch-up of an empty store is immediate, but wait for
	// it to be following so the first latency is not a start-up cost.
	time.Sleep(50 * time.Millisecond)
	fmt.Fprintln(stdin, "go")
	starts := make(map[int64]time.Time)
	for lines.Scan() {
		var pos, nano int64
		if _, err := fmt.Sscanf(lines.Text(), "ack %d %d", &pos, &nano); err != nil {
			t.Fatalf("writer said %q", lines.Text())
		}
		starts[pos] = time.Unix(0, nano)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("writer: %v", err)
	}
	if len(starts) != crossEvents {
		t.Fatalf("writer acknowledged %d events, want %d", len(starts), crossEvents)
	}
	select {
	case <-all:
	case err := <-runErr:
		t.Fatalf("Run ended early: %v", err)
	case <-time.After(time.Minute):
		mu.Lock()
		t.Fatalf("follower saw %d of %d events within a minute", len(got), crossEvents)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, p := range got {
		if p != int64(i+1) {
			t.Fatalf("follower got positions %v; want 1..%d in order", got, crossEvents)
		}
	}
	lat := make([]time.Duration, 0, crossEvents)
	for pos, start := range starts {
		lat = append(lat, seen[pos].Sub(start))
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	t.Logf("append-to-apply latency over %d events: min %v  p50 %v  p90 %v  p99 %v  max %v",
		len(lat), lat[0], q(0.5), q(0.9), q(0.99), lat[len(lat)-1])
	if q(0.5) > 200*time.Millisecond {
		t.Errorf("median latency %v over 200 ms", q(0.5))
	}
}

func TestCrossProcessJSONFile(t *testing.T) {
	dir := t.TempDir()
	st, err := jsonfile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	testCrossProcess(t, st, "jsonfile "+dir)
}

func TestCrossProcessPostgres(t *testing.T) {
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to a connection URL, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", dsnEnv)
	}
	schema := testSchema(t, dsn)
	st, err := postgres.Open(t.Context(), dsn, postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	testCrossProcess(t, st, "postgres "+schema)
}

// testSchema returns a fresh schema name, dropped when the test ends.
func testSchema(tb testing.TB, dsn string) string {
	var b [6]byte
	rand.Read(b[:])
	name := "jerry_projtest_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}
