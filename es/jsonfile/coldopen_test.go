//go:build linux

package jsonfile_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
)

// coldStores holds, per size, a store whose derived files were made durable
// (by a Reindex without NoSync, which checkpoints) after it was built.
var coldStores = map[int]string{}

func coldBenchStore(b *testing.B, n int) string {
	if dir, ok := coldStores[n]; ok {
		return dir
	}
	dir := verifyStore(b, n)
	s, err := jsonfile.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Reindex(); err != nil {
		b.Fatal(err)
	}
	s.Close()
	coldStores[n] = dir
	return dir
}

// dropCaches empties the page cache, as a reboot does, where the process
// may (root on Linux) and JSONFILE_DROP_CACHES=1 asks for it: it slows every
// process on the machine for a moment.
func dropCaches() bool {
	if os.Getenv("JSONFILE_DROP_CACHES") != "1" {
		return false
	}
	syscall.Sync()
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0) == nil
}

// BenchmarkColdOpen is the first command after a reboot: durable appends
// (a tail of 1,000 events since the last checkpoint, in 100 streams), the
// page cache dropped (JSONFILE_DROP_CACHES=1, as root), then Open under a
// new boot ID and one stream read. It reports the median time of that first
// command, the records recovery read, and the store's bytes on disk per
// event against the log's bytes per event. JSONFILE_COLD_EVENTS sets the
// store's size (default 20,000 events in streams of ten):
//
//	JSONFILE_COLD_EVENTS=1000000 JSONFILE_DROP_CACHES=1 go test -run '^$' -bench ColdOpen -benchtime 5x -timeout 60m ./es/jsonfile/
func BenchmarkColdOpen(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("JSONFILE_COLD_EVENTS")); err == nil && v >= 10 {
		n = v
	}
	dir := coldBenchStore(b, n)
	ctx := context.Background()
	var took []time.Duration
	var replayed int64
	dropped := false
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		w, err := jsonfile.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		for j := range 100 {
			if _, err := w.Append(ctx, fmt.Sprintf("tail-%d-%d", i, j), es.Any, events(10)); err != nil {
				b.Fatal(err)
			}
		}
		w.Close()
		dropped = dropCaches()
		b.StartTimer()
		t0 := time.Now()
		s, err := jsonfile.Open(dir, jsonfile.WithBootID(fmt.Sprintf("boot-%d-%d", time.Now().UnixNano(), i)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := es.Collect(s.ReadStream(ctx, "item-7", 1, 0)); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
		replayed = s.Stats().Replayed
		s.Close()
	}
	b.StopTimer()
	var disk, logSize int64
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			var st syscall.Stat_t
			if syscall.Stat(path, &st) == nil {
				disk += st.Blocks * 512
			}
			if d.Name() == "events.jsonl" {
				fi, _ := d.Info()
				logSize = fi.Size()
			}
		}
		return nil
	})
	total := float64(n + b.N*1000)
	b.ReportMetric(float64(median(took).Microseconds())/1000, "ms-first-command")
	b.ReportMetric(float64(replayed), "records-replayed")
	b.ReportMetric(float64(disk)/total, "disk-bytes/event")
	b.ReportMetric(float64(logSize)/total, "log-bytes/event")
	if dropped {
		b.ReportMetric(1, "cache-dropped")
	}
}
