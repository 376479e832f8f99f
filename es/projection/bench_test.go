package projection_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/es/projection"
)

// benchEvents is the size of the log the rebuild benchmarks read. The
// default keeps `go test -bench .` quick; the figures in the report use
// -events=1000000.
var benchEvents = flag.Int("events", 100_000, "events in the log read by the rebuild benchmarks")

// benchItems is how many streams the events are spread over: jerry's
// 10,000 work items.
const benchItems = 10_000

// benchEvent is a work-item-like event: a few short fields.
type benchEvent struct {
	Title    string `json:"title"`
	Status   string `json:"status"`
	Priority int    `json:"priority"`
}

// fill appends n events spread over benchItems streams: each append
// carries a run of events for one item (an append is to one stream), and
// the appends go round-robin over the items, as a busy tracker's log would.
func fill(tb testing.TB, st es.EventStore, n int) {
	ctx := context.Background()
	chunk := min(max(1, n/benchItems), 1000)
	statuses := []string{"backlog", "ready", "in_progress", "done"}
	evs := make([]es.Event, 0, chunk)
	for i, a := 0, 0; i < n; a++ {
		stream := fmt.Sprintf("item-%05d", a%benchItems)
		evs = evs[:0]
		for j := 0; j < chunk && i < n; j, i = j+1, i+1 {
			data, _ := json.Marshal(benchEvent{Title: fmt.Sprintf("item %d", a%benchItems), Status: statuses[i%4], Priority: i % 5})
			evs = append(evs, es.Event{Type: "item.changed", Data: data, Metadata: es.Metadata{Actor: "bench"}})
		}
		if _, err := st.Append(ctx, stream, es.Any, evs); err != nil {
			tb.Fatal(err)
		}
	}
}

// Stores are built once per process and size: building a million-event
// jsonfile store takes longer than reading it.
var (
	benchMu     sync.Mutex
	benchStores = map[string]es.LogReader{}
)

func benchStore(b *testing.B, kind string) es.LogReader {
	benchMu.Lock()
	defer benchMu.Unlock()
	key := fmt.Sprintf("%s/%d", kind, *benchEvents)
	if st, ok := benchStores[key]; ok {
		return st
	}
	start := time.Now()
	var st es.LogReader
	switch kind {
	case "memstore":
		m := memstore.New()
		fill(b, m, *benchEvents)
		st = m
	case "jsonfile":
		dir, err := os.MkdirTemp("", "projection-bench-")
		if err != nil {
			b.Fatal(err)
		}
		// Not b.TempDir: the store serves every run of the benchmark
		// (-count); TestMain removes it when the process ends.
		benchCleanup = append(benchCleanup, func() { os.RemoveAll(dir) })
		w, err := jsonfile.Open(dir, jsonfile.NoSync())
		if err != nil {
			b.Fatal(err)
		}
		fill(b, w, *benchEvents)
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		// Reopen as a reader would, with the default (durable) options.
		r, err := jsonfile.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		benchCleanup = append(benchCleanup, func() { r.Close() })
		st = r
	}
	b.Logf("built %s store of %d events in %v", kind, *benchEvents, time.Since(start).Round(time.Millisecond))
	benchStores[key] = st
	return st
}

// benchCleanup closes and removes the stores; TestMain runs it.
var benchCleanup []func()

func cleanupBenchStores() {
	for _, f := range benchCleanup {
		f()
	}
}

// BenchmarkRebuild measures one full pass over the log per iteration: raw
// ReadLog as the baseline, then the runner rebuilding trivial in-memory
// projections, so that the runner's own cost is the difference. events/s
// is the figure to compare.
func BenchmarkRebuild(b *testing.B) {
	for _, kind := range []string{"memstore", "jsonfile"} {
		b.Run(kind, func(b *testing.B) {
			st := benchStore(b, kind)
			n := *benchEvents
			report := func(b *testing.B) {
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n)/float64(b.N), "ns/event")
			}
			b.Run("ReadLog", func(b *testing.B) {
				for b.Loop() {
					count := 0
					for _, err := range st.ReadLog(context.Background(), 1) {
						if err != nil {
							b.Fatal(err)
						}
						count++
					}
					if count != n {
						b.Fatalf("read %d events, want %d", count, n)
					}
				}
				report(b)
			})
			// The trivial read model: each item's latest version.
			versions := func() (projection.Projection, func() int) {
				m := make(map[string]int64, benchItems)
				return projection.Func(func(_ context.Context, batch []es.Record) error {
					for i := range batch {
						m[batch[i].Stream] = batch[i].Version
					}
					return nil
				}), func() int { return len(m) }
			}
			rebuild := func(b *testing.B, proj projection.Projection, opts projection.Options) {
				r, err := projection.New("bench", st, proj, opts)
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					pos, err := r.Rebuild(context.Background())
					if err != nil || pos != int64(n) {
						b.Fatalf("Rebuild = %d, %v", pos, err)
					}
				}
				report(b)
			}
			b.Run("Runner", func(b *testing.B) {
				p, size := versions()
				rebuild(b, p, projection.Options{Checkpoints: memstore.NewCheckpoints()})
				if size() != min(n, benchItems) {
					b.Fatalf("projection holds %d items", size())
				}
			})
			b.Run("RunnerMux", func(b *testing.B) {
				m := make(map[string]int64, benchItems)
				mux := projection.NewMux().On("item.changed", func(_ context.Context, r es.Record) error {
					m[r.Stream] = r.Version
					return nil
				})
				rebuild(b, mux, projection.Options{Checkpoints: memstore.NewCheckpoints()})
			})
			b.Run("RunnerFileCheckpoints", func(b *testing.B) {
				// A durable checkpoint (temp file, fsync, rename, fsync
				// directory) after every batch of 1,000.
				cp, err := jsonfile.NewCheckpoints(filepath.Join(b.TempDir(), "cp"))
				if err != nil {
					b.Fatal(err)
				}
				p, _ := versions()
				rebuild(b, p, projection.Options{Checkpoints: cp})
			})
			b.Run("RunnerFileCheckpointsEvery1s", func(b *testing.B) {
				cp, err := jsonfile.NewCheckpoints(filepath.Join(b.TempDir(), "cp"))
				if err != nil {
					b.Fatal(err)
				}
				p, _ := versions()
				rebuild(b, p, projection.Options{Checkpoints: cp, BatchSize: 10_000, CheckpointEvery: time.Second})
			})
			b.Run("RunnerUpcastDecode", func(b *testing.B) {
				// Closer to a real read model: registry upcasting (no
				// upcaster runs: events are current) and decoding each
				// event's data with encoding/json.
				reg := es.NewRegistry()
				es.Register[benchEvent](reg, "item.changed", 1)
				status := make(map[string]string, benchItems)
				p := projection.Func(func(_ context.Context, batch []es.Record) error {
					for i := range batch {
						var e benchEvent
						if err := json.Unmarshal(batch[i].Data, &e); err != nil {
							return projection.AtRecord(batch[i], err)
						}
						status[batch[i].Stream] = e.Status
					}
					return nil
				})
				rebuild(b, p, projection.Options{Checkpoints: memstore.NewCheckpoints(), Registry: reg})
			})
		})
	}
}

// BenchmarkCatchUp measures what a command like `jerry list` pays to bring
// a read model up to date before answering, on a jsonfile store of 100,000
// events over 10,000 items: with nothing new (the idle cost: load the
// checkpoint, read the log's end), and after another Store on the same
// directory (as another process would) appended 1,000 events. The
// checkpoint is a durable jsonfile checkpoint, saved once per catch-up.
func BenchmarkCatchUp(b *testing.B) {
	dir := b.TempDir()
	w, err := jsonfile.Open(dir, jsonfile.NoSync())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	fill(b, w, 100_000)
	r, err := jsonfile.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	cp, err := jsonfile.NewCheckpoints(filepath.Join(dir, "checkpoints"))
	if err != nil {
		b.Fatal(err)
	}
	m := make(map[string]int64, benchItems)
	proj := projection.Func(func(_ context.Context, batch []es.Record) error {
		for i := range batch {
			m[batch[i].Stream] = batch[i].Version
		}
		return nil
	})
	run, err := projection.New("list", r, proj, projection.Options{Checkpoints: cp, BatchSize: 10_000})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := run.CatchUp(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("nothing-new", func(b *testing.B) {
		for b.Loop() {
			if _, err := run.CatchUp(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("1000-new", func(b *testing.B) {
		evs := make([]es.Event, 1000)
		for i := range evs {
			evs[i] = es.Event{Type: "item.changed", Data: json.RawMessage(`{"title":"x","status":"ready","priority":1}`)}
		}
		n := 0
		for b.Loop() {
			b.StopTimer()
			n++
			if _, err := w.Append(ctx, fmt.Sprintf("item-%05d", n%benchItems), es.Any, evs); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			before := run.Position()
			pos, err := run.CatchUp(ctx)
			if err != nil || pos != before+1000 {
				b.Fatalf("CatchUp = %d, %v; want %d", pos, err, before+1000)
			}
		}
	})
}
