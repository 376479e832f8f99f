package natsjs_test

import (
	"context"
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

	"github.com/google/uuid"
	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/natsjs"
	"github.com/jerry-es/jerry/internal/testproc"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// failoverKillEnv, when set, adds the failover run in which the servers are
// separate OS processes and the stream's leader is killed with SIGKILL.
const failoverKillEnv = "NATSJS_FAILOVER_KILL"

// TestFailoverShutdown: 8 writers append to an R3 store while the stream's
// leader is shut down.
func TestFailoverShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("R3 failover skipped in -short mode")
	}
	c, err := startCluster(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.shutdown)
	runFailover(t, c.urls, func(leader string) {
		i, _ := strconv.Atoi(strings.TrimPrefix(leader, "n"))
		c.servers[i-1].Shutdown()
	})
}

// TestFailoverKill: the same with each server in its own process and the
// leader's process killed with SIGKILL. Set NATSJS_FAILOVER_KILL=1 to run it.
func TestFailoverKill(t *testing.T) {
	if os.Getenv(failoverKillEnv) == "" {
		t.Skip("set " + failoverKillEnv + "=1 to kill the leader's process with SIGKILL (about 10 s)")
	}
	procs, urls := startProcessCluster(t)
	runFailover(t, urls, func(leader string) {
		p := procs[leader]
		if err := p.Process.Kill(); err != nil { // SIGKILL on Unix
			t.Errorf("kill %s: %v", leader, err)
		}
		_ = p.Wait()
	})
}

// acked is an event whose append was acknowledged.
type acked struct {
	rec    es.Record
	writer int
}

func runFailover(t *testing.T, urls string, stopLeader func(leader string)) {
	const writers = 8
	ctx := t.Context()
	name := newStream()
	open := func() *natsjs.Store {
		nc, err := nats.Connect(urls, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		st, err := natsjs.New(ctx, nc, natsjs.Options{Stream: name, Replicas: 3, RequestTimeout: time.Second, RetryTimeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	st := open()
	follower := open()

	// The follower subscribes from the start.
	var (
		seenMu sync.Mutex
		seen   []es.Record
	)
	fctx, fcancel := context.WithCancel(ctx)
	defer fcancel()
	fdone := make(chan error, 1)
	go func() {
		for r, err := range follower.Subscribe(fctx, 1) {
			if err != nil {
				fdone <- err
				return
			}
			seenMu.Lock()
			seen = append(seen, r)
			seenMu.Unlock()
		}
		fdone <- nil
	}()

	var (
		mu        sync.Mutex
		all       []acked
		retried   int       // appends that failed and were sent again
		resolved  int       // of which the retry found the events stored
		firstAck  time.Time // first ack of an append begun after the leader stopped
		stoppedAt time.Time
		failures  []error
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			stream := fmt.Sprintf("writer-%d", w)
			var version int64
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := 1 + 2*(i%2) // 1 or 3 events
				evs := make([]es.Event, n)
				for j := range evs {
					evs[j] = es.Event{ID: es.NewEventID(), Type: "Wrote", Data: json.RawMessage(fmt.Sprintf(`{"w":%d,"i":%d,"j":%d}`, w, i, j))}
				}
				began := time.Now()
				var recs []es.Record
				var err error
				for attempt := 0; ; attempt++ {
					recs, err = st.Append(ctx, stream, es.Exact(version), evs)
					if err == nil {
						if attempt > 0 {
							mu.Lock()
							resolved++
							mu.Unlock()
						}
						break
					}
					mu.Lock()
					retried++
					mu.Unlock()
					if attempt == 5 || ctx.Err() != nil {
						mu.Lock()
						failures = append(failures, fmt.Errorf("writer %d: append at version %d: %w", w, version, err))
						mu.Unlock()
						return
					}
				}
				for j, r := range recs {
					if r.Version != version+int64(j)+1 || r.ID != evs[j].ID {
						mu.Lock()
						failures = append(failures, fmt.Errorf("writer %d: ack gave version %d ID %s, want %d %s", w, r.Version, r.ID, version+int64(j)+1, evs[j].ID))
						mu.Unlock()
						return
					}
				}
				version += int64(n)
				mu.Lock()
				for _, r := range recs {
					all = append(all, acked{rec: r, writer: w})
				}
				if !stoppedAt.IsZero() && began.After(stoppedAt) && firstAck.IsZero() {
					firstAck = time.Now()
				}
				mu.Unlock()
			}
		})
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(all)
	}
	waitFor := func(n int, d time.Duration) {
		deadline := time.Now().Add(d)
		for count() < n && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}

	resolvedBefore := natsjs.ResolvedRetries()
	waitFor(200, 30*time.Second)
	leader := streamLeader(t, urls, name)
	t.Logf("stopping leader %s after %d acknowledged events", leader, count())
	began := time.Now()
	stopLeader(leader)
	mu.Lock()
	stoppedAt = time.Now()
	before := len(all)
	mu.Unlock()
	waitFor(before+200, 60*time.Second)
	close(stop)
	wg.Wait()
	for _, err := range failures {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	if firstAck.IsZero() {
		t.Fatalf("no append succeeded after the leader stopped")
	}
	newLeader := streamLeader(t, urls, name)
	t.Logf("leader %s stopped in %s; writable again %s after it was down (new leader %s); %d events acknowledged; "+
		"%d appends found their events stored after an attempt whose reply was lost; %d appends returned an error and were sent again by the writer, %d of them then succeeded",
		leader, stoppedAt.Sub(began).Round(time.Millisecond), firstAck.Sub(stoppedAt).Round(time.Millisecond), newLeader, len(all),
		natsjs.ResolvedRetries()-resolvedBefore, retried, resolved)

	// Every acknowledged event is in its stream once, versions contiguous.
	byID := map[uuid.UUID]acked{}
	for _, a := range all {
		if _, dup := byID[a.rec.ID]; dup {
			t.Fatalf("event %s acknowledged twice", a.rec.ID)
		}
		byID[a.rec.ID] = a
	}
	total := 0
	for w := range writers {
		recs, err := es.Collect(st.ReadStream(ctx, fmt.Sprintf("writer-%d", w), 1, 0))
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range recs {
			if r.Version != int64(i+1) {
				t.Fatalf("writer %d: record %d has version %d", w, i, r.Version)
			}
			a, ok := byID[r.ID]
			if !ok {
				// Stored but never acknowledged: allowed only if the
				// writer gave up on it, which fails the test above.
				t.Fatalf("writer %d: version %d holds unacknowledged event %s", w, r.Version, r.ID)
			}
			if a.rec.Version != r.Version || a.rec.Position != r.Position {
				t.Fatalf("writer %d: event %s stored at version %d position %d, acknowledged at %d %d", w, r.ID, r.Version, r.Position, a.rec.Version, a.rec.Position)
			}
		}
		total += len(recs)
	}
	if total != len(all) {
		t.Fatalf("streams hold %d events, %d were acknowledged", total, len(all))
	}

	// The log: positions 1..N with no gap, each acknowledged event once, in
	// the order of the acks of each writer.
	log, err := es.Collect(st.ReadLog(ctx, 1))
	if err != nil {
		t.Fatal(err)
	}
	checkLog := func(what string, recs []es.Record) {
		t.Helper()
		if len(recs) != len(all) {
			t.Fatalf("%s holds %d events, %d were acknowledged", what, len(recs), len(all))
		}
		last := map[int]int64{}
		ids := map[uuid.UUID]bool{}
		for i, r := range recs {
			if r.Position != int64(i+1) {
				t.Fatalf("%s: record %d has position %d", what, i, r.Position)
			}
			a, ok := byID[r.ID]
			if !ok || ids[r.ID] {
				t.Fatalf("%s: event %s at position %d unacknowledged or seen twice", what, r.ID, r.Position)
			}
			ids[r.ID] = true
			if a.rec.Position != r.Position {
				t.Fatalf("%s: event %s at position %d, acknowledged at %d", what, r.ID, r.Position, a.rec.Position)
			}
			if r.Version <= last[a.writer] {
				t.Fatalf("%s: writer %d's version %d after %d", what, a.writer, r.Version, last[a.writer])
			}
			last[a.writer] = r.Version
		}
	}
	checkLog("log", log)

	// The follower saw every event once, in order.
	deadline := time.Now().Add(30 * time.Second)
	for {
		seenMu.Lock()
		n := len(seen)
		seenMu.Unlock()
		if n >= len(all) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	fcancel()
	if err := <-fdone; err != nil {
		t.Fatalf("follower: %v", err)
	}
	seenMu.Lock()
	checkLog("follower", slices.Clone(seen))
	seenMu.Unlock()
}

// streamLeader returns the name of the server that leads stream.
func streamLeader(t *testing.T, urls, stream string) string {
	t.Helper()
	nc, err := nats.Connect(urls, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		s, err := js.Stream(ctx, stream)
		cancel()
		if err == nil && s.CachedInfo().Cluster != nil && s.CachedInfo().Cluster.Leader != "" {
			return s.CachedInfo().Cluster.Leader
		}
		if time.Now().After(deadline) {
			t.Fatalf("no leader for stream %s: %v", stream, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serverChildEnv carries a server's options to a child process: the test
// binary runs TestServerProcess, which serves until it is killed.
const serverChildEnv = "NATSJS_SERVER_CHILD"

// childSpec is what a child server process needs to know.
type childSpec struct {
	Name, StoreDir, LogFile, Routes string
	Port, ClusterPort               int
}

// TestServerProcess is not a test: it is the body of a child process that
// startProcessCluster starts, a nats-server that runs until killed.
func TestServerProcess(t *testing.T) {
	env, ok := testproc.Child(serverChildEnv)
	if !ok {
		t.Skip("runs only as a child process of TestFailoverKill")
	}
	var spec childSpec
	if err := json.Unmarshal([]byte(env), &spec); err != nil {
		t.Fatal(err)
	}
	o := server.Options{
		ServerName: spec.Name,
		Host:       "127.0.0.1",
		Port:       spec.Port,
		JetStream:  true,
		StoreDir:   spec.StoreDir,
		MaxPayload: maxPayload,
		LogFile:    spec.LogFile,
		NoSigs:     true,
		Cluster:    server.ClusterOpts{Name: "jerry", Host: "127.0.0.1", Port: spec.ClusterPort},
		Routes:     server.RoutesFromStr(spec.Routes),
	}
	s, err := server.NewServer(&o)
	if err != nil {
		t.Fatal(err)
	}
	s.ConfigureLogger()
	s.Start()
	s.WaitForShutdown()
}

// startProcessCluster starts three servers, each in its own process, and
// returns them by server name with the client URLs.
func startProcessCluster(t *testing.T) (map[string]*exec.Cmd, string) {
	t.Helper()
	ports, err := freePorts(6)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var routes, urls []string
	for i := range 3 {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[3+i]))
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	procs := map[string]*exec.Cmd{}
	for i := range 3 {
		spec, err := json.Marshal(childSpec{
			Name:        fmt.Sprintf("n%d", i+1),
			Port:        ports[i],
			ClusterPort: ports[3+i],
			StoreDir:    fmt.Sprintf("%s/n%d", dir, i+1),
			LogFile:     fmt.Sprintf("%s/n%d.log", dir, i+1),
			Routes:      strings.Join(routes, ","),
		})
		if err != nil {
			t.Fatal(err)
		}
		cmd := testproc.Command(serverChildEnv, string(spec), "^TestServerProcess$")
		cmd.SysProcAttr = childAttr()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[fmt.Sprintf("n%d", i+1)] = cmd
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	c := &cluster{urls: strings.Join(urls, ",")}
	if err := c.waitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	return procs, c.urls
}
