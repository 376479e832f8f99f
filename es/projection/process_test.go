package projection_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/es/postgres"
	"github.com/jerry-es/jerry/es/projection"
	"github.com/jerry-es/jerry/internal/pgtest"
)

// The test binary re-executed with childEnv set appends events as another
// process would, instead of running the tests.
const (
	childEnv = "PROJECTION_TEST_CHILD" // "jsonfile DIR" or "postgres SCHEMA"
	dsnEnv   = pgtest.EnvVar
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		run := runWriter
		if strings.HasPrefix(spec, "projector ") {
			run = runProjector
		}
		if err := run(spec); err != nil {
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
	dsn := pgtest.DSN(t)
	schema := pgtest.Schema(t)
	st, err := postgres.Open(t.Context(), dsn, postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	testCrossProcess(t, st, "postgres "+schema)
}

// runProjector is a projection process for TestKillProjector: it catches up
// a jsonfile store's log into DIR/applied.txt, one write per batch, with
// durable checkpoints in DIR/cp, and says "start CHECKPOINT" before.
func runProjector(spec string) error {
	dir := strings.TrimPrefix(spec, "projector ")
	st, err := jsonfile.Open(filepath.Join(dir, "store"))
	if err != nil {
		return err
	}
	defer st.Close()
	cp, err := jsonfile.NewCheckpoints(filepath.Join(dir, "cp"))
	if err != nil {
		return err
	}
	out, err := os.OpenFile(filepath.Join(dir, "applied.txt"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	start, err := cp.LoadCheckpoint(context.Background(), "kill")
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(out, "start %d\n", start); err != nil {
		return err
	}
	// Tell the parent the run has started, so that its kill lands in
	// the catch-up, not in the process's start-up.
	fmt.Println("started")
	var buf []byte
	proj := projection.Func(func(ctx context.Context, batch []es.Record) error {
		buf = buf[:0]
		for _, r := range batch {
			buf = strconv.AppendInt(buf, r.Position, 10)
			buf = append(buf, '\n')
		}
		// One write per batch: a kill -9 lands before or after it.
		_, err := out.Write(buf)
		return err
	})
	r, err := projection.New("kill", st, proj, projection.Options{Checkpoints: cp, BatchSize: 50})
	if err != nil {
		return err
	}
	_, err = r.CatchUp(context.Background())
	return err
}

// TestKillProjector kills a projecting process with SIGKILL at random
// moments and restarts it, then checks what at-least-once promises: every
// event is applied, each run starts right after its checkpoint, and the
// checkpoint is never ahead of the work applied before it, so only the
// batches in flight at a kill are applied twice.
func TestKillProjector(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	w, err := jsonfile.Open(filepath.Join(dir, "store"), jsonfile.NoSync())
	if err != nil {
		t.Fatal(err)
	}
	const total = 1_500
	fill(t, w, total)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	const kills = 4
	for k := 0; k <= kills; k++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=projector "+dir)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "started\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("projector did not start: %q, %v", line, err)
		}
		if k == kills {
			if err := cmd.Wait(); err != nil {
				t.Fatalf("last run: %v", err)
			}
			break
		}
		// Let it get some way, then kill it, mid-batch or mid-save.
		time.Sleep(time.Duration(10+k*20) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
	}
	raw, err := os.ReadFile(filepath.Join(dir, "applied.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var (
		runs      int
		next      int64 = -1 // position the current run must apply next
		applied         = make(map[int64]int)
		lastApply int64 // highest position applied by any run so far
		redone    int
	)
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if cpStr, ok := strings.CutPrefix(line, "start "); ok {
			cp, _ := strconv.ParseInt(cpStr, 10, 64)
			if cp > lastApply {
				t.Fatalf("run %d started from checkpoint %d, ahead of the %d events applied", runs+1, cp, lastApply)
			}
			redone += int(lastApply - cp)
			runs++
			next = cp + 1
			continue
		}
		pos, err := strconv.ParseInt(line, 10, 64)
		if err != nil || pos != next {
			t.Fatalf("run %d applied %q, want position %d", runs, line, next)
		}
		applied[pos]++
		lastApply = max(lastApply, pos)
		next++
	}
	for p := int64(1); p <= total; p++ {
		if applied[p] == 0 {
			t.Fatalf("position %d never applied", p)
		}
	}
	cp, err := jsonfile.NewCheckpoints(filepath.Join(dir, "cp"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := cp.LoadCheckpoint(t.Context(), "kill"); got != total {
		t.Errorf("final checkpoint %d, want %d", got, total)
	}
	t.Logf("%d runs, %d kills: %d events applied twice (batches in flight at a kill; at most %d)", runs, kills, redone, kills*50)
	if runs != kills+1 {
		t.Errorf("%d runs started, want %d", runs, kills+1)
	}
	if redone > kills*50 {
		t.Errorf("%d events applied twice; at most one batch of 50 per kill should be", redone)
	}
}
