package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestBlockRingProcesses(t *testing.T) { eachStore(t, testBlockRingProcesses) }

// Eight processes race to close a ring of eight items, each adding one
// edge: seven edges make a chain, the eighth would close a cycle. Exactly
// seven succeed, the other exits 2 with a cycle refusal, and the graph
// holds no cycle, as listed and as shown item by item.
func testBlockRingProcesses(t *testing.T, e *env) {
	const n = 8
	ids := make([]string, n)
	for i := range ids {
		ids[i] = e.create(fmt.Sprint("ring ", i))
	}
	codes := make([]int, n)
	parallel(n, func(i int) {
		r := e.run("block", ids[i], ids[(i+1)%n], "--actor", fmt.Sprint("agent-", i))
		if r.code != 0 && !strings.Contains(r.stderr, "cycle") {
			t.Errorf("block %s %s: exit %d: %s", ids[i], ids[(i+1)%n], r.code, r.stderr)
		}
		codes[i] = r.code
	})
	refused := ""
	for i, c := range codes {
		if c != 0 {
			refused = ids[i]
		}
	}
	if sorted := slices.Sorted(slices.Values(codes)); !slices.Equal(sorted, []int{0, 0, 0, 0, 0, 0, 0, exitUsage}) {
		t.Fatalf("exit codes %v, want seven 0 and one %d", codes, exitUsage)
	}
	// The graph as each item's events have it.
	graph := map[string][]string{}
	for _, id := range ids {
		var h []struct {
			Type string `json:"type"`
			Data struct {
				Blocker string `json:"blocker"`
			} `json:"data"`
		}
		e.okJSON(&h, "history", id)
		for _, en := range h {
			switch en.Type {
			case "workitem.blocker_added":
				graph[id] = append(graph[id], en.Data.Blocker)
			case "workitem.blocker_removed":
				graph[id] = slices.DeleteFunc(graph[id], func(b string) bool { return b == en.Data.Blocker })
			}
		}
	}
	edges := 0
	for i, id := range ids {
		want := []string{ids[(i+1)%n]}
		if id == refused {
			want = nil
		}
		if !slices.Equal(graph[id], want) {
			t.Fatalf("%s is blocked by %v, want %v (refused: %s)", id, graph[id], want, refused)
		}
		edges += len(graph[id])
	}
	if edges != n-1 {
		t.Fatalf("%d edges, want %d", edges, n-1)
	}
	// The read model agrees: of a chain of seven edges only its end, the
	// item whose block was refused, is ready (a cycle would leave none).
	var ready []item
	e.okJSON(&ready, "ready")
	if len(ready) != 1 || ready[0].ID != refused {
		t.Fatalf("ready: %+v, want only %s", ready, refused)
	}
	if out := e.ok("verify"); !strings.HasPrefix(out, "ok") {
		t.Fatalf("verify: %s", out)
	}
}
