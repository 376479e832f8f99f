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
//     each operation and reports, from each path's fastest time,
//     replay-rate/decode-rate (against Registry.Decode),
//     replay-rate/typed-decode-rate and snap99-cost/replay-cost;
//   - Concurrent8: 8 goroutines appending one event at a time to one stream,
//     each expecting the version it read and retrying on conflict.
//
// Each reports events/s and allocs/event; compare adapters, and the rehydrate
// cases with their decode baselines, by ratios of medians from one run.
func BenchmarkEventStore(b *testing.B, cfg Config) {
	if cfg.New == nil {
		b.Fatal("estest: Config.New is required")
	}
	b.Run("Append1", func(b *testing.B) { benchAppend(b, cfg, 1) })
	b.Run("Append100", func(b *testing.B) { benchAppend(b, cfg, 100) })
	b.Run("ReadStream10k", func(b *testing.B) { benchReadStream(b, cfg) })
	b.Run("ReadLog10k", func(b *testing.B) { benchReadLog(b, cfg) })
	b.Run("Rehydrate10k", func(b *testing.B) { benchRehydrate(b, cfg) })
	b.Run("Concurrent8", func(b *testing.B) { benchConcurrent(b, cfg, 8) })
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

func benchAppend(b *testing.B, cfg Config, batch int) {
	st := cfg.New(b)
	ctx := context.Background()
	evs := make([]es.Event, batch)
	for i := range evs {
		evs[i] = benchEventJSON(i + 1)
	}
	m := startMeter(b)
	var version int64
	for range b.N {
		// Fresh IDs each time, as real appends have; the store's own
		// generation of them is part of the cost.
		recs, err := st.Append(ctx, "bench-append", es.Exact(version), evs)
		if err != nil {
			b.Fatal(err)
		}
		version = recs[len(recs)-1].Version
	}
	m.stop(batch)
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

func benchRehydrate(b *testing.B, cfg Config) {
	const n = 10000
	st := cfg.New(b)
	var snaps es.SnapshotStore
	if cfg.Snapshots != nil {
		snaps = cfg.Snapshots(b, st)
	} else if ss, ok := st.(es.SnapshotStore); ok {
		snaps = ss
	}
	reg := benchRegistry()
	ctx := context.Background()
	plain := es.NewRepository(st, reg, "bench.Task", newBenchTask)
	saveTask(b, plain, "replay", n)
	recs, err := es.Collect(st.ReadStream(ctx, plain.Stream("replay"), 1, 0))
	if err != nil || len(recs) != n {
		b.Fatalf("read back %d of %d events: %v", len(recs), n, err)
	}

	b.Run("DecodeRegistry", func(b *testing.B) {
		m := startMeter(b)
		for range b.N {
			for _, r := range recs {
				if _, err := reg.Decode(r); err != nil {
					b.Fatal(err)
				}
			}
		}
		m.stop(n)
	})
	b.Run("DecodeTyped", func(b *testing.B) {
		m := startMeter(b)
		for range b.N {
			for _, r := range recs {
				if err := decodeTyped(r); err != nil {
					b.Fatal(err)
				}
			}
		}
		m.stop(n)
	})
	load := func(b *testing.B, repo *es.Repository[*benchTask], id string, version int64) {
		m := startMeter(b)
		for range b.N {
			a, err := repo.Load(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			if a.Version() != version {
				b.Fatalf("loaded version %d, want %d", a.Version(), version)
			}
		}
		// Events/s counts the aggregate's events, however many were
		// actually read: the rate a caller sees.
		m.stop(int(version))
	}
	b.Run("Replay", func(b *testing.B) { load(b, plain, "replay", n) })
	if snaps == nil {
		b.Log("store has no snapshot store: snapshot cases skipped")
		return
	}
	withSnaps := es.NewRepository(st, reg, "bench.Task", newBenchTask, es.WithSnapshots(snaps, es.EveryN(100)),
		es.WithSnapshotErrors(func(stream string, err error) { b.Errorf("snapshot of %s: %v", stream, err) }))
	saveTask(b, withSnaps, "snap", n)
	saveTask(b, withSnaps, "snap-tail", n-1)
	for _, c := range []struct {
		id   string
		snap int64
	}{{"snap", n}, {"snap-tail", n - 100}} {
		s, err := snaps.LoadSnapshot(ctx, withSnaps.Stream(c.id), 0)
		if err != nil || s.Version != c.snap {
			b.Fatalf("latest snapshot of %s: v%d, %v; want v%d", c.id, s.Version, err, c.snap)
		}
	}
	b.Run("Snapshot100", func(b *testing.B) { load(b, withSnaps, "snap", n) })
	b.Run("Snapshot100Tail99", func(b *testing.B) { load(b, withSnaps, "snap-tail", n-1) })
	b.Run("Ratios", func(b *testing.B) {
		// On a shared, noisy machine the separate cases above may run in
		// quiet and busy moments. Here each operation takes the four
		// measurements back to back, alternating their order so that
		// neither pays the other's garbage collection more often, and the
		// ratios are of each path's fastest time over the run: the time
		// it takes when nothing else on the machine interferes.
		fastest := make([]time.Duration, 4) // typed, registry, replay, snapshot
		b.ReportAllocs()
		for i := range b.N {
			timed := func(k int, f func() error) func() {
				return func() {
					t0 := time.Now()
					if err := f(); err != nil {
						b.Fatal(err)
					}
					if d := time.Since(t0); i == 0 || d < fastest[k] {
						fastest[k] = d
					}
				}
			}
			steps := []func(){
				timed(0, func() error {
					for _, r := range recs {
						if err := decodeTyped(r); err != nil {
							return err
						}
					}
					return nil
				}),
				timed(1, func() error {
					for _, r := range recs {
						if _, err := reg.Decode(r); err != nil {
							return err
						}
					}
					return nil
				}),
				timed(2, func() error {
					_, err := plain.Load(ctx, "replay")
					return err
				}),
				timed(3, func() error {
					_, err := withSnaps.Load(ctx, "snap-tail")
					return err
				}),
			}
			if i%2 == 1 {
				slices.Reverse(steps)
			}
			for _, step := range steps {
				step()
			}
		}
		replay := float64(fastest[2])
		b.ReportMetric(float64(fastest[1])/replay, "replay-rate/decode-rate")
		b.ReportMetric(float64(fastest[0])/replay, "replay-rate/typed-decode-rate")
		b.ReportMetric(float64(fastest[3])/replay, "snap99-cost/replay-cost")
	})
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
	m := startMeter(b)
	for range writers {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
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
			}
		})
	}
	wg.Wait()
	m.stop(1)
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(conflicts.Load())/float64(b.N), "conflicts/op")
	if v, err := st.StreamVersion(ctx, "bench-race"); err != nil || v != int64(b.N) {
		b.Fatalf("stream at version %d, %v; want %d", v, err, b.N)
	}
}
