package projectiontest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/es/projection"
)

// Store is what the runner tests need of an event store.
type Store interface {
	es.EventStore
	es.LogReader
}

// Config describes an event store to [TestRunner].
type Config struct {
	// New returns a new, empty store; it should register with t.Cleanup
	// whatever closes it and removes its storage. Required.
	New func(t testing.TB) Store

	// Checkpoints returns the checkpoint store the runner tests use beside
	// store; nil means an in-memory one.
	Checkpoints func(t testing.TB, store Store) es.CheckpointStore

	// Scale multiplies the number of events the concurrent tests append;
	// 0 means 1. Stores that sync every append may lower it.
	Scale float64

	// Timeout bounds each wait that would hang on a broken store; 0 means
	// one minute. It is a guard, not a speed requirement.
	Timeout time.Duration
}

func (c Config) n(base int) int {
	s := c.Scale
	if s <= 0 {
		s = 1
	}
	return max(int(math.Round(float64(base)*s)), 3)
}

func (c Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return time.Minute
}

func (c Config) checkpoints(t testing.TB, st Store) es.CheckpointStore {
	if c.Checkpoints != nil {
		return c.Checkpoints(t, st)
	}
	return memstore.NewCheckpoints()
}

// TestRunner runs the projection runner against the store cfg describes:
// the catch-up to live handover while writers append (through es.Subscriber
// and through polling), resuming from a checkpoint, cancellation, handler
// errors, rebuilds, upcasting and transactional commits.
func TestRunner(t *testing.T, cfg Config) {
	if cfg.New == nil {
		t.Fatal("projectiontest: Config.New is required")
	}
	s := &suite{cfg: cfg}
	t.Run("Handover", func(t *testing.T) { s.testHandover(t, false, 0) })
	t.Run("HandoverMaxDelay", func(t *testing.T) { s.testHandover(t, false, 5*time.Millisecond) })
	t.Run("HandoverPolling", func(t *testing.T) { s.testHandover(t, true, 0) })
	t.Run("Resume", s.testResume)
	t.Run("CancelDuringApply", s.testCancelDuringApply)
	t.Run("CancelIdle", s.testCancelIdle)
	t.Run("HandlerError", s.testHandlerError)
	t.Run("Rebuild", s.testRebuild)
	t.Run("Upcast", s.testUpcast)
	t.Run("Committer", s.testCommitter)
	t.Run("CheckpointEvery", s.testCheckpointEvery)
	t.Run("OneModeAtATime", s.testRunning)
}

type suite struct{ cfg Config }

// logOnly hides every capability of a store but es.LogReader, so that the
// runner has to poll.
type logOnly struct{ es.LogReader }

// recorder is a projection that remembers what it was given.
type recorder struct {
	mu      sync.Mutex
	recs    []es.Record
	batches int
	resets  int
	changed chan struct{}
	// hook, if set, runs at the end of each Apply with the batch.
	hook func(ctx context.Context, batch []es.Record) error
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

// Apply implements projection.Projection.
func (r *recorder) Apply(ctx context.Context, batch []es.Record) error {
	if r.hook != nil {
		if err := r.hook(ctx, batch); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.recs = append(r.recs, batch...)
	r.batches++
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return nil
}

// Reset implements projection.Resetter.
func (r *recorder) Reset(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs, r.batches = nil, 0
	r.resets++
	return nil
}

func (r *recorder) snapshot() []es.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.recs)
}

// waitFor waits until the recorder holds at least n records.
func (r *recorder) waitFor(t testing.TB, n int, timeout time.Duration, runErr <-chan error) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		have := len(r.recs)
		r.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-r.changed:
		case err := <-runErr:
			t.Fatalf("runner ended after %d of %d events: %v", have, n, err)
		case <-deadline:
			t.Fatalf("projection got %d of %d events within %v", have, n, timeout)
		}
	}
}

func event(typ string, n int) es.Event {
	return es.Event{Type: typ, Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}
}

func appendN(t testing.TB, st Store, stream, typ string, n int) {
	t.Helper()
	for i := range n {
		if _, err := st.Append(context.Background(), stream, es.Any, []es.Event{event(typ, i)}); err != nil {
			t.Errorf("append to %s: %v", stream, err)
			return
		}
	}
}

// checkExactlyOnce fails unless recs are positions 1..n in order, and each
// stream's versions are 1, 2, ... in order.
func checkExactlyOnce(t testing.TB, recs []es.Record, n int) {
	t.Helper()
	if len(recs) != n {
		t.Errorf("projection got %d events, want %d", len(recs), n)
	}
	versions := make(map[string]int64)
	for i, r := range recs {
		if r.Position != int64(i+1) {
			t.Fatalf("event %d has position %d, want %d (missed or repeated around the handover)", i, r.Position, i+1)
		}
		if r.Version != versions[r.Stream]+1 {
			t.Fatalf("stream %s: version %d after %d", r.Stream, r.Version, versions[r.Stream])
		}
		versions[r.Stream] = r.Version
	}
}

func loadCheckpoint(t testing.TB, cp es.CheckpointStore, name string) int64 {
	t.Helper()
	pos, err := cp.LoadCheckpoint(context.Background(), name)
	if err != nil {
		t.Fatalf("LoadCheckpoint(%s): %v", name, err)
	}
	return pos
}

func newRunner(t testing.TB, name string, log es.LogReader, p projection.Projection, opts projection.Options) *projection.Runner {
	t.Helper()
	r, err := projection.New(name, log, p, opts)
	if err != nil {
		t.Fatalf("projection.New: %v", err)
	}
	return r
}

// startRun runs r.Run in a goroutine; the returned function cancels it and
// returns Run's result.
func startRun(t testing.TB, r *projection.Runner, timeout time.Duration) (stop func() error, done <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- r.Run(ctx) }()
	stopped := false
	var result error
	stop = func() error {
		if stopped {
			return result
		}
		stopped = true
		cancel()
		select {
		case result = <-ch:
		case <-time.After(timeout):
			t.Fatalf("Run did not return within %v of cancel", timeout)
		}
		return result
	}
	t.Cleanup(func() { stop() })
	return stop, ch
}

func (s *suite) testHandover(t *testing.T, poll bool, maxDelay time.Duration) {
	st := s.cfg.New(t)
	cp := s.cfg.checkpoints(t, st)
	const writers = 4
	before, during := s.cfg.n(30), s.cfg.n(60)
	for w := range writers {
		appendN(t, st, fmt.Sprintf("pre-%d", w), "pre", before)
	}
	var log es.LogReader = st
	if poll {
		log = logOnly{st}
	}
	rec := newRecorder()
	// A projection a little slower than the writers, so that appends land
	// during its catch-up, at the handover and while it is live.
	rec.hook = func(context.Context, []es.Record) error {
		time.Sleep(100 * time.Microsecond)
		return nil
	}
	r := newRunner(t, "handover", log, rec, projection.Options{
		Checkpoints:  cp,
		BatchSize:    7,
		MaxDelay:     maxDelay,
		PollInterval: 5 * time.Millisecond,
	})
	// Writers start together with the runner, so that appends land during
	// its catch-up, at the handover and while it is live.
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			appendN(t, st, fmt.Sprintf("live-%d", w), "live", during)
		})
	}
	stop, done := startRun(t, r, s.cfg.timeout())
	close(start)
	wg.Wait()
	total := writers * (before + during)
	rec.waitFor(t, total, s.cfg.timeout(), done)
	if err := stop(); err != nil {
		t.Fatalf("Run after cancel = %v; want nil", err)
	}
	checkExactlyOnce(t, rec.snapshot(), total)
	if got := loadCheckpoint(t, cp, "handover"); got != int64(total) {
		t.Errorf("checkpoint after stop = %d, want %d", got, total)
	}
	if got := r.Position(); got != int64(total) {
		t.Errorf("Position() = %d, want %d", got, total)
	}
}

func (s *suite) testResume(t *testing.T) {
	st := s.cfg.New(t)
	cp := s.cfg.checkpoints(t, st)
	appendN(t, st, "a", "t", 100)

	// First run: stop it from inside the projection after 40 events; the
	// batch in hand finishes, and its checkpoint is saved.
	ctx, cancel := context.WithCancel(t.Context())
	first := newRecorder()
	first.hook = func(_ context.Context, batch []es.Record) error {
		if batch[len(batch)-1].Position >= 40 {
			cancel()
		}
		return nil
	}
	r := newRunner(t, "resume", st, first, projection.Options{Checkpoints: cp, BatchSize: 10})
	if err := r.Run(ctx); err != nil {
		t.Fatalf("Run = %v; want nil after cancel", err)
	}
	got1 := first.snapshot()
	saved := loadCheckpoint(t, cp, "resume")
	if len(got1) == 0 || saved != got1[len(got1)-1].Position {
		t.Fatalf("after stop: applied %d events, checkpoint %d; want the checkpoint at the last applied event", len(got1), saved)
	}
	if saved < 40 {
		t.Fatalf("checkpoint %d below the 40 events applied", saved)
	}

	// Second run, fresh runner and projection: exactly the rest, no reset.
	appendN(t, st, "b", "t", 50)
	second := newRecorder()
	r2 := newRunner(t, "resume", st, second, projection.Options{Checkpoints: cp, BatchSize: 10})
	pos, err := r2.CatchUp(t.Context())
	if err != nil || pos != 150 {
		t.Fatalf("CatchUp = %d, %v; want 150, nil", pos, err)
	}
	if second.resets != 0 {
		t.Errorf("resumed projection was reset %d times", second.resets)
	}
	checkExactlyOnce(t, append(got1, second.snapshot()...), 150)
	if got := loadCheckpoint(t, cp, "resume"); got != 150 {
		t.Errorf("checkpoint = %d, want 150", got)
	}
}

func (s *suite) testCancelDuringApply(t *testing.T) {
	st := s.cfg.New(t)
	cp := s.cfg.checkpoints(t, st)
	appendN(t, st, "a", "t", 35)
	ctx, cancel := context.WithCancel(t.Context())
	rec := newRecorder()
	entered := make(chan struct{})
	rec.hook = func(ctx context.Context, batch []es.Record) error {
		if batch[0].Position == 21 {
			// Block like a slow database call, until cancelled.
			close(entered)
			<-ctx.Done()
			return fmt.Errorf("slow write: %w", ctx.Err())
		}
		return nil
	}
	r := newRunner(t, "cancel", st, rec, projection.Options{Checkpoints: cp, BatchSize: 10})
	go func() { <-entered; cancel() }()
	if err := r.Run(ctx); err != nil {
		t.Fatalf("Run = %v; want nil after cancel", err)
	}
	checkExactlyOnce(t, rec.snapshot(), 20)
	if got := loadCheckpoint(t, cp, "cancel"); got != 20 {
		t.Fatalf("checkpoint = %d; want 20: only what was applied", got)
	}
	// The abandoned batch comes again.
	rec.hook = nil
	if pos, err := r.CatchUp(t.Context()); err != nil || pos != 35 {
		t.Fatalf("CatchUp = %d, %v; want 35, nil", pos, err)
	}
	checkExactlyOnce(t, rec.snapshot(), 35)

	// CatchUp cancelled the same way reports the cancellation.
	appendN(t, st, "a", "t", 20)
	ctx2, cancel2 := context.WithCancel(t.Context())
	rec.hook = func(ctx context.Context, batch []es.Record) error {
		cancel2()
		<-ctx.Done()
		return ctx.Err()
	}
	pos, err := r.CatchUp(ctx2)
	if !errors.Is(err, context.Canceled) || pos != 35 {
		t.Fatalf("cancelled CatchUp = %d, %v; want 35, context.Canceled", pos, err)
	}
}

func (s *suite) testCancelIdle(t *testing.T) {
	st := s.cfg.New(t)
	cp := s.cfg.checkpoints(t, st)
	appendN(t, st, "a", "t", 5)
	rec := newRecorder()
	r := newRunner(t, "idle", st, rec, projection.Options{Checkpoints: cp, PollInterval: time.Hour})
	stop, done := startRun(t, r, s.cfg.timeout())
	rec.waitFor(t, 5, s.cfg.timeout(), done)
	if err := stop(); err != nil {
		t.Fatalf("Run = %v; want nil", err)
	}
	if got := loadCheckpoint(t, cp, "idle"); got != 5 {
		t.Errorf("checkpoint = %d, want 5", got)
	}
	// A context cancelled before the start is a clean stop too.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := r.Run(ctx); err != nil {
		t.Errorf("Run with a cancelled context = %v; want nil", err)
	}
}

var errBoom = errors.New("boom")

func (s *suite) testHandlerError(t *testing.T) {
	st := s.cfg.New(t)
	cp := s.cfg.checkpoints(t, st)
	appendN(t, st, "good", "ok", 10)
	appendN(t, st, "bad", "bad", 1) // position 11
	appendN(t, st, "good", "ok", 5)

	var seen atomic.Int64
	mux := projection.NewMux().
		On("ok", func(ctx context.Context, r es.Record) error { seen.Add(1); return nil }).
		On("bad", func(ctx context.Context, r es.Record) error { return errBoom })
	r := newRunner(t, "failing", st, mux, projection.Options{Checkpoints: cp, BatchSize: 4})

	check := func(err error, mode string) {
		t.Helper()
		var pe *projection.Error
		if !errors.As(err, &pe) || !errors.Is(err, errBoom) {
			t.Fatalf("%s = %v; want a *projection.Error wrapping the handler's error", mode, err)
		}
		if pe.Name != "failing" || pe.Position != 11 || pe.Type != "bad" || pe.Stream != "bad" || pe.Last != 12 {
			t.Errorf("%s error = %+v; want name failing, position 11, type bad, batch ending at 12", mode, pe)
		}
		// Batches 1-4 and 5-8 were applied; 9-12 failed.
		if got := loadCheckpoint(t, cp, "failing"); got != 8 {
			t.Errorf("%s: checkpoint = %d; want 8", mode, got)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), s.cfg.timeout())
	defer cancel()
	err := r.Run(ctx)
	check(err, "Run")
	_, err = r.CatchUp(t.Context())
	check(err, "CatchUp")

	// A batch projection that fails without naming the event: the error
	// names the batch.
	f := projection.Func(func(ctx context.Context, batch []es.Record) error {
		if batch[len(batch)-1].Position >= 11 {
			return errBoom
		}
		return nil
	})
	r2 := newRunner(t, "failing-batch", st, f, projection.Options{Checkpoints: cp, BatchSize: 4})
	_, err = r2.CatchUp(t.Context())
	var pe *projection.Error
	if !errors.As(err, &pe) || !errors.Is(err, errBoom) || pe.Position != 9 || pe.Last != 12 {
		t.Fatalf("CatchUp = %v (%+v); want a *projection.Error for batch 9..12", err, pe)
	}
}

func (s *suite) testRebuild(t *testing.T) {
	st := s.cfg.New(t)
	cp := s.cfg.checkpoints(t, st)
	appendN(t, st, "a", "t", 30)
	rec := newRecorder()
	var reports []projection.Progress
	r := newRunner(t, "rebuild", st, rec, projection.Options{
		Checkpoints:      cp,
		BatchSize:        4,
		ProgressInterval: time.Nanosecond,
		Progress:         func(p projection.Progress) { reports = append(reports, p) },
	})
	if _, err := r.CatchUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rec.resets != 1 {
		t.Errorf("a projection starting from 0 was reset %d times, want 1", rec.resets)
	}
	if _, err := r.CatchUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rec.resets != 1 {
		t.Errorf("a projection resuming from a checkpoint was reset")
	}
	reports = nil
	pos, err := r.Rebuild(t.Context())
	if err != nil || pos != 30 {
		t.Fatalf("Rebuild = %d, %v; want 30, nil", pos, err)
	}
	if rec.resets != 2 {
		t.Errorf("Rebuild reset the projection %d times in all, want 2", rec.resets)
	}
	checkExactlyOnce(t, rec.snapshot(), 30)
	if len(reports) < 2 {
		t.Fatalf("got %d progress reports, want several", len(reports))
	}
	lastP := reports[len(reports)-1]
	if !lastP.Done || lastP.Position != 30 || lastP.Last != 30 || lastP.Handled != 30 || lastP.Start != 0 || lastP.Fraction() != 1 {
		t.Errorf("final progress = %+v", lastP)
	}
	for i := 1; i < len(reports); i++ {
		if reports[i].Position < reports[i-1].Position || reports[i-1].Done {
			t.Fatalf("progress went %+v then %+v", reports[i-1], reports[i])
		}
	}
}

func (s *suite) testUpcast(t *testing.T) {
	st := s.cfg.New(t)
	cp := s.cfg.checkpoints(t, st)
	type renamed struct {
		Title string `json:"title"`
	}
	reg := es.NewRegistry()
	es.Register[renamed](reg, "renamed", 2)
	reg.RegisterUpcaster("renamed", 1, func(data json.RawMessage) (json.RawMessage, error) {
		var v1 struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(data, &v1); err != nil {
			return nil, err
		}
		return json.Marshal(renamed{Title: v1.Name})
	})
	ctx := t.Context()
	if _, err := st.Append(ctx, "u", es.Any, []es.Event{{Type: "renamed", Schema: 1, Data: json.RawMessage(`{"name":"old"}`)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, "u", es.Any, []es.Event{{Type: "renamed", Schema: 2, Data: json.RawMessage(`{"title":"new"}`)}}); err != nil {
		t.Fatal(err)
	}
	check := func(recs []es.Record) {
		t.Helper()
		for _, r := range recs {
			var v renamed
			if err := json.Unmarshal(r.Data, &v); err != nil || r.Schema != 2 || v.Title == "" {
				t.Errorf("projection got %s schema %d %s; want the current schema", r.Type, r.Schema, r.Data)
			}
		}
	}
	rec := newRecorder()
	r := newRunner(t, "upcast", st, rec, projection.Options{Checkpoints: cp, Registry: reg})
	if _, err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	check(rec.snapshot())

	// Live, too.
	stop, done := startRun(t, r, s.cfg.timeout())
	if _, err := st.Append(ctx, "u", es.Any, []es.Event{{Type: "renamed", Schema: 1, Data: json.RawMessage(`{"name":"live"}`)}}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 3, s.cfg.timeout(), done)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	check(rec.snapshot())

	// An event from a schema the registry does not know stops the runner
	// with its position, rather than reaching the projection in a shape it
	// cannot read.
	if _, err := st.Append(ctx, "u", es.Any, []es.Event{{Type: "renamed", Schema: 3, Data: json.RawMessage(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	_, err := r.CatchUp(ctx)
	var pe *projection.Error
	if !errors.As(err, &pe) || pe.Position != 4 {
		t.Fatalf("CatchUp over an event of an unknown schema = %v; want a *projection.Error at position 4", err)
	}
	if len(rec.snapshot()) != 3 || loadCheckpoint(t, cp, "upcast") != 3 {
		t.Errorf("the projection got past an event it could not read")
	}
}

// committer is a projection that commits its checkpoint itself, as a
// PostgreSQL read model would, counting into its own map.
type committer struct {
	*recorder
	positions map[string]int64
}

// Commit implements projection.Committer.
func (c *committer) Commit(ctx context.Context, name string, batch []es.Record, position int64) error {
	if position != batch[len(batch)-1].Position {
		return fmt.Errorf("commit of a batch ending at %d with checkpoint %d", batch[len(batch)-1].Position, position)
	}
	if err := c.Apply(ctx, batch); err != nil {
		return err
	}
	c.mu.Lock()
	c.positions[name] = position
	c.mu.Unlock()
	return nil
}

// countingCheckpoints counts saves.
type countingCheckpoints struct {
	es.CheckpointStore
	saves atomic.Int64
}

// SaveCheckpoint implements es.CheckpointStore.
func (c *countingCheckpoints) SaveCheckpoint(ctx context.Context, name string, pos int64) error {
	c.saves.Add(1)
	return c.CheckpointStore.SaveCheckpoint(ctx, name, pos)
}

func (s *suite) testCommitter(t *testing.T) {
	st := s.cfg.New(t)
	cp := &countingCheckpoints{CheckpointStore: s.cfg.checkpoints(t, st)}
	appendN(t, st, "a", "t", 25)
	c := &committer{recorder: newRecorder(), positions: map[string]int64{}}
	r := newRunner(t, "tx", st, c, projection.Options{Checkpoints: cp, BatchSize: 10})
	if pos, err := r.CatchUp(t.Context()); err != nil || pos != 25 {
		t.Fatalf("CatchUp = %d, %v", pos, err)
	}
	checkExactlyOnce(t, c.snapshot(), 25)
	if c.positions["tx"] != 25 || c.batches != 3 {
		t.Errorf("committed checkpoint %d in %d batches; want 25 in 3", c.positions["tx"], c.batches)
	}
	if n := cp.saves.Load(); n != 0 {
		t.Errorf("runner saved the checkpoint %d times beside Commit; want 0", n)
	}
}

func (s *suite) testCheckpointEvery(t *testing.T) {
	st := s.cfg.New(t)
	cp := &countingCheckpoints{CheckpointStore: s.cfg.checkpoints(t, st)}
	appendN(t, st, "a", "t", 100)
	rec := newRecorder()
	r := newRunner(t, "every", st, rec, projection.Options{Checkpoints: cp, BatchSize: 10, CheckpointEvery: time.Hour})
	if pos, err := r.CatchUp(t.Context()); err != nil || pos != 100 {
		t.Fatalf("CatchUp = %d, %v", pos, err)
	}
	if n := cp.saves.Load(); n != 1 || loadCheckpoint(t, cp, "every") != 100 {
		t.Errorf("saved %d times, checkpoint %d; want once, at the end, 100", n, loadCheckpoint(t, cp, "every"))
	}
	// Live: a deferred save still happens once the follower is idle.
	cp.saves.Store(0)
	r2 := newRunner(t, "every", st, rec, projection.Options{Checkpoints: cp, CheckpointEvery: 20 * time.Millisecond})
	stop, done := startRun(t, r2, s.cfg.timeout())
	appendN(t, st, "a", "t", 3)
	rec.waitFor(t, 103, s.cfg.timeout(), done)
	deadline := time.Now().Add(s.cfg.timeout())
	for loadCheckpoint(t, cp, "every") != 103 {
		if time.Now().After(deadline) {
			t.Fatal("deferred checkpoint never saved while idle")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func (s *suite) testRunning(t *testing.T) {
	st := s.cfg.New(t)
	cp := s.cfg.checkpoints(t, st)
	rec := newRecorder()
	r := newRunner(t, "once", st, rec, projection.Options{Checkpoints: cp})
	stop, done := startRun(t, r, s.cfg.timeout())
	appendN(t, st, "a", "t", 1)
	rec.waitFor(t, 1, s.cfg.timeout(), done)
	if _, err := r.CatchUp(t.Context()); !errors.Is(err, projection.ErrRunning) {
		t.Errorf("CatchUp during Run = %v; want ErrRunning", err)
	}
	if _, err := r.Rebuild(t.Context()); !errors.Is(err, projection.ErrRunning) {
		t.Errorf("Rebuild during Run = %v; want ErrRunning", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CatchUp(t.Context()); err != nil {
		t.Errorf("CatchUp after Run = %v", err)
	}
}
