package projection_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/es/projection"
)

// statusModel is a persisted read model: each item's status, kept in one
// JSON file together with the position it reflects. It is its own
// checkpoint store, so the state and its position are written in one atomic
// file replacement: a crash leaves an old but consistent file, and no event
// is ever applied twice.
type statusModel struct {
	path   string
	Pos    int64             `json:"position"`
	Status map[string]string `json:"status"`
}

func openStatusModel(path string) (*statusModel, error) {
	m := &statusModel{path: path, Status: map[string]string{}}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	return m, json.Unmarshal(b, m)
}

// Apply implements projection.Projection.
func (m *statusModel) Apply(_ context.Context, batch []es.Record) error {
	for _, r := range batch {
		var e struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal(r.Data, &e); err != nil {
			return projection.AtRecord(r, err)
		}
		m.Status[r.Stream] = e.Status
	}
	return nil
}

// Reset implements projection.Resetter.
func (m *statusModel) Reset(context.Context) error {
	clear(m.Status)
	return nil
}

// LoadCheckpoint implements es.CheckpointStore: the position the file was
// saved at.
func (m *statusModel) LoadCheckpoint(context.Context, string) (int64, error) { return m.Pos, nil }

// SaveCheckpoint implements es.CheckpointStore: it writes the state with its
// position (a real one would write a temporary file, fsync, rename and fsync
// the directory, as jsonfile.Checkpoints does).
func (m *statusModel) SaveCheckpoint(_ context.Context, _ string, pos int64) error {
	m.Pos = pos
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := m.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, m.path)
}

// A command such as `jerry list` opens its persisted read model, catches it
// up from its checkpoint, and answers from it: the cost is the events
// committed since the last command, not the whole log.
func Example_readModel() {
	ctx := context.Background()
	store := memstore.New()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "status.json")

	set := func(item, status string) {
		data, _ := json.Marshal(map[string]string{"status": status})
		store.Append(ctx, item, es.Any, []es.Event{{Type: "status.changed", Data: data}})
	}
	list := func() {
		m, err := openStatusModel(path)
		if err != nil {
			fmt.Println(err)
			return
		}
		// Save only at the end of the catch-up: the state is written once.
		r, err := projection.New("status", store, m, projection.Options{Checkpoints: m, CheckpointEvery: time.Hour})
		if err != nil {
			fmt.Println(err)
			return
		}
		before := m.Pos
		pos, err := r.CatchUp(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		items := slices.Sorted(func(yield func(string) bool) {
			for id, s := range m.Status {
				if !yield(id + "=" + s) {
					return
				}
			}
		})
		fmt.Printf("applied %d new events, at position %d: %v\n", pos-before, pos, items)
	}

	set("a", "backlog")
	set("b", "backlog")
	list()
	set("a", "in_progress")
	list()
	list()
	// Output:
	// applied 2 new events, at position 2: [a=backlog b=backlog]
	// applied 1 new events, at position 3: [a=in_progress b=backlog]
	// applied 0 new events, at position 3: [a=in_progress b=backlog]
}

// Handlers by event type, and a catch-all for the rest.
func ExampleMux() {
	ctx := context.Background()
	store := memstore.New()
	store.Append(ctx, "item-1", es.Any, []es.Event{
		{Type: "item.created", Data: json.RawMessage(`{"title":"write docs"}`)},
		{Type: "item.commented", Data: json.RawMessage(`{"text":"soon"}`)},
	})
	counts := map[string]int{}
	mux := projection.NewMux().
		On("item.created", func(_ context.Context, r es.Record) error {
			fmt.Println("created", r.Stream, string(r.Data))
			return nil
		}).
		OnOther(func(_ context.Context, r es.Record) error {
			counts[r.Type]++
			return nil
		})
	r, _ := projection.New("example", store, mux, projection.Options{Checkpoints: memstore.NewCheckpoints()})
	pos, err := r.CatchUp(ctx)
	fmt.Println(pos, err, counts)
	// Output:
	// created item-1 {"title":"write docs"}
	// 2 <nil> map[item.commented:1]
}

// Rebuild reports progress, enough for a progress bar on a terminal.
func ExampleRunner_Rebuild() {
	ctx := context.Background()
	store := memstore.New()
	for i := range 2500 {
		store.Append(ctx, fmt.Sprintf("item-%d", i%10), es.Any, []es.Event{{Type: "t", Data: json.RawMessage(`{}`)}})
	}
	n := 0
	r, _ := projection.New("count", store,
		projection.Func(func(_ context.Context, batch []es.Record) error { n += len(batch); return nil }),
		projection.Options{
			Checkpoints: memstore.NewCheckpoints(),
			Progress: func(p projection.Progress) {
				if p.Done {
					fmt.Printf("done: %d/%d events, %.0f%%\n", p.Position, p.Last, 100*p.Fraction())
				}
			},
		})
	if _, err := r.Rebuild(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println(n)
	// Output:
	// done: 2500/2500 events, 100%
	// 2500
}

// Following the log as it grows, as `jerry log --follow` does.
func ExampleSubscribe() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := memstore.New()
	store.Append(ctx, "item-1", es.Any, []es.Event{{Type: "item.created", Data: json.RawMessage(`{}`)}})
	go func() {
		store.Append(ctx, "item-1", es.Any, []es.Event{{Type: "item.started", Data: json.RawMessage(`{}`)}})
	}()
	for r, err := range projection.Subscribe(ctx, store, 1, nil, 0) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(r.Position, r.Stream, r.Type)
		if r.Position == 2 {
			cancel() // or break
		}
	}
	// Output:
	// 1 item-1 item.created
	// 2 item-1 item.started
}
