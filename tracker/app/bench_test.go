package app_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/tracker/app"
)

// BenchmarkReadModel folds a JSON file store of 2,000 items and 20,000
// events, as list and ready do, against the baseline of reading the log
// alone: compare the two ns/event figures of one run.
func BenchmarkReadModel(b *testing.B) {
	ctx := context.Background()
	st, err := jsonfile.Open(b.TempDir(), jsonfile.NoSync())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s := app.New(st, st, st)
	if err := s.Seed(ctx, 2000, 20000, 1, nil); err != nil {
		b.Fatal(err)
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/20000, "ns/event")
	}
	b.Run("read-log-only", func(b *testing.B) {
		for b.Loop() {
			for _, err := range st.ReadLog(ctx, 1) {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b)
	})
	b.Run("read-model", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.ReadModel(ctx, time.Time{}, nil); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	// The persisted model, up to date: what list pays instead of the fold
	// (load and decode the file, check it against the log, catch up nothing).
	mf := app.NewModelFile(filepath.Join(b.TempDir(), "m"))
	pm := app.New(st, st, st, app.WithReadModel(mf, func(m string) { b.Fatal(m) }))
	if _, _, err := pm.Rebuild(ctx, nil); err != nil {
		b.Fatal(err)
	}
	b.Run("persisted-up-to-date", func(b *testing.B) {
		for b.Loop() {
			if _, err := pm.Current(ctx); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	// Rebuild through the projection runner, saving at the end (no fsync
	// under NoSync for the store; the model file is synced).
	b.Run("rebuild", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := pm.Rebuild(ctx, nil); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
}
