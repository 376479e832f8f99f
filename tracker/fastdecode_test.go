package tracker

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/jerry-es/jerry/es"
)

func newRegistry() *es.Registry {
	reg := es.NewRegistry()
	Register(reg)
	return reg
}

// checkFast fails if DecodeFast accepts data and encoding/json disagrees.
func checkFast(t *testing.T, reg *es.Registry, typ string, data []byte) bool {
	got, ok := DecodeFast(typ, data)
	if !ok {
		return false
	}
	want, err := reg.Decode(es.Record{Type: typ, Schema: 1, Data: data})
	if err != nil {
		t.Fatalf("DecodeFast accepted %s %q, encoding/json says %v", typ, data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeFast(%s, %q) = %#v, encoding/json gives %#v", typ, data, got, want)
	}
	return true
}

func TestDecodeFast(t *testing.T) {
	reg := newRegistry()
	accept := map[string]string{
		EvCommented:     `{"author":"ann","text":"looks good ✓"}`,
		EvStatusChanged: ` { "from" : "backlog" , "to":"done","reason":"shipped" } `,
		EvItemCreated:   `{"title":"Fix","type":"bug","priority":"high"}`,
		EvReleased:      `{}`,
		EvBlockerAdded:  `{"blocker":"J-1","blocker":"J-2"}`,
		EvItemEdited:    `{"changes":[{"field":"title","from":"a","to":"b"},{"field":"priority","from":"low","to":"high"}]}`,
	}
	for typ, data := range accept {
		if !checkFast(t, reg, typ, []byte(data)) {
			t.Errorf("DecodeFast rejected %s %s", typ, data)
		}
	}
	reject := map[string]string{
		EvCommented:     `{"author":"ann","text":"line\nbreak"}`,          // escape
		EvStatusChanged: `{"from":"backlog","To":"done"}`,                 // case-insensitive key
		EvItemCreated:   `{"title":"Fix","extra":"x"}`,                    // unknown key
		EvClaimed:       `{"assignee":7}`,                                 // not a string
		EvItemEdited:    `{"changes":[{"field":"t","from":{},"to":"b"}]}`, // not flat
		"other.type":    `{}`,
		EvReleased:      `{"previous":"a"} x`,
		EvBlockerAdded:  "{\"blocker\":\"\xff\"}",
	}
	for typ, data := range reject {
		if _, ok := DecodeFast(typ, []byte(data)); ok {
			t.Errorf("DecodeFast accepted %s %s", typ, data)
		}
	}
}

func FuzzDecodeFast(f *testing.F) {
	reg := newRegistry()
	types := []string{EvItemEdited, EvCommented, EvStatusChanged, EvItemCreated, EvAssigned,
		EvInitiativeChanged, EvInitiativeCreated, EvItemAdded, EvInitiativeCompleted}
	for _, s := range []string{`{"author":"a","text":"b"}`, `{"from":"x","to":"y"}`, `{}`, `{"title":"t","type":"bug"}`, `{"a":"b"}`,
		`{"changes":[{"field":"title","from":"a","to":"b"},{"field":"type","from":"task","to":"bug"}]}`, `{"changes":[]}`} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, data string, ti uint8) {
		typ := types[int(ti)%len(types)]
		if _, ok := DecodeFast(typ, []byte(data)); ok && !json.Valid([]byte(data)) {
			t.Fatalf("DecodeFast accepted invalid JSON %q", data)
		}
		checkFast(t, reg, typ, []byte(data))
	})
}

// BenchmarkDecode compares DecodeFast with the registry's encoding/json
// decode on the events most common in a store: comments, status changes,
// edits and creations.
func BenchmarkDecode(b *testing.B) {
	reg := newRegistry()
	events := []es.Record{
		{Type: EvCommented, Schema: 1, Data: []byte(`{"author":"agent-3","text":"notes on the cache part"}`)},
		{Type: EvStatusChanged, Schema: 1, Data: []byte(`{"from":"backlog","to":"in_progress","reason":"picked up"}`)},
		{Type: EvItemEdited, Schema: 1, Data: []byte(`{"changes":[{"field":"priority","from":"medium","to":"high"}]}`)},
		{Type: EvItemCreated, Schema: 1, Data: []byte(`{"title":"Fix the login timeout","type":"bug","priority":"high"}`)},
	}
	b.Run("registry", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := reg.Decode(events[i%len(events)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			r := events[i%len(events)]
			if _, ok := DecodeFast(r.Type, r.Data); !ok {
				b.Fatal("not decoded")
			}
		}
	})
}
