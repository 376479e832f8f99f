package es_test

import (
	"context"
	"fmt"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
)

// The seed's "Complete Usage Example": a work item aggregate with two events.

// WorkItemCreated records that a work item was created.
type WorkItemCreated struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	ItemType    string `json:"item_type"`
}

// WorkItemStatusChanged records a change of status.
type WorkItemStatusChanged struct {
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
	Reason    string `json:"reason,omitempty"`
}

// WorkItem is an event-sourced work item.
type WorkItem struct {
	es.Root
	Title  string
	Type   string
	Status string
}

// CreateWorkItem records a new work item.
func CreateWorkItem(id, title, description, itemType string) *WorkItem {
	w := &WorkItem{}
	w.SetID(id)
	es.Raise(w, WorkItemCreated{Title: title, Description: description, ItemType: itemType})
	return w
}

// ChangeStatus moves the item to status; the current status records nothing.
func (w *WorkItem) ChangeStatus(status, reason string) {
	if status == w.Status {
		return
	}
	es.Raise(w, WorkItemStatusChanged{OldStatus: w.Status, NewStatus: status, Reason: reason})
}

// Apply implements es.Aggregate.
func (w *WorkItem) Apply(e es.Envelope) {
	switch d := e.Data.(type) {
	case WorkItemCreated:
		w.Title, w.Type, w.Status = d.Title, d.ItemType, "backlog"
	case WorkItemStatusChanged:
		w.Status = d.NewStatus
	}
}

func Example() {
	ctx := context.Background()
	reg := es.NewRegistry()
	es.Register[WorkItemCreated](reg, "workitem.created", 1)
	es.Register[WorkItemStatusChanged](reg, "workitem.status_changed", 1)

	store := memstore.New()
	items := es.NewRepository(store, reg, "workitem", func() *WorkItem { return &WorkItem{} })

	item := CreateWorkItem("J-1", "Write the event store", "append-only, versioned", "task")
	item.ChangeStatus("in_progress", "picked up")
	if _, err := items.Save(ctx, item); err != nil {
		fmt.Println(err)
		return
	}

	now, _ := items.Load(ctx, "J-1")
	fmt.Printf("now:  %s is %s at version %d\n", now.Title, now.Status, now.Version())

	then, _ := items.LoadAt(ctx, "J-1", 1)
	fmt.Printf("then: %s was %s at version %d\n", then.Title, then.Status, then.Version())

	// A second writer that loaded the same version loses the race.
	stale, _ := items.LoadAt(ctx, "J-1", 2)
	now.ChangeStatus("done", "")
	_, err1 := items.Save(ctx, now)
	stale.ChangeStatus("blocked", "")
	_, err2 := items.Save(ctx, stale)
	fmt.Println("first save:", err1)
	fmt.Println("second save:", err2)

	// Output:
	// now:  Write the event store is in_progress at version 2
	// then: Write the event store was backlog at version 1
	// first save: <nil>
	// second save: es: concurrency conflict on stream "workitem-J-1": expected version 2, actual 3
}
