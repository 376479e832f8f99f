//go:build linux

package jsonfile_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
)

// verifyStore builds, once per process, a store of n benchEvents in n/10
// streams of ten, appended stream by stream in one append each, and
// returns its directory.
var verifyStores = map[int]string{}

func verifyStore(b *testing.B, n int) string {
	if dir, ok := verifyStores[n]; ok {
		return dir
	}
	dir, err := os.MkdirTemp("", "jsonfile-verify-")
	if err != nil {
		b.Fatal(err)
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	s, err := jsonfile.Open(dir, jsonfile.NoSync())
	if err != nil {
		b.Fatal(err)
	}
	batch := events(10)
	for i := 0; i < n/10; i++ {
		if _, err := s.Append(context.Background(), fmt.Sprintf("item-%d", i), es.NoStream, batch); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	verifyStores[n] = dir
	return dir
}

// BenchmarkReadDuringVerify measures what `jerry show` costs (open the
// store, read one stream of ten events, close) while another process runs
// Verify over and over, against the same reads with no Verify running, in
// alternating phases of each round so that both see the same moment of a
// noisy machine. It reports each phase's 50th and 99th percentiles (medians
// over rounds) and the medians of the per-round ratios. The store has
// JSONFILE_VERIFY_EVENTS events (default 50,000) in streams of ten:
//
//	JSONFILE_VERIFY_EVENTS=1000000 go test -run '^$' -bench ReadDuringVerify -benchtime 5x -timeout 60m ./es/jsonfile/
func BenchmarkReadDuringVerify(b *testing.B) {
	n := 50_000
	if v, err := strconv.Atoi(os.Getenv("JSONFILE_VERIFY_EVENTS")); err == nil && v >= 10 {
		n = v
	}
	dir := verifyStore(b, n)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 1))
	const reads = 300
	phase := func() (p50, p99 time.Duration) {
		lat := make([]time.Duration, reads)
		for i := range lat {
			t0 := time.Now()
			s, err := jsonfile.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			got, err := es.Collect(s.ReadStream(ctx, fmt.Sprintf("item-%d", rng.IntN(n/10)), 1, 0))
			if err != nil || len(got) != 10 {
				b.Fatalf("read %d records: %v", len(got), err)
			}
			s.Close()
			lat[i] = time.Since(t0)
		}
		slices.Sort(lat)
		return lat[len(lat)/2], lat[len(lat)*99/100]
	}
	var idle, busy, idle50, busy50 []time.Duration
	var ratios, ratios50 []float64
	b.ResetTimer()
	for range b.N {
		mi, pi := phase()
		cmd, out := child(b, "verify-loop", dir)
		for {
			line, err := out.ReadString('\n')
			if err != nil {
				b.Fatal("verify child died")
			}
			if strings.TrimSpace(line) == "verifying" {
				break
			}
		}
		time.Sleep(50 * time.Millisecond) // well into a Verify
		mb, pb := phase()
		cmd.Process.Kill()
		cmd.Wait()
		idle, busy = append(idle, pi), append(busy, pb)
		ratios = append(ratios, float64(pb)/float64(pi))
		idle50, busy50 = append(idle50, mi), append(busy50, mb)
		ratios50 = append(ratios50, float64(mb)/float64(mi))
	}
	b.StopTimer()
	slices.Sort(ratios)
	slices.Sort(ratios50)
	b.ReportMetric(float64(median(idle50).Microseconds()), "p50-idle-us")
	b.ReportMetric(float64(median(busy50).Microseconds()), "p50-verify-us")
	b.ReportMetric(ratios50[len(ratios50)/2], "p50-ratio")
	b.ReportMetric(float64(median(idle).Microseconds()), "p99-idle-us")
	b.ReportMetric(float64(median(busy).Microseconds()), "p99-verify-us")
	b.ReportMetric(ratios[len(ratios)/2], "p99-ratio")
	b.ReportMetric(float64(n), "events")
}
