package estest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
)

// BenchmarkEventStore runs the shared benchmarks on the store cfg.New
// returns, so that every adapter is measured on one workload:
//
//   - Append1, Append100: appends of 1 and of 100 events per call to one
//     stream, each event about 250 bytes of JSON;
//   - ReadStream10k: reading a 10,000-event stream;
//   - ReadLog10k: reading a global log of 10,000 events over 100 streams;
//   - Rehydrate10k: loading an aggregate of 10,000 events through
//     es.Repository by full replay (Replay), from a snapshot every 100
//     events (Snapshot100: the latest snapshot is at the last event;
//     Snapshot100Tail99: a 9,999-event aggregate, so 99 events follow the
//     latest snapshot, the worst case), beside the baselines that merely
//     decode the same stored records, already in memory, with
//     es.Registry.Decode (DecodeRegistry) and with json.Unmarshal into the
//     typed structs (DecodeTyped); and Ratios, which takes both decode
//     baselines, the replay and the tail-99 snapshot load back to back in
//     each operation (a round) and reports the median over rounds of each
//     round's replay-rate/decode-rate (against Registry.Decode),
//     replay-rate/typed-decode-rate and snap99-cost/replay-cost;
//   - Concurrent8: 8 goroutines appending one event at a time to one stream,
//     each expecting the version it read and retrying on conflict.
//
// Each reports events/s and allocs/event; the appends, Concurrent8 and the
// aggregate loads also report the 50th and 99th percentiles of one
// operation's latency (p50-ns, p99-ns: one call to Append, one retried
// append, one Load). Ratios is the one workload that measures a store
// against its baselines within each round; run it with -benchtime 7x or
// more for at least 7 rounds. The other cases run one after another, so
// compare them across adapters by ratios of medians over -count runs, which
// a shared machine's changing load can skew.
//
// [Workloads] returns the same benchmarks one by one, for running outside
// go test.
func BenchmarkEventStore(b *testing.B, cfg Config) {
	if cfg.New == nil {
		b.Fatal("estest: Config.New is required")
	}
	for _, w := range workloads(cfg, false) {
		b.Run(w.Name, w.Run)
	}
}

// Workload is one of the shared benchmarks of [BenchmarkEventStore], ready
// to run on its own.
type Workload struct {
	// Name is the benchmark's name under BenchmarkEventStore, such as
	// "Append1" or "Rehydrate10k/Replay".
	Name string

	// Run runs the benchmark. It starts no sub-benchmarks, so that
	// testing.Benchmark, which reports only a whole function, can measure
	// it. A workload the store cannot take (no global log, no snapshot
	// store) calls b.Skip.
	Run func(b *testing.B)
}

// Workloads returns the benchmarks of [BenchmarkEventStore] on the store
// cfg.New returns, in the same order, each runnable with testing.Benchmark:
// this is how cmd/jerry-bench measures every adapter alike outside go test.
// The timed loops and metrics are BenchmarkEventStore's own; the one
// difference is that each case of Rehydrate10k sets up its aggregates on
// every call, where BenchmarkEventStore sets them up once for all its cases.
func Workloads(cfg Config) []Workload { return workloads(cfg, true) }

// workloads is the one list of the shared benchmarks. With flat set,
// Rehydrate10k is one workload per case; otherwise it is a single workload
// that sets up once and runs its cases as sub-benchmarks.
func workloads(cfg Config, flat bool) []Workload {
	ws := []Workload{
		{"Append1", func(b *testing.B) { benchAppend(b, cfg, 1) }},
		{"Append100", func(b *testing.B) { benchAppend(b, cfg, 100) }},
		{"ReadStream10k", func(b *testing.B) { benchReadStream(b, cfg) }},
		{"ReadLog10k", func(b *testing.B) { benchReadLog(b, cfg) }},
	}
	if flat {
		for _, c := range rehydrateCases {
			ws = append(ws, Workload{"Rehydrate10k/" + c.name, func(b *testing.B) {
				fx := newRehydrate(b, cfg, c.snaps)
				if c.snaps && fx.withSnaps == nil {
					b.Skip("store has no snapshot store")
				}
				c.run(b, fx)
			}})
		}
	} else {
		ws = append(ws, Workload{"Rehydrate10k", func(b *testing.B) { benchRehydrate(b, cfg) }})
	}
	return append(ws, Workload{"Concurrent8", func(b *testing.B) { benchConcurrent(b, cfg, 8) }})
}

// meter measures the timed loop of a benchmark in events.
type meter struct {
	b  *testing.B
	m0 runtime.MemStats
}

func startMeter(b *testing.B) *meter {
	m := &meter{b: b}
	b.ReportAllocs()
	runtime.GC()
	runtime.ReadMemStats(&m.m0)
	b.ResetTimer()
	return m
}

// stop ends the timed loop, which handled perOp events in each of b.N
// operations.
func (m *meter) stop(perOp int) {
	m.b.StopTimer()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	n := float64(perOp) * float64(m.b.N)
	m.b.ReportMetric(n/m.b.Elapsed().Seconds(), "events/s")
	m.b.ReportMetric(float64(m1.Mallocs-m.m0.Mallocs)/n, "allocs/event")
}

// opTimes holds how long each operation of a timed loop took. Make it, one
// slot per operation, before startMeter, so that it allocates nothing in the
// loop; report it after meter.stop.
type opTimes []time.Duration

// report sorts t and reports its 50th and 99th percentiles (nearest rank).
func (t opTimes) report(b *testing.B) {
	if len(t) == 0 {
		return
	}
	slices.Sort(t)
	rank := func(p int) time.Duration { return t[max(0, (len(t)*p+99)/100-1)] }
	b.ReportMetric(float64(rank(50)), "p50-ns")
	b.ReportMetric(float64(rank(99)), "p99-ns")
}

func benchAppend(b *testing.B, cfg Config, batch int) {
	st := cfg.New(b)
	ctx := context.Background()
	evs := make([]es.Event, batch)
	for i := range evs {
		evs[i] = benchEventJSON(i + 1)
	}
	lat := make(opTimes, b.N)
	m := startMeter(b)
	var version int64
	prev := time.Now()
	for i := range b.N {
		// Fresh IDs each time, as real appends have; the store's own
		// generation of them is part of the cost.
		recs, err := st.Append(ctx, "bench-append", es.Exact(version), evs)
		if err != nil {
			b.Fatal(err)
		}
		version = recs[len(recs)-1].Version
		// One clock read per call: each call's time runs from the end
		// of the one before.
		now := time.Now()
		lat[i], prev = now.Sub(prev), now
	}
	m.stop(batch)
	lat.report(b)
}

// fill appends n benchmark events to stream in batches of 100.
func fill(b *testing.B, st es.EventStore, stream string, n int) {
	ctx := context.Background()
	for done := 0; done < n; {
		k := min(100, n-done)
		evs := make([]es.Event, k)
		for i := range evs {
			evs[i] = benchEventJSON(done + i)
		}
		if _, err := st.Append(ctx, stream, es.Any, evs); err != nil {
			b.Fatal(err)
		}
		done += k
	}
}

func benchReadStream(b *testing.B, cfg Config) {
	st := cfg.New(b)
	const n = 10000
	fill(b, st, "bench-read", n)
	ctx := context.Background()
	m := startMeter(b)
	for range b.N {
		got := 0
		for _, err := range st.ReadStream(ctx, "bench-read", 1, 0) {
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		if got != n {
			b.Fatalf("read %d events, want %d", got, n)
		}
	}
	m.stop(n)
}

func benchReadLog(b *testing.B, cfg Config) {
	st := cfg.New(b)
	lr, ok := st.(es.LogReader)
	if cfg.NoLog || !ok {
		b.Skip("store has no global log")
	}
	const n, streams = 10000, 100
	ctx := context.Background()
	for i := range n / 100 {
		evs := make([]es.Event, 100)
		for j := range evs {
			evs[j] = benchEventJSON(i*100 + j)
		}
		// Many small appends to interleaved streams, as real traffic is.
		for j := 0; j < 100; j += 10 {
			if _, err := st.Append(ctx, fmt.Sprintf("bench-log-%d", (i*10+j/10)%streams), es.Any, evs[j:j+10]); err != nil {
				b.Fatal(err)
			}
		}
	}
	m := startMeter(b)
	for range b.N {
		got := 0
		for _, err := range lr.ReadLog(ctx, 1) {
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		if got != n {
			b.Fatalf("read %d events, want %d", got, n)
		}
	}
	m.stop(n)
}

// saveTask creates a benchmark task with n events through repo, saving
// 100 events at a time.
func saveTask(b *testing.B, repo *es.Repository[*benchTask], id string, n int) {
	ctx := context.Background()
	a := repo.New(id)
	for i := range n {
		es.Raise(a, benchEvent(i))
		if (i+1)%100 == 0 || i == n-1 {
			if _, err := repo.Save(ctx, a); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// rehydrateN is the length of the Rehydrate10k aggregates.
const rehydrateN = 10000

// rehydrate is what the Rehydrate10k cases share: a store holding the
// aggregate "replay" of rehydrateN events (and its records, read back), and,
// if the store has a snapshot store, the aggregates "snap" (rehydrateN
// events) and "snap-tail" (rehydrateN-1) saved with a snapshot every 100
// events.
type rehydrate struct {
	reg       *es.Registry
	recs      []es.Record
	plain     *es.Repository[*benchTask]
	withSnaps *es.Repository[*benchTask] // nil without snapshots
}

// newRehydrate sets up the Rehydrate10k aggregates; the snapshotted ones
// only if snapshots is set and the store has a snapshot store.
func newRehydrate(b *testing.B, cfg Config, snapshots bool) *rehydrate {
	const n = rehydrateN
	st := cfg.New(b)
	var snaps es.SnapshotStore
	if cfg.Snapshots != nil {
		snaps = cfg.Snapshots(b, st)
	} else if ss, ok := st.(es.SnapshotStore); ok {
		snaps = ss
	}
	fx := &rehydrate{reg: benchRegistry()}
	ctx := context.Background()
	fx.plain = es.NewRepository(st, fx.reg, "bench.Task", newBenchTask)
	saveTask(b, fx.plain, "replay", n)
	recs, err := es.Collect(st.ReadStream(ctx, fx.plain.Stream("replay"), 1, 0))
	if err != nil || len(recs) != n {
		b.Fatalf("read back %d of %d events: %v", len(recs), n, err)
	}
	fx.recs = recs
	if !snapshots || snaps == nil {
		return fx
	}
	fx.withSnaps = es.NewRepository(st, fx.reg, "bench.Task", newBenchTask, es.WithSnapshots(snaps, es.EveryN(100)),
		es.WithSnapshotErrors(func(stream string, err error) { b.Errorf("snapshot of %s: %v", stream, err) }))
	saveTask(b, fx.withSnaps, "snap", n)
	saveTask(b, fx.withSnaps, "snap-tail", n-1)
	for _, c := range []struct {
		id   string
		snap int64
	}{{"snap", n}, {"snap-tail", n - 100}} {
		s, err := snaps.LoadSnapshot(ctx, fx.withSnaps.Stream(c.id), 0)
		if err != nil || s.Version != c.snap {
			b.Fatalf("latest snapshot of %s: v%d, %v; want v%d", c.id, s.Version, err, c.snap)
		}
	}
	return fx
}

func benchRehydrate(b *testing.B, cfg Config) {
	fx := newRehydrate(b, cfg, true)
	for _, c := range rehydrateCases {
		if c.snaps && fx.withSnaps == nil {
			b.Logf("store has no snapshot store: %s skipped", c.name)
			continue
		}
		b.Run(c.name, func(b *testing.B) { c.run(b, fx) })
	}
}

// load measures loading the aggregate id, expected at version, through repo.
func (fx *rehydrate) load(b *testing.B, repo *es.Repository[*benchTask], id string, version int64) {
	ctx := context.Background()
	lat := make(opTimes, b.N)
	m := startMeter(b)
	prev := time.Now()
	for i := range b.N {
		a, err := repo.Load(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if a.Version() != version {
			b.Fatalf("loaded version %d, want %d", a.Version(), version)
		}
		now := time.Now()
		lat[i], prev = now.Sub(prev), now
	}
	// Events/s counts the aggregate's events, however many were
	// actually read: the rate a caller sees.
	m.stop(int(version))
	lat.report(b)
}

// rehydrateCases are the cases of Rehydrate10k, in order; those with snaps
// set need a snapshot store.
var rehydrateCases = []struct {
	name  string
	snaps bool
	run   func(b *testing.B, fx *rehydrate)
}{
	{"DecodeRegistry", false, func(b *testing.B, fx *rehydrate) {
		m := startMeter(b)
		for range b.N {
			for _, r := range fx.recs {
				if _, err := fx.reg.Decode(r); err != nil {
					b.Fatal(err)
				}
			}
		}
		m.stop(len(fx.recs))
	}},
	{"DecodeTyped", false, func(b *testing.B, fx *rehydrate) {
		m := startMeter(b)
		for range b.N {
			for _, r := range fx.recs {
				if err := decodeTyped(r); err != nil {
					b.Fatal(err)
				}
			}
		}
		m.stop(len(fx.recs))
	}},
	{"Replay", false, func(b *testing.B, fx *rehydrate) { fx.load(b, fx.plain, "replay", rehydrateN) }},
	{"Snapshot100", true, func(b *testing.B, fx *rehydrate) { fx.load(b, fx.withSnaps, "snap", rehydrateN) }},
	{"Snapshot100Tail99", true, func(b *testing.B, fx *rehydrate) { fx.load(b, fx.withSnaps, "snap-tail", rehydrateN-1) }},
	{"Ratios", true, benchRatios},
}

// benchRatios takes both decode baselines, the replay and the tail-99
// snapshot load back to back in each operation, and reports the median over
// operations of each operation's own ratios.
func benchRatios(b *testing.B, fx *rehydrate) {
	// On a shared, noisy machine the separate cases above may run in
	// quiet and busy moments. Here each operation is a round that takes
	// the four measurements back to back, alternating their order so that
	// neither pays the other's garbage collection more often, and each
	// ratio is the median over rounds of that round's ratio: both sides
	// of it saw the same moment of the machine.
	ctx := context.Background()
	var decodeRatio, typedRatio, snapRatio []float64
	b.ReportAllocs()
	for i := range b.N {
		var took [4]time.Duration // typed, registry, replay, snapshot
		timed := func(k int, f func() error) func() {
			return func() {
				t0 := time.Now()
				if err := f(); err != nil {
					b.Fatal(err)
				}
				took[k] = time.Since(t0)
			}
		}
		steps := []func(){
			timed(0, func() error {
				for _, r := range fx.recs {
					if err := decodeTyped(r); err != nil {
						return err
					}
				}
				return nil
			}),
			timed(1, func() error {
				for _, r := range fx.recs {
					if _, err := fx.reg.Decode(r); err != nil {
						return err
					}
				}
				return nil
			}),
			timed(2, func() error {
				_, err := fx.plain.Load(ctx, "replay")
				return err
			}),
			timed(3, func() error {
				_, err := fx.withSnaps.Load(ctx, "snap-tail")
				return err
			}),
		}
		if i%2 == 1 {
			slices.Reverse(steps)
		}
		for _, step := range steps {
			step()
		}
		replay := float64(took[2])
		decodeRatio = append(decodeRatio, float64(took[1])/replay)
		typedRatio = append(typedRatio, float64(took[0])/replay)
		snapRatio = append(snapRatio, float64(took[3])/replay)
	}
	b.ReportMetric(median(decodeRatio), "replay-rate/decode-rate")
	b.ReportMetric(median(typedRatio), "replay-rate/typed-decode-rate")
	b.ReportMetric(median(snapRatio), "snap99-cost/replay-cost")
}

// median returns the middle of xs (the mean of the two middles for an even
// count); xs is not empty.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// decodeTyped is the cheapest decoding of a benchmark record there is:
// json.Unmarshal straight into the struct its type names.
func decodeTyped(r es.Record) error {
	switch r.Type {
	case "bench.TaskOpened":
		var v taskOpened
		return json.Unmarshal(r.Data, &v)
	case "bench.TaskEdited":
		var v taskEdited
		return json.Unmarshal(r.Data, &v)
	case "bench.TaskProgressed":
		var v taskProgressed
		return json.Unmarshal(r.Data, &v)
	}
	return fmt.Errorf("unknown type %q", r.Type)
}

func benchConcurrent(b *testing.B, cfg Config, writers int) {
	st := cfg.New(b)
	ctx := context.Background()
	ev := benchEventJSON(1)
	var (
		left      atomic.Int64
		conflicts atomic.Int64
		wg        sync.WaitGroup
		failed    atomic.Pointer[error]
	)
	left.Store(int64(b.N))
	lat := make(opTimes, b.N)
	m := startMeter(b)
	for range writers {
		wg.Go(func() {
			for {
				// Each operation's slot is its own: no two writers
				// share one.
				op := left.Add(-1)
				if op < 0 {
					return
				}
				t0 := time.Now()
				for {
					v, err := st.StreamVersion(ctx, "bench-race")
					if err == nil {
						_, err = st.Append(ctx, "bench-race", es.Exact(v), []es.Event{ev})
					}
					if err == nil {
						break
					}
					if !errors.Is(err, es.ErrConcurrency) {
						failed.Store(&err)
						return
					}
					conflicts.Add(1)
				}
				lat[op] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	m.stop(1)
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	lat.report(b)
	b.ReportMetric(float64(conflicts.Load())/float64(b.N), "conflicts/op")
	if v, err := st.StreamVersion(ctx, "bench-race"); err != nil || v != int64(b.N) {
		b.Fatalf("stream at version %d, %v; want %d", v, err, b.N)
	}
}
