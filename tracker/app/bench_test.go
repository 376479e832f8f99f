package app_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/tracker/app"
)

// BenchmarkBlock measures block on a JSON file store of 10,000 items and
// 30,000 events with the indexed read model, as the command line runs it:
// load the item, catch the model up, walk the graph, reserve
// on the graph stream, write the item. The baseline, in the same run, is a
// comment: one load and one write of an item. Compare the ns/op figures.
func BenchmarkBlock(b *testing.B) {
	const items = 10000
	ctx := es.WithMetadata(context.Background(), es.Metadata{Actor: "bench"})
	st, err := jsonfile.Open(b.TempDir(), jsonfile.NoSync())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s := app.New(st, st, st, app.WithBoard(filepath.Join(b.TempDir(), "board.db")))
	defer s.Close()
	if err := s.Seed(ctx, items, 3*items, 1, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := s.RebuildBoard(ctx, nil); err != nil {
		b.Fatal(err)
	}
	b.Run("comment", func(b *testing.B) {
		j := 0
		for b.Loop() {
			if _, err := s.Comment(ctx, fmt.Sprint("J-", 1+j%items), "note", es.Any); err != nil {
				b.Fatal(err)
			}
			j++
		}
	})
	b.Run("block", func(b *testing.B) {
		// A later item waits on an earlier one, as the seed's blockers
		// do: the graph stays acyclic, and each pair comes once.
		j := 0
		for b.Loop() {
			hi, lo := items-j%(items/2), 1+j/(items/2)
			r, err := s.Block(ctx, fmt.Sprint("J-", hi), fmt.Sprint("J-", lo), es.Any)
			if err != nil {
				b.Fatal(err)
			}
			_ = r
			j++
		}
	})
}

// BenchmarkStats computes 30 days of flow statistics (what jerry stats and
// the web board's charts ask for) over a JSON file store of 2,000 items and
// 20,000 events, beside the baseline of reading the whole log once.
func BenchmarkStats(b *testing.B) {
	ctx := context.Background()
	st, err := jsonfile.Open(b.TempDir(), jsonfile.NoSync())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s := newApp(b, st, st, st)
	defer s.Close()
	if err := s.Seed(ctx, 2000, 20000, 1, nil); err != nil {
		b.Fatal(err)
	}
	// The read model is built once, as a running server has it.
	if _, err := s.Stats(ctx, app.StatsQuery{Since: time.Now().AddDate(0, 0, -30)}); err != nil {
		b.Fatal(err)
	}
	b.Run("read-log-only", func(b *testing.B) {
		for b.Loop() {
			for _, err := range st.ReadLog(ctx, 1) {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("stats-30d", func(b *testing.B) {
		for b.Loop() {
			now := time.Now()
			if _, err := s.Stats(ctx, app.StatsQuery{Since: now.AddDate(0, 0, -30), Until: now}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
