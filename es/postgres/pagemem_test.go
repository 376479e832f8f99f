package postgres_test

import (
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/jerry-es/jerry/es"
)

// TestPagesBoundedInBytes reads a stream of large events: the pages after
// the first hold a bounded number of bytes, not a bounded number of rows
// only (8,192 rows of 1 MB events would be 8 GB in memory).
func TestPagesBoundedInBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 100 MB")
	}
	ctx := context.Background()
	s := newStore(t)
	data := json.RawMessage(`"` + strings.Repeat("a", 80<<10) + `"`)
	const n = 256 + 1024
	evs := make([]es.Event, 640)
	for i := range evs {
		evs[i] = es.Event{Type: "x", Data: data}
	}
	for range n / len(evs) {
		if _, err := s.Append(ctx, "big", es.Any, evs); err != nil {
			t.Fatal(err)
		}
	}
	evs = nil
	heapNow := func() int64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	// The appends leave buffers in the pool's connections: count from here.
	base := heapNow()
	var heap int64
	i := 0
	for _, err := range s.ReadStream(ctx, "big", 1, 0) {
		if err != nil {
			t.Fatal(err)
		}
		i++
		if i == 257 { // the second page is in memory, the third on its way
			heap = heapNow() - base
		}
	}
	if i != n {
		t.Fatalf("read %d of %d", i, n)
	}
	t.Logf("heap grew by %d MB", heap>>20)
	// 1,024 rows of 80 KB would be 80 MB.
	if heap > 40<<20 {
		t.Errorf("%d MB in the heap while reading the second page of 80 KB events", heap>>20)
	}
}
