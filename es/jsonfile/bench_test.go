//go:build linux

package jsonfile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
)

// Benchmarks. Each append benchmark has the machine's raw baseline beside it
// in the same run; compare ratios of medians, not absolute figures:
//
//	go test -run '^$' -bench 'AppendVsRaw|BenchmarkAppend$' -benchtime 1000x -count 5 ./es/jsonfile/
//	go test -run '^$' -bench 'AppendLatency' -benchtime 500x -count 5 ./es/jsonfile/
//	go test -run '^$' -bench 'OpenReadAppend' -benchtime 200x -count 5 ./es/jsonfile/
//	go test -run '^$' -bench 'BenchmarkRead$|PeakHeap|Reindex' -benchtime 5x -count 5 ./es/jsonfile/
//	go test -run '^$' -bench 'DecodeLine|EncodeLine' -benchtime 1000000x -count 5 ./es/jsonfile/
//
// JSONFILE_BENCH_NOSYNC=1 runs the append benchmarks without fsync, to
// measure the CPU side alone.

var benchEvent = es.Event{
	Type:     "WorkItemStatusChanged",
	Data:     []byte(`{"id":"wi-12345","title":"Fix the login page on mobile","status":"in_progress","priority":2,"reason":"picked up"}`),
	Metadata: es.Metadata{Actor: "agent-7"},
}

func events(n int) []es.Event {
	evs := make([]es.Event, n)
	for i := range evs {
		evs[i] = benchEvent
	}
	return evs
}

// benchOpts lets JSONFILE_BENCH_NOSYNC=1 measure the CPU side alone.
func benchOpts() []jsonfile.Option {
	if os.Getenv("JSONFILE_BENCH_NOSYNC") != "" {
		return []jsonfile.Option{jsonfile.NoSync()}
	}
	return nil
}

func perSecond(b *testing.B, events int) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// lineSize returns the size of one benchEvent line in the log.
func lineSize(b *testing.B) int {
	dir := b.TempDir()
	s, err := jsonfile.Open(dir, jsonfile.NoSync())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Append(context.Background(), "item-12345", es.Any, events(1)); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	return int(fi.Size())
}

// rawSync is the machine's baseline: write n lines of the same size as the
// store writes, in one write, then fdatasync, to a growing file.
func rawSync(b *testing.B, lines int) {
	buf := make([]byte, lines*lineSize(b))
	for i := range buf {
		buf[i] = 'x'
	}
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "raw"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var off int64
	b.ResetTimer()
	for range b.N {
		if _, err := f.WriteAt(buf, off); err != nil {
			b.Fatal(err)
		}
		off += int64(len(buf))
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
	}
	perSecond(b, b.N*lines)
}

func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	b.Run("raw-write-fdatasync-1", func(b *testing.B) { rawSync(b, 1) })
	b.Run("single-event-one-stream", func(b *testing.B) {
		s := open(b, "", benchOpts()...)
		evs := events(1)
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.Append(ctx, "item-1", es.Exact(int64(i)), evs); err != nil {
				b.Fatal(err)
			}
		}
		perSecond(b, b.N)
		st := s.Stats()
		b.ReportMetric(float64(st.CommitTime.Microseconds())/float64(st.Commits), "us/commit")
		b.ReportMetric(float64(st.SyncTime.Microseconds())/float64(st.Commits), "us/fsync")
	})
	for _, g := range []int{8, 64} {
		b.Run(fmt.Sprintf("single-event-%d-goroutines-distinct-streams", g), func(b *testing.B) {
			s := open(b, "", benchOpts()...)
			evs := events(1)
			var wg sync.WaitGroup
			var next atomic.Int64
			b.ResetTimer()
			for w := range g {
				wg.Add(1)
				go func() {
					defer wg.Done()
					stream := fmt.Sprintf("item-%d", w)
					for v := int64(0); next.Add(1) <= int64(b.N); v++ {
						if _, err := s.Append(ctx, stream, es.Exact(v), evs); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			perSecond(b, b.N)
			st := s.Stats()
			b.ReportMetric(float64(st.Appends)/float64(st.Commits), "appends/commit")
			b.ReportMetric(float64(st.CommitTime.Microseconds())/float64(st.Commits), "us/commit")
			b.ReportMetric(float64(st.SyncTime.Microseconds())/float64(st.Commits), "us/fsync")
		})
	}
	b.Run("raw-write-fdatasync-100", func(b *testing.B) { rawSync(b, 100) })
	b.Run("100-events-per-call", func(b *testing.B) {
		s := open(b, "", benchOpts()...)
		evs := events(100)
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.Append(ctx, "item-1", es.Exact(int64(i*100)), evs); err != nil {
				b.Fatal(err)
			}
		}
		perSecond(b, b.N*100)
	})
}

// BenchmarkAppendLatency measures durable single-event appends to a stream of
// 100,000 events and to one of 100 events in the same store, alternately, and
// reports each one's median latency and their ratio.
func BenchmarkAppendLatency(b *testing.B) {
	ctx := context.Background()
	s := open(b, "", benchOpts()...)
	batch := events(1000)
	for i := range 100 {
		if _, err := s.Append(ctx, "long", es.Exact(int64(i*1000)), batch); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.Append(ctx, "short", es.NoStream, batch[:100]); err != nil {
		b.Fatal(err)
	}
	evs := events(1)
	var long, short []time.Duration
	b.ResetTimer()
	type target struct {
		name string
		base int64
		lat  *[]time.Duration
	}
	for i := range b.N {
		pair := []target{{"long", 100_000, &long}, {"short", 100, &short}}
		if i%2 == 1 {
			// Alternate which goes first, so that neither always follows
			// the other's sync.
			pair[0], pair[1] = pair[1], pair[0]
		}
		for _, st := range pair {
			t0 := time.Now()
			if _, err := s.Append(ctx, st.name, es.Exact(st.base+int64(i)), evs); err != nil {
				b.Fatal(err)
			}
			*st.lat = append(*st.lat, time.Since(t0))
		}
	}
	pl, ps := median(long), median(short)
	b.ReportMetric(float64(pl.Microseconds()), "p50-us-at-100k")
	b.ReportMetric(float64(ps.Microseconds()), "p50-us-at-100")
	b.ReportMetric(float64(pl)/float64(ps), "p50-ratio")
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// readStore is a store of n benchEvents built once per process: one stream
// (interleave 1) or n/interleave events in each of interleave streams,
// appended round-robin in batches of 100.
var readStores sync.Map

func readStore(b *testing.B, n, interleave int) *jsonfile.Store {
	key := fmt.Sprint(n, "/", interleave)
	if s, ok := readStores.Load(key); ok {
		return s.(*jsonfile.Store)
	}
	dir, err := os.MkdirTemp("", "jsonfile-bench-")
	if err != nil {
		b.Fatal(err)
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	s, err := jsonfile.Open(dir, jsonfile.NoSync())
	if err != nil {
		b.Fatal(err)
	}
	batch := events(1000)
	per := 1000
	if interleave > 1 {
		per = 100
	}
	for i := 0; i < n; i += per {
		stream := fmt.Sprintf("item-%d", (i/per)%interleave)
		if _, err := s.Append(context.Background(), stream, es.Any, batch[:per]); err != nil {
			b.Fatal(err)
		}
	}
	readStores.Store(key, s)
	return s
}

func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	const n = 100_000
	for _, il := range []int{1, 10} {
		b.Run(fmt.Sprintf("stream-of-%d-interleaved-%d", n/il, il), func(b *testing.B) {
			s := readStore(b, n, il)
			b.ResetTimer()
			total := 0
			for range b.N {
				for _, err := range s.ReadStream(ctx, "item-0", 1, 0) {
					if err != nil {
						b.Fatal(err)
					}
					total++
				}
			}
			if total != b.N*n/il {
				b.Fatalf("read %d events, want %d", total, b.N*n/il)
			}
			perSecond(b, total)
		})
	}
	b.Run(fmt.Sprintf("log-of-%d", n), func(b *testing.B) {
		s := readStore(b, n, 10)
		b.ResetTimer()
		total := 0
		for range b.N {
			for _, err := range s.ReadLog(ctx, 1) {
				if err != nil {
					b.Fatal(err)
				}
				total++
			}
		}
		if total != b.N*n {
			b.Fatalf("read %d events, want %d", total, b.N*n)
		}
		perSecond(b, total)
	})
}

// BenchmarkReadLogPeakHeap reads a log of 1,000,000 events and reports the
// high-water mark of the heap in use while reading, sampled every
// millisecond, and after a full collection before the read.
func BenchmarkReadLogPeakHeap(b *testing.B) {
	ctx := context.Background()
	const n = 1_000_000
	s := readStore(b, n, 10)
	b.ResetTimer()
	var peak atomic.Uint64
	for range b.N {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		done := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			for {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
				select {
				case <-done:
					return
				case <-t.C:
				}
			}
		}()
		total := 0
		for _, err := range s.ReadLog(ctx, 1) {
			if err != nil {
				b.Fatal(err)
			}
			total++
		}
		close(done)
		<-sampled
		if total != n {
			b.Fatalf("read %d events", total)
		}
		b.ReportMetric(float64(base)/(1<<20), "heap-before-MiB")
	}
	perSecond(b, b.N*n)
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}

// BenchmarkOpenReadAppend is what one `jerry` command costs on a store of
// 100,000 events in 2,000 streams: open the store, read one stream of 50
// events, append one event durably, close.
func BenchmarkOpenReadAppend(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	s, err := jsonfile.Open(dir, jsonfile.NoSync())
	if err != nil {
		b.Fatal(err)
	}
	batch := events(50)
	for i := range 2000 {
		if _, err := s.Append(ctx, fmt.Sprintf("item-%d", i), es.NoStream, batch); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	evs := events(1)
	b.ResetTimer()
	for i := range b.N {
		s, err := jsonfile.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		stream := fmt.Sprintf("item-%d", i%2000)
		n := int64(0)
		for _, err := range s.ReadStream(ctx, stream, 1, 0) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if _, err := s.Append(ctx, stream, es.Exact(n), evs); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/command")
}

// BenchmarkReindex rebuilds every derived file of a 100,000-event store from
// its log, as the first open after a reboot does.
func BenchmarkReindex(b *testing.B) {
	s := readStore(b, 100_000, 10)
	b.ResetTimer()
	for range b.N {
		if err := s.Reindex(); err != nil {
			b.Fatal(err)
		}
	}
	perSecond(b, b.N*100_000)
}

// BenchmarkAppendVsRaw alternates, in one loop, a durable append to the store
// with the machine's baseline (one write of the same bytes plus fdatasync, to
// a file in the same directory), so that both see the same moment of a noisy
// machine. It reports each one's rate (from its mean latency) and the ratio
// store/raw of rates, for 1 and for 100 events per call.
func BenchmarkAppendVsRaw(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("events-%d", n), func(b *testing.B) {
			dir := b.TempDir()
			s := open(b, dir)
			buf := make([]byte, n*lineSize(b))
			for i := range buf {
				buf[i] = 'x'
			}
			f, err := os.OpenFile(filepath.Join(dir, "raw"), os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			evs := events(n)
			var off int64
			var rawT, storeT time.Duration
			b.ResetTimer()
			for i := range b.N {
				raw := func() {
					t0 := time.Now()
					if _, err := f.WriteAt(buf, off); err != nil {
						b.Fatal(err)
					}
					off += int64(len(buf))
					if err := syscall.Fdatasync(int(f.Fd())); err != nil {
						b.Fatal(err)
					}
					rawT += time.Since(t0)
				}
				store := func() {
					t0 := time.Now()
					if _, err := s.Append(ctx, "item-1", es.Exact(int64(i*n)), evs); err != nil {
						b.Fatal(err)
					}
					storeT += time.Since(t0)
				}
				if i%2 == 0 {
					raw()
					store()
				} else {
					store()
					raw()
				}
			}
			rawRate := float64(b.N*n) / rawT.Seconds()
			storeRate := float64(b.N*n) / storeT.Seconds()
			b.ReportMetric(rawRate, "raw-events/s")
			b.ReportMetric(storeRate, "store-events/s")
			b.ReportMetric(storeRate/rawRate, "store/raw")
			st := s.Stats()
			b.ReportMetric(float64(rawT.Microseconds())/float64(b.N), "raw-us")
			b.ReportMetric(float64(storeT.Microseconds())/float64(b.N), "store-us")
			b.ReportMetric(float64(st.CommitTime.Microseconds())/float64(st.Commits), "commit-us")
			b.ReportMetric(float64(st.SyncTime.Microseconds())/float64(st.Commits), "fsync-us")
		})
	}
}
