package estest

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/jerry-es/jerry/es"
)

// The benchmark aggregate: a task whose events are about the size of real
// ones (200 to 300 bytes of JSON), with bounded state so that a snapshot
// stays small however long the stream grows.

type taskOpened struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Priority    int      `json:"priority"`
	Labels      []string `json:"labels"`
	Reporter    string   `json:"reporter"`
	Component   string   `json:"component"`
}

type taskEdited struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Editor      string `json:"editor"`
	Reason      string `json:"reason"`
	Revision    int    `json:"revision"`
}

type taskProgressed struct {
	Status        string   `json:"status"`
	Percent       int      `json:"percent"`
	Assignee      string   `json:"assignee"`
	Note          string   `json:"note"`
	EstimateHours float64  `json:"estimate_hours"`
	Tags          []string `json:"tags"`
}

type taskState struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Priority    int      `json:"priority"`
	Labels      []string `json:"labels"`
	Status      string   `json:"status"`
	Percent     int      `json:"percent"`
	Assignee    string   `json:"assignee"`
	LastNote    string   `json:"last_note"`
	Estimate    float64  `json:"estimate_hours"`
	Edits       int64    `json:"edits"`
	Progresses  int64    `json:"progresses"`
}

type benchTask struct {
	es.Root
	s taskState
}

func newBenchTask() *benchTask { return &benchTask{} }

// Apply implements es.Aggregate.
func (a *benchTask) Apply(e es.Envelope) {
	switch d := e.Data.(type) {
	case taskOpened:
		a.s.Title, a.s.Description, a.s.Priority, a.s.Labels = d.Title, d.Description, d.Priority, d.Labels
		a.s.Status = "backlog"
	case taskEdited:
		a.s.Title, a.s.Description = d.Title, d.Description
		a.s.Edits++
	case taskProgressed:
		a.s.Status, a.s.Percent, a.s.Assignee, a.s.LastNote, a.s.Estimate = d.Status, d.Percent, d.Assignee, d.Note, d.EstimateHours
		a.s.Progresses++
	}
}

// MarshalSnapshot implements es.Snapshotter.
func (a *benchTask) MarshalSnapshot() ([]byte, error) { return json.Marshal(a.s) }

// UnmarshalSnapshot implements es.Snapshotter.
func (a *benchTask) UnmarshalSnapshot(state []byte) error { return json.Unmarshal(state, &a.s) }

func benchRegistry() *es.Registry {
	reg := es.NewRegistry()
	es.Register[taskOpened](reg, "bench.TaskOpened", 1)
	es.Register[taskEdited](reg, "bench.TaskEdited", 1)
	es.Register[taskProgressed](reg, "bench.TaskProgressed", 1)
	return reg
}

// encodeRegistry is shared by the benchmarks that only encode events.
var encodeRegistry = sync.OnceValue(benchRegistry)

var statuses = []string{"ready", "in_progress", "blocked", "in_progress", "done"}

// benchEvent returns the i-th event of a benchmark task's life: the first
// opens it, the others alternate between edits and progress reports.
func benchEvent(i int) any {
	switch {
	case i == 0:
		return taskOpened{
			Title:       "Investigate slow rehydration of long-lived aggregates",
			Description: "Loading a work item with ten thousand events takes too long on the shared runners.",
			Priority:    2,
			Labels:      []string{"performance", "event-store", "backend"},
			Reporter:    "agent:planner-7",
			Component:   "es/repository",
		}
	case i%2 == 1:
		return taskEdited{
			Title:       fmt.Sprintf("Investigate slow rehydration of long-lived aggregates (rev %d)", i),
			Description: "Narrowed down to decoding: the registry allocates twice per event; see profile attached to the ticket.",
			Editor:      "agent:reviewer-3",
			Reason:      "clarified scope after profiling",
			Revision:    i,
		}
	default:
		return taskProgressed{
			Status:        statuses[i%len(statuses)],
			Percent:       i % 101,
			Assignee:      "agent:worker-12",
			Note:          fmt.Sprintf("step %d: measured again with -count 5, medians attached", i),
			EstimateHours: float64(i%40) / 4,
			Tags:          []string{"measured", "needs-review"},
		}
	}
}

// benchEventJSON returns a typical encoded benchmark event, for the append
// benchmarks.
func benchEventJSON(i int) es.Event {
	ev, err := encodeRegistry().Encode(benchEvent(i))
	if err != nil {
		panic(err)
	}
	return ev
}
