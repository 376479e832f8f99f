package boardtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
)

// SeedStep is the time between two seeded events: the last hour of a
// seeded log holds 100 events, whatever its size.
const SeedStep = 36 * time.Second

// Seed fills an empty store with items work items and about events events
// in all, for benchmarks: ID allocations, then each item's events in one
// append, made with the domain's commands (statuses, edits, comments,
// claims, blockers on earlier items, labels from a set of 12). Event k of
// n is recorded at end - (n-k)*SeedStep.
func Seed(ctx context.Context, st es.EventStore, items, events int, end time.Time, seed uint64) error {
	if items < 1 || events < 2*items {
		return fmt.Errorf("seed needs at least 1 item and 2 events per item")
	}
	reg := es.NewRegistry()
	tracker.Register(reg)
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	k := 0
	at := func() time.Time { k++; return end.Add(-time.Duration(events-k) * SeedStep) }
	alloc, err := reg.Encode(tracker.IDAllocated{Kind: tracker.WorkItemType})
	if err != nil {
		return err
	}
	for done := 0; done < items; {
		n := min(items-done, es.MaxAppendEvents)
		batch := make([]es.Event, n)
		for i := range batch {
			batch[i] = alloc
			batch[i].Time = at()
		}
		if _, err := st.Append(ctx, "jerry-ids-workitem", es.Any, batch); err != nil {
			return err
		}
		done += n
	}
	perItem := (events - items) / items
	extra := (events - items) % items
	labelSet := []string{"ui", "backend", "db", "security", "perf", "docs", "api", "infra", "mobile", "billing", "search", "auth"}
	types := []tracker.ItemType{tracker.Task, tracker.Task, tracker.Bug, tracker.Story, tracker.Spike, tracker.Chore}
	prios := []tracker.Priority{tracker.Critical, tracker.High, tracker.Medium, tracker.Medium, tracker.Low}
	for i := range items {
		id := "J-" + strconv.Itoa(i+1)
		who := agents[rnd.IntN(len(agents))]
		w := tracker.NewWorkItem()
		w.SetID(id)
		var ls []string
		for range rnd.IntN(3) {
			ls = append(ls, labelSet[rnd.IntN(len(labelSet))])
		}
		title := fmt.Sprintf("%s the %s %s", []string{"Fix", "Speed up", "Document", "Test", "Refactor"}[rnd.IntN(5)],
			words[rnd.IntN(len(words))], words[rnd.IntN(len(words))])
		if err := w.Create(tracker.NewItem{Title: title, Type: types[rnd.IntN(len(types))], Priority: prios[rnd.IntN(len(prios))],
			Labels: ls, Description: "Seen on the " + words[rnd.IntN(len(words))] + " page."}); err != nil {
			return err
		}
		n := perItem
		if i < extra {
			n++
		}
		fate := rnd.IntN(10)
		act := tracker.Act{Actor: who, Now: end, Force: true}
		for j := 0; len(w.Pending()) < n && j < 4*n+8; j++ {
			left := n - len(w.Pending())
			switch {
			case left == 1 && fate < 3:
				_ = w.ChangeStatus(tracker.Done, "", act, nil)
			case left == 1 && fate < 5:
				_ = w.Claim(act, 0)
			default:
				switch rnd.IntN(7) {
				case 0:
					_ = w.ChangeStatus([]tracker.Status{tracker.Ready, tracker.Backlog, tracker.Blocked}[rnd.IntN(3)], "", act, nil)
				case 1:
					p := prios[rnd.IntN(len(prios))]
					_ = w.Edit(tracker.Edit{Priority: &p}, act)
				case 2:
					if i > 0 && rnd.IntN(3) == 0 {
						_ = w.AddBlocker("J-" + strconv.Itoa(1+rnd.IntN(i)))
					} else {
						_ = w.Label(labelSet[rnd.IntN(len(labelSet))])
					}
				default:
					_ = w.Comment(agents[rnd.IntN(len(agents))], "notes on the "+words[rnd.IntN(len(words))]+" part")
				}
			}
		}
		batch := make([]es.Event, 0, len(w.Pending()))
		for _, e := range w.Pending() {
			ev, err := reg.Encode(e.Data)
			if err != nil {
				return err
			}
			ev.Time, ev.Metadata = at(), es.Metadata{Actor: who}
			batch = append(batch, ev)
		}
		if _, err := st.Append(ctx, "workitem-"+id, es.NoStream, batch); err != nil {
			return err
		}
	}
	return nil
}
