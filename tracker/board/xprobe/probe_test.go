package xprobe

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/board"
)

func TestProbe(t *testing.T) {
	dir := os.Getenv("PROBE_STORE")
	if dir == "" {
		t.Skip("PROBE_STORE unset")
	}
	ctx := context.Background()
	st, err := jsonfile.Open(dir, jsonfile.NoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg := es.NewRegistry()
	tracker.Register(reg)
	start := time.Now()
	n := 0
	if os.Getenv("PROBE_SKIPREAD") != "" {
		goto rebuild
	}
	for _, err := range st.ReadLog(ctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	t.Logf("read %d in %v", n, time.Since(start))
	start = time.Now()
	for rec, err := range st.ReadLog(ctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Decode(rec); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("read+decode in %v", time.Since(start))
rebuild:
	if os.Getenv("PROBE_REBUILD") == "" {
		return
	}
	var path string
	path = t.TempDir() + "/board.db"
	b, err := board.Open(ctx, path, st, reg, board.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	start = time.Now()
	pos, err := b.Rebuild(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	fi, _ := os.Stat(path)
	t.Logf("rebuild %d in %v: %.0f ev/s, %d bytes", pos, el, float64(pos)/el.Seconds(), fi.Size())
}
