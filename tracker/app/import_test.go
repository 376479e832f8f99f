package app_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// An import stopped after each of its appends in turn (a store that
// cannot build one aside keeps what it wrote) is completed by a retry,
// event for event; a store that holds anything else, or the whole export
// already, is refused as not empty and left as it was.
func TestImportResumes(t *testing.T) {
	ctx := as("ann")
	src, _ := newService(t)
	for i := range 6 {
		it := create(t, src, "item", tracker.NewItem{})
		if i%2 == 0 {
			if _, err := src.Comment(ctx, it.ID, "a", es.Any); err != nil {
				t.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	total, err := src.Export(ctx, &buf)
	if err != nil {
		t.Fatal(err)
	}
	export := buf.String()
	exportOf := func(st *memstore.Store) string {
		s := newApp(t, st, st, st)
		defer s.Close()
		var b bytes.Buffer
		if _, err := s.Export(ctx, &b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	stops := 0
	for appends := 1; ; appends++ {
		st := memstore.New()
		cut := newApp(t, &dying{Store: st, left: appends}, st, st)
		n, err := cut.Import(ctx, strings.NewReader(export))
		cut.Close()
		if err == nil {
			if n != total {
				t.Fatalf("imported %d of %d", n, total)
			}
			break
		}
		if !errors.Is(err, errDied) {
			t.Fatalf("import stopped after %d appends: %v", appends, err)
		}
		stops++
		s := newApp(t, st, st, st)
		n, err = s.Import(ctx, strings.NewReader(export))
		s.Close()
		if err != nil || n == 0 || n >= total {
			t.Fatalf("retry after %d appends: %d events, %v", appends, n, err)
		}
		if got := exportOf(st); got != export {
			t.Fatalf("retry after %d appends: the store differs from the export", appends)
		}
		s = newApp(t, st, st, st)
		if _, err := s.Import(ctx, strings.NewReader(export)); !errors.Is(err, app.ErrNotEmpty) {
			t.Fatalf("import into a store holding the whole export: %v", err)
		}
		s.Close()
	}
	if stops < 3 {
		t.Fatalf("only %d stops", stops)
	}

	// A store whose events are not the export's first ones is refused.
	other, st := newService(t)
	create(t, other, "other")
	before := exportOf(st)
	if _, err := other.Import(ctx, strings.NewReader(export)); !errors.Is(err, app.ErrNotEmpty) {
		t.Fatalf("import into a store of other events: %v", err)
	}
	if exportOf(st) != before {
		t.Fatal("a refused import wrote")
	}
}
