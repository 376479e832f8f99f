//go:build unix

package jsonfile_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/internal/flock"
)

// Child processes: the test binary re-executed with JSONFILE_CHILD set runs
// one of these instead of the tests.
const childEnv = "JSONFILE_CHILD"

// cleanups run after the tests: benchmarks build large stores once per
// process and leave them for this to remove.
var cleanups []func()

func TestMain(m *testing.M) {
	if dir := os.Getenv(readOnlyEnv); dir != "" {
		os.Exit(readOnlyChild(dir))
	}
	if mode := os.Getenv(childEnv); mode != "" {
		if err := runChild(mode, os.Args[len(os.Args)-1]); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	for _, f := range cleanups {
		f()
	}
	os.Exit(code)
}

// runChild runs a child. Its stdout carries one line per acknowledged
// event: "ack STREAM VERSION POSITION ID", written after Append returned.
func runChild(mode, dir string) error {
	ctx := context.Background()
	s, err := jsonfile.Open(dir)
	if err != nil {
		return err
	}
	defer s.Close()
	out := &ackWriter{w: os.Stdout}
	fmt.Fprintln(os.Stdout, "ready")
	switch mode {
	case "race-one", "race-distinct":
		proc := os.Getenv("JSONFILE_PROC")
		stream := "shared"
		if mode == "race-distinct" {
			stream = "proc-" + proc
		}
		n, _ := strconv.Atoi(os.Getenv("JSONFILE_N"))
		for i := 0; i < n; {
			v, err := s.StreamVersion(ctx, stream)
			if err != nil {
				return err
			}
			recs, err := s.Append(ctx, stream, es.Exact(v), []es.Event{{
				Type: "Raced", Data: []byte(fmt.Sprintf(`{"proc":%s,"i":%d}`, proc, i)),
			}})
			if errors.Is(err, es.ErrConcurrency) {
				continue
			}
			if err != nil {
				return err
			}
			out.ack(recs)
			i++
		}
		return nil
	case "hold-lock":
		// Hold the directory lock, as a writer stuck in a slow fsync or
		// stopped with SIGSTOP would, until killed.
		f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR, 0)
		if err != nil {
			return err
		}
		if err := flock.Lock(f, flock.Exclusive, 0, nil); err != nil {
			return err
		}
		flock.RecordHolder(f)
		fmt.Fprintln(os.Stdout, "locked")
		select {}
	case "verify-loop":
		// Verify the whole store over and over until killed, as `jerry
		// verify` run again and again would.
		fmt.Fprintln(os.Stdout, "verifying")
		for {
			if _, err := s.Verify(ctx); err != nil {
				return err
			}
		}
	case "reindex":
		// Rebuild the derived files over and over until killed.
		fmt.Fprintln(os.Stdout, "reindexing")
		for {
			if err := s.Reindex(); err != nil {
				return err
			}
		}
	case "crash":
		// Append until killed: four goroutines, single and multi-event
		// appends, exact and any expected versions.
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(g)))
				for {
					stream := fmt.Sprintf("s-%d", rng.IntN(6))
					evs := make([]es.Event, 1+rng.IntN(3)*rng.IntN(3))
					for i := range evs {
						evs[i] = es.Event{Type: "Crashed", Data: []byte(fmt.Sprintf(`{"g":%d,"pad":"%s"}`, g, strings.Repeat("x", rng.IntN(300))))}
					}
					exp := es.Any
					if rng.IntN(2) == 0 {
						v, err := s.StreamVersion(ctx, stream)
						if err != nil {
							panic(err)
						}
						exp = es.Exact(v)
					}
					recs, err := s.Append(ctx, stream, exp, evs)
					if errors.Is(err, es.ErrConcurrency) {
						continue
					}
					if err != nil {
						panic(err)
					}
					out.ack(recs)
				}
			}()
		}
		wg.Wait()
	}
	return fmt.Errorf("unknown mode %q", mode)
}

type ackWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (a *ackWriter) ack(recs []es.Record) {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "ack %s %d %d %s\n", r.Stream, r.Version, r.Position, r.ID)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	// One write per append: a kill cuts at most the last line, which the
	// parent ignores as unacknowledged.
	io.WriteString(a.w, b.String())
}

type ack struct {
	stream   string
	version  int64
	position int64
	id       uuid.UUID
}

// child starts the test binary as a child in mode on dir.
func child(t testing.TB, mode, dir string, env ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", dir)
	cmd.Env = append(os.Environ(), append(env, childEnv+"="+mode)...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewReader(stdout)
}

// readAcks reads "ack" lines until EOF, ignoring a final partial line.
func readAcks(t *testing.T, r *bufio.Reader) []ack {
	t.Helper()
	var acks []ack
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return acks // EOF; a line without its newline was cut by a kill
		}
		f := strings.Fields(line)
		if len(f) != 5 || f[0] != "ack" {
			continue
		}
		v, _ := strconv.ParseInt(f[2], 10, 64)
		p, _ := strconv.ParseInt(f[3], 10, 64)
		id, err := uuid.Parse(f[4])
		if err != nil {
			t.Fatalf("bad ack line %q", line)
		}
		acks = append(acks, ack{f[1], v, p, id})
	}
}

// checkStore opens dir and checks it against acks: Verify passes, the log
// holds positions 1..N in order with each stream's versions contiguous, and
// every acknowledged event is stored exactly once where it was acknowledged.
func checkStore(t *testing.T, dir string, acks []ack) (*jsonfile.Store, []es.Record) {
	t.Helper()
	ctx := context.Background()
	s, err := jsonfile.Open(dir)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if rep, err := s.Verify(ctx); err != nil {
		t.Fatalf("verify: %v\n%s", err, rep)
	}
	log, err := es.Collect(s.ReadLog(ctx, 1))
	if err != nil {
		t.Fatal(err)
	}
	byID := make(map[uuid.UUID]es.Record, len(log))
	versions := make(map[string]int64)
	for i, r := range log {
		if r.Position != int64(i+1) {
			t.Fatalf("log record %d has position %d", i, r.Position)
		}
		if r.Version != versions[r.Stream]+1 {
			t.Fatalf("stream %s: version %d follows %d", r.Stream, r.Version, versions[r.Stream])
		}
		versions[r.Stream] = r.Version
		if _, dup := byID[r.ID]; dup {
			t.Fatalf("event %s stored twice", r.ID)
		}
		byID[r.ID] = r
	}
	for _, a := range acks {
		r, ok := byID[a.id]
		if !ok {
			t.Fatalf("acknowledged event %s (%s v%d) is missing", a.id, a.stream, a.version)
		}
		if r.Stream != a.stream || r.Version != a.version || r.Position != a.position {
			t.Fatalf("event %s acknowledged as %s v%d p%d, stored as %s v%d p%d",
				a.id, a.stream, a.version, a.position, r.Stream, r.Version, r.Position)
		}
	}
	for stream, v := range versions {
		got, err := es.Collect(s.ReadStream(ctx, stream, 1, 0))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(got)) != v {
			t.Fatalf("stream %s reads %d events, log has %d", stream, len(got), v)
		}
	}
	return s, log
}

// TestProcessesRace runs 8 OS processes appending 250 events each, retrying
// on conflict, to one shared stream and then to 8 distinct streams.
func TestProcessesRace(t *testing.T) {
	const procs, each = 8, 250
	for _, mode := range []string{"race-one", "race-distinct"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			// Create the store first so the children race on appends only.
			s, err := jsonfile.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			var mu sync.Mutex
			var acks []ack
			var wg sync.WaitGroup
			for p := range procs {
				cmd, out := child(t, mode, dir, fmt.Sprintf("JSONFILE_PROC=%d", p), fmt.Sprintf("JSONFILE_N=%d", each))
				wg.Add(1)
				go func() {
					defer wg.Done()
					a := readAcks(t, out)
					if err := cmd.Wait(); err != nil {
						t.Errorf("child %d: %v", p, err)
					}
					mu.Lock()
					acks = append(acks, a...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			if len(acks) != procs*each {
				t.Fatalf("%d acknowledged appends, want %d", len(acks), procs*each)
			}
			_, log := checkStore(t, dir, acks)
			if len(log) != procs*each {
				t.Fatalf("log holds %d events, want %d", len(log), procs*each)
			}
		})
	}
}

// TestCrashKill SIGKILLs a child appending in a loop at random moments, then
// checks that the store opens, verifies, and holds every event the child
// acknowledged before it died.
func TestCrashKill(t *testing.T) {
	kills := 50
	if testing.Short() {
		kills = 10
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var acks []ack
	recovered := 0
	for i := range kills {
		cmd, out := child(t, "crash", dir)
		if line, err := out.ReadString('\n'); err != nil || line != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("kill %d: child did not start: %q %v", i, line, err)
		}
		time.Sleep(time.Duration(rng.IntN(20_000)) * time.Microsecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		acks = append(acks, readAcks(t, out)...)
		cmd.Wait()
		s, _ := checkStore(t, dir, acks)
		recovered += len(s.Recovered())
		s.Close()
	}
	t.Logf("%d kills, %d acknowledged events kept, %d repairs on reopen", kills, len(acks), recovered)
}

// TestCrashKillAmongWriters runs three appending children at once and
// SIGKILLs one at random, then starts another in its place, again and again:
// a writer killed while holding the lock must not block the others, and no
// append any of them acknowledged may be lost.
func TestCrashKillAmongWriters(t *testing.T) {
	kills := 30
	if testing.Short() {
		kills = 6
	}
	dir := t.TempDir()
	s, err := jsonfile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	type running struct {
		cmd  *exec.Cmd
		acks chan []ack
	}
	start := func() running {
		cmd, out := child(t, "crash", dir)
		if line, err := out.ReadString('\n'); err != nil || line != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child did not start: %q %v", line, err)
		}
		r := running{cmd: cmd, acks: make(chan []ack, 1)}
		go func() { r.acks <- readAcks(t, out) }()
		return r
	}
	stop := func(r running) []ack {
		r.cmd.Process.Signal(syscall.SIGKILL)
		a := <-r.acks
		r.cmd.Wait()
		return a
	}
	kids := []running{start(), start(), start()}
	var acks []ack
	for range kills {
		time.Sleep(time.Duration(5+rng.IntN(20)) * time.Millisecond)
		i := rng.IntN(len(kids))
		acks = append(acks, stop(kids[i])...)
		kids[i] = start()
	}
	for _, k := range kids {
		acks = append(acks, stop(k)...)
	}
	st, _ := checkStore(t, dir, acks)
	t.Logf("%d kills among 3 writers, %d acknowledged events kept, repairs on the last open: %v", kills, len(acks), st.Recovered())
	if len(acks) == 0 {
		t.Fatal("no append was acknowledged")
	}
}
