package board_test

// Benchmarks of the read model on seeded stores, as a command uses it:
// open the model, catch up, answer, close (process start and opening the
// event store not included). The stores are seeded once and kept under
// $BOARD_BENCH_DIR (default: the temporary directory), so that reruns are
// quick; delete the directory to start over.
//
//	go test -run '^$' -bench . -benchtime 20x ./tracker/board
//	BOARD_BENCH_LARGE=1 go test -run '^$' -bench . -benchtime 20x -timeout 60m ./tracker/board
//
// The large store is 100,000 items and 1,000,000 events; the small one
// 10,000 and 100,000.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/es/postgres"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/board"
	"github.com/jerry-es/jerry/tracker/board/boardtest"
)

type benchSize struct{ items, events int }

func benchSizes() []benchSize {
	s := []benchSize{{10000, 100000}}
	if os.Getenv("BOARD_BENCH_LARGE") != "" {
		s = append(s, benchSize{100000, 1000000})
	}
	return s
}

// benchEnd is when every seeded log ends: a fixed time, so that the
// seeded stores can be kept between runs; queries "as of 3 days ago" and
// "since 1 hour ago" are relative to it.
var benchEnd = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func benchStore(b *testing.B, sz benchSize) (*jsonfile.Store, string) {
	b.Helper()
	root := os.Getenv("BOARD_BENCH_DIR")
	if root == "" {
		root = os.TempDir()
	}
	dir := filepath.Join(root, fmt.Sprintf("jerry-board-bench-%d-%d", sz.items, sz.events))
	fresh := false
	if _, err := os.Stat(filepath.Join(dir, "seeded")); err != nil {
		os.RemoveAll(dir)
		fresh = true
	}
	st, err := jsonfile.Open(filepath.Join(dir, "store"), jsonfile.NoSync())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	model := filepath.Join(dir, "board.db")
	if fresh {
		start := time.Now()
		if err := boardtest.Seed(context.Background(), st, sz.items, sz.events, benchEnd, 1); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d items, %d events in %v", sz.items, sz.events, time.Since(start))
		if err := os.WriteFile(filepath.Join(dir, "seeded"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	// Bring the model up to date (or rebuild it, if its format changed)
	// before any timing.
	bd, err := board.Open(context.Background(), model, st, reg(), board.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := bd.CatchUp(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	bd.Close()
	return st, model
}

func reg() *es.Registry {
	r := es.NewRegistry()
	tracker.Register(r)
	return r
}

// command opens the model, catches up, runs fn and closes the model.
func command(b *testing.B, st *jsonfile.Store, model string, fn func(bd *board.Board) (int, error)) int {
	ctx := context.Background()
	bd, err := board.Open(ctx, model, st, reg(), board.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer bd.Close()
	if _, err := bd.CatchUp(ctx, nil); err != nil {
		b.Fatal(err)
	}
	n, err := fn(bd)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func BenchmarkCommands(b *testing.B) {
	ctx := context.Background()
	cmds := []struct {
		name string
		fn   func(bd *board.Board) (int, error)
	}{
		{"list-limit-50", func(bd *board.Board) (int, error) {
			its, err := bd.Items(ctx, board.Query{Limit: 50})
			return len(its), err
		}},
		{"ready-limit-10", func(bd *board.Board) (int, error) {
			its, err := bd.Ready(ctx, board.Query{Limit: 10})
			return len(its), err
		}},
		{"list-label-status", func(bd *board.Board) (int, error) {
			its, err := bd.Items(ctx, board.Query{Labels: []string{"security"}, Statuses: []tracker.Status{tracker.Ready}})
			return len(its), err
		}},
		{"search-word", func(bd *board.Board) (int, error) {
			hs, err := bd.Search(ctx, "billing", board.Query{Limit: 50})
			return len(hs), err
		}},
		{"list-as-of-3-days-limit-50", func(bd *board.Board) (int, error) {
			its, err := bd.Items(ctx, board.Query{Limit: 50, AsOf: benchEnd.Add(-72 * time.Hour)})
			return len(its), err
		}},
		{"log-since-1-hour", func(bd *board.Board) (int, error) {
			es, err := bd.Feed(ctx, board.FeedQuery{Since: benchEnd.Add(-time.Hour)})
			return len(es), err
		}},
	}
	for _, sz := range benchSizes() {
		st, model := benchStore(b, sz)
		for _, c := range cmds {
			b.Run(fmt.Sprintf("items=%d/%s", sz.items, c.name), func(b *testing.B) {
				var n int
				cpu0 := cpuTime()
				for b.Loop() {
					n = command(b, st, model, c.fn)
				}
				b.ReportMetric(float64(n), "results")
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

// BenchmarkCatchUp1000 is a list after another writer appended 1,000
// events: each round appends them (not timed), then times the command.
func BenchmarkCatchUp1000(b *testing.B) {
	ctx := context.Background()
	for _, sz := range benchSizes() {
		// A copy of the seeded store and model: this benchmark writes.
		st0, model0 := benchStore(b, sz)
		st0.Close()
		dir := b.TempDir()
		if err := exec.Command("cp", "-a", filepath.Dir(model0), dir).Run(); err != nil {
			b.Fatal(err)
		}
		dir = filepath.Join(dir, filepath.Base(filepath.Dir(model0)))
		st, err := jsonfile.Open(filepath.Join(dir, "store"), jsonfile.NoSync())
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		model := filepath.Join(dir, "board.db")
		b.Run(fmt.Sprintf("items=%d", sz.items), func(b *testing.B) {
			w := boardtest.NewWriter(st, uint64(time.Now().UnixNano()))
			w.Clock = benchEnd
			if err := w.Resume(ctx, st); err != nil {
				b.Fatal(err)
			}
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				last, _ := st.LastPosition(ctx)
				if err := w.Fill(ctx, st, last+1000); err != nil {
					b.Fatal(err)
				}
				runtime.GC() // the writer's garbage is not the command's
				b.StartTimer()
				cpu0 := cpuTime()
				command(b, st, model, func(bd *board.Board) (int, error) {
					its, err := bd.Items(ctx, board.Query{Limit: 50})
					return len(its), err
				})
				cpu += cpuTime() - cpu0
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkRebuild rebuilds the model from the whole log into a new file,
// reporting events/s and the model's size per item.
func BenchmarkRebuild(b *testing.B) {
	for _, sz := range benchSizes() {
		st, _ := benchStore(b, sz)
		b.Run(fmt.Sprintf("items=%d", sz.items), func(b *testing.B) {
			size := rebuildLoop(b, st)
			b.ReportMetric(float64(size)/float64(sz.items), "model-bytes/item")
		})
	}
}

// cpuTime returns the CPU time the process has used: on a shared machine
// it says more about a command's cost than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPostgresRebuild builds the model from a PostgreSQL store of
// 10,000 items and 100,000 events (seeded once into the schema
// jerry_board_bench, kept for reruns): what the first command on a new
// machine pays for keeping the model in a local cache rather than in
// tables on the server. Needs JERRY_TEST_POSTGRES.
func BenchmarkPostgresRebuild(b *testing.B) {
	dsn := os.Getenv("JERRY_TEST_POSTGRES")
	if dsn == "" {
		b.Skip("set JERRY_TEST_POSTGRES")
	}
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn, postgres.WithSchema("jerry_board_bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if last, _ := st.LastPosition(ctx); last == 0 {
		if err := boardtest.Seed(ctx, st, 10000, 100000, benchEnd, 1); err != nil {
			b.Fatal(err)
		}
	}
	rebuildLoop(b, st)
}

// rebuildLoop rebuilds the model of st into a new file each iteration,
// timing Rebuild alone; it reports events/s and events/cpu-s and returns
// the size of the last model file.
func rebuildLoop(b *testing.B, st es.LogReader) int64 {
	ctx := context.Background()
	var pos, size int64
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "board.db")
		bd, err := board.Open(ctx, path, st, reg(), board.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cpu0 := cpuTime()
		if pos, err = bd.Rebuild(ctx, nil); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - cpu0
		b.StopTimer()
		bd.Close()
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		size = fi.Size()
		b.StartTimer()
	}
	b.ReportMetric(float64(pos)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(pos)*float64(b.N)/cpu.Seconds(), "events/cpu-s")
	return size
}

// BenchmarkListPeakMemory runs "list" (every open item, no limit) in a
// child process and reports its peak resident memory.
func BenchmarkListPeakMemory(b *testing.B) {
	for _, sz := range benchSizes() {
		st, model := benchStore(b, sz)
		st.Close()
		b.Run(fmt.Sprintf("items=%d", sz.items), func(b *testing.B) {
			var rss int64
			for b.Loop() {
				cmd := boardtest.Child("list", "file:"+filepath.Join(filepath.Dir(model), "store"), model)
				if out, err := cmd.Output(); err != nil {
					b.Fatalf("%v: %s", err, out)
				}
				rss = max(rss, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
			}
			b.ReportMetric(float64(rss)/1024, "peak-MiB")
		})
	}
}
