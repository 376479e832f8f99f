package es_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jerry-es/jerry/es"
)

// titled is schema 3 of an event whose field was "name" in schema 1 and
// "label" in schema 2.
type titled struct {
	Title string `json:"title"`
}

func renameField(from, to string) es.UpcastFunc {
	return func(b json.RawMessage) (json.RawMessage, error) {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		m[to] = m[from]
		delete(m, from)
		return json.Marshal(m)
	}
}

func TestRegistryUpcastsOnDecode(t *testing.T) {
	reg := es.NewRegistry()
	es.Register[titled](reg, "titled", 3)
	reg.RegisterUpcaster("titled", 1, renameField("name", "label"))
	reg.RegisterUpcaster("titled", 2, renameField("label", "title"))
	for _, tc := range []struct {
		schema  int
		data    string
		want    string
		wantErr string
	}{
		{1, `{"name":"a"}`, "a", ""},
		{2, `{"label":"b"}`, "b", ""},
		{3, `{"title":"c"}`, "c", ""},
		{4, `{"title":"d"}`, "", "newer than the current"},
		{1, `not json`, "", "from schema 1"},
	} {
		rec := es.Record{Stream: "s", Version: 1, Type: "titled", Schema: tc.schema, Data: json.RawMessage(tc.data)}
		got, err := reg.Decode(rec)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("schema %d: got %v, want error containing %q", tc.schema, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("schema %d: %v", tc.schema, err)
			continue
		}
		if got.(titled).Title != tc.want {
			t.Errorf("schema %d: got %+v, want title %q", tc.schema, got, tc.want)
		}
	}
}

func TestRegistryUpcastChainGap(t *testing.T) {
	reg := es.NewRegistry()
	es.Register[titled](reg, "titled", 3)
	reg.RegisterUpcaster("titled", 2, renameField("label", "title"))
	_, err := reg.Upcast(es.Record{Type: "titled", Schema: 1, Data: json.RawMessage(`{}`)})
	if err == nil || !strings.Contains(err.Error(), "no upcaster from schema 1") {
		t.Fatalf("got %v", err)
	}
}

func TestRegistryUpcastedSequence(t *testing.T) {
	reg := es.NewRegistry()
	es.Register[titled](reg, "titled", 2)
	reg.RegisterUpcaster("titled", 1, renameField("name", "title"))
	recs := []es.Record{
		{Type: "titled", Schema: 1, Data: json.RawMessage(`{"name":"x"}`)},
		{Type: "unknown", Schema: 7, Data: json.RawMessage(`{"kept":true}`)},
	}
	seq := func(yield func(es.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
	got, err := es.Collect(reg.Upcasted(seq))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Schema != 2 || string(got[0].Data) != `{"title":"x"}` {
		t.Errorf("upcast record: %d %s", got[0].Schema, got[0].Data)
	}
	if got[1].Schema != 7 || string(got[1].Data) != `{"kept":true}` {
		t.Errorf("unregistered type changed: %d %s", got[1].Schema, got[1].Data)
	}
}

func TestRegistryEncode(t *testing.T) {
	reg := es.NewRegistry()
	es.Register[titled](reg, "titled", 3)
	ev, err := reg.Encode(titled{Title: "t"})
	if err != nil || ev.Type != "titled" || ev.Schema != 3 || string(ev.Data) != `{"title":"t"}` {
		t.Fatalf("got %+v, %v", ev, err)
	}
	if _, err := reg.Encode(struct{ X int }{1}); err == nil {
		t.Fatal("encoding an unregistered type succeeded")
	}
	if _, err := reg.Decode(es.Record{Type: "nope", Schema: 1, Data: json.RawMessage(`{}`)}); err == nil {
		t.Fatal("decoding an unregistered type succeeded")
	}
}

func TestRegistryRejectsMistakes(t *testing.T) {
	for name, fn := range map[string]func(r *es.Registry){
		"same name twice":     func(r *es.Registry) { es.Register[titled](r, "a", 1); es.Register[Added](r, "a", 1) },
		"same type twice":     func(r *es.Registry) { es.Register[titled](r, "a", 1); es.Register[titled](r, "b", 1) },
		"schema 0":            func(r *es.Registry) { es.Register[titled](r, "a", 0) },
		"empty name":          func(r *es.Registry) { es.Register[titled](r, "", 1) },
		"upcaster twice":      func(r *es.Registry) { r.RegisterUpcaster("a", 1, nil); r.RegisterUpcaster("a", 1, nil) },
		"snap upcaster twice": func(r *es.Registry) { r.RegisterSnapshotUpcaster("a", 1, nil); r.RegisterSnapshotUpcaster("a", 1, nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			fn(es.NewRegistry())
		}()
	}
}

func TestExpectedVersionCheck(t *testing.T) {
	for _, tc := range []struct {
		expected es.ExpectedVersion
		current  int64
		want     error
	}{
		{es.Exact(3), 3, nil},
		{es.Exact(3), 4, es.ErrConcurrency},
		{es.Exact(0), 0, nil},
		{es.NoStream, 0, nil},
		{es.NoStream, 1, es.ErrConcurrency},
		{es.StreamExists, 0, es.ErrConcurrency},
		{es.StreamExists, 9, nil},
		{es.Any, 0, nil},
		{es.Any, 9, nil},
		{es.Exact(-1), 0, es.ErrInvalidExpectedVersion},
		{es.ExpectedVersion{}, 0, es.ErrInvalidExpectedVersion},
	} {
		err := tc.expected.Check("s", tc.current)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s at %d: got %v, want %v", tc.expected, tc.current, err, tc.want)
		}
		var ce *es.ConcurrencyError
		if errors.As(err, &ce) && (ce.Stream != "s" || ce.Actual != tc.current || ce.Expected != tc.expected) {
			t.Errorf("%s at %d: error fields %+v", tc.expected, tc.current, ce)
		}
	}
	if !errors.Is(es.ErrInvalidExpectedVersion, es.ErrInvalidInput) {
		t.Error("ErrInvalidExpectedVersion does not match ErrInvalidInput")
	}
}

func TestConflictResolution(t *testing.T) {
	id := func(b byte) (u [16]byte) { u[15] = b; return u }
	rec := func(ids ...byte) []es.Record {
		var out []es.Record
		for _, b := range ids {
			out = append(out, es.Record{ID: id(b)})
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		expected es.ExpectedVersion
		current  int64
		n        int
		from, to int64
		ok       bool
		stored   []es.Record
		dup      bool
		err      error
	}{
		{"exact retry", es.Exact(2), 4, 2, 3, 4, true, rec(1, 2), true, nil},
		{"exact conflict", es.Exact(2), 4, 2, 3, 4, true, rec(8, 9), false, nil},
		{"exact partial", es.Exact(2), 4, 2, 3, 4, true, rec(1, 9), false, es.ErrPartialDuplicate},
		{"exact, fewer stored than sent", es.Exact(3), 4, 2, 4, 4, true, rec(1), false, es.ErrPartialDuplicate},
		{"exact, behind", es.Exact(5), 4, 2, 0, 0, false, nil, false, nil},
		{"any, tail matches", es.Any, 5, 2, 4, 5, true, rec(1, 2), true, nil},
		{"any, swapped", es.Any, 5, 2, 4, 5, true, rec(2, 1), false, es.ErrPartialDuplicate},
		{"any, short stream", es.Any, 1, 2, 0, 0, false, nil, false, nil},
		{"no stream retry", es.NoStream, 2, 2, 1, 2, true, rec(1, 2), true, nil},
	} {
		from, to, ok := es.ConflictWindow(tc.expected, tc.current, tc.n)
		if from != tc.from || to != tc.to || ok != tc.ok {
			t.Errorf("%s: window %d..%d %v, want %d..%d %v", tc.name, from, to, ok, tc.from, tc.to, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		dup, err := es.ResolveConflict(tc.stored, rec(1, 2))
		if dup != tc.dup || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%s: got %v %v, want %v %v", tc.name, dup, err, tc.dup, tc.err)
		}
	}
}

// The registry's errors match sentinels, so callers branch without reading
// messages.
func TestRegistryErrorsMatchSentinels(t *testing.T) {
	reg := es.NewRegistry()
	es.Register[titled](reg, "titled", 3)
	reg.RegisterUpcaster("titled", 2, renameField("label", "title"))
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"decode unknown name", func() error {
			_, err := reg.Decode(es.Record{Type: "nope", Schema: 1, Data: json.RawMessage(`{}`)})
			return err
		}(), es.ErrUnknownType},
		{"encode unknown Go type", func() error { _, err := reg.Encode(struct{ X int }{1}); return err }(), es.ErrUnknownType},
		{"gap in the chain", func() error {
			_, err := reg.Upcast(es.Record{Type: "titled", Schema: 1, Data: json.RawMessage(`{}`)})
			return err
		}(), es.ErrNoUpcaster},
		{"newer schema", func() error {
			_, err := reg.Decode(es.Record{Type: "titled", Schema: 4, Data: json.RawMessage(`{}`)})
			return err
		}(), es.ErrFutureSchema},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want an error matching %v", tc.name, tc.err, tc.want)
		}
	}
	for name, fn := range map[string]func(r *es.Registry){
		"same name twice": func(r *es.Registry) { es.Register[titled](r, "a", 1); es.Register[Added](r, "a", 1) },
		"same type twice": func(r *es.Registry) { es.Register[titled](r, "a", 1); es.Register[titled](r, "b", 1) },
		"upcaster twice":  func(r *es.Registry) { r.RegisterUpcaster("a", 1, nil); r.RegisterUpcaster("a", 1, nil) },
	} {
		func() {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, es.ErrDuplicate) {
					t.Errorf("%s: panicked with %v, want an error matching es.ErrDuplicate", name, err)
				}
			}()
			fn(es.NewRegistry())
		}()
	}
}
