package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
)

// Seed fills the store with items work items and about events events in all
// (the ID allocations included), made by the domain's own commands so that
// every event is one Jerry could have recorded: edits, comments, claims,
// status changes, blockers on earlier items. It is for benchmarks and
// demos: the same seed gives the same kinds of items. Each item's events go
// in one append.
func (s *Service) Seed(ctx context.Context, items, events int, seed uint64, progress Progress) error {
	if items < 1 || events < 2*items {
		return fmt.Errorf("%w: seed needs at least 1 item and 2 events per item", tracker.ErrInvalidInput)
	}
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	// Take the IDs in large batches: one append per batch.
	ids := make([]string, 0, items)
	for len(ids) < items {
		n := min(items-len(ids), es.MaxAppendEvents)
		ev, err := s.reg.Encode(tracker.IDAllocated{Kind: tracker.WorkItemType})
		if err != nil {
			return err
		}
		batch := make([]es.Event, n)
		for i := range batch {
			batch[i] = ev
		}
		recs, err := s.events.Append(ctx, itemCounter, es.Any, batch)
		if err != nil {
			return err
		}
		for _, r := range recs {
			ids = append(ids, ItemPrefix+strconv.FormatInt(r.Version, 10))
		}
	}
	perItem := (events - items) / items
	extra := (events - items) % items
	agents := []string{"alice", "bob", "carol", "dave", "agent-1", "agent-2", "agent-3", "agent-4"}
	types := []tracker.ItemType{tracker.Task, tracker.Task, tracker.Bug, tracker.Story, tracker.Spike, tracker.Chore}
	prios := []tracker.Priority{tracker.Critical, tracker.High, tracker.Medium, tracker.Medium, tracker.Low}
	words := []string{"login", "timeout", "export", "billing", "cache", "index", "retry", "report", "search", "upload", "token", "schema"}
	for i, id := range ids {
		who := agents[rnd.IntN(len(agents))]
		// Seeded histories are made fast and at random: the claim and
		// blocker rules are not what they exercise.
		act := tracker.Act{Actor: who, Now: es.Now(), Force: true}
		actx := es.WithMetadata(ctx, es.Metadata{Actor: who})
		w := s.items.New(id)
		title := fmt.Sprintf("%s the %s %s", []string{"Fix", "Speed up", "Document", "Test", "Refactor"}[rnd.IntN(5)], words[rnd.IntN(len(words))], words[rnd.IntN(len(words))])
		if err := w.Create(tracker.NewItem{Title: title, Type: types[rnd.IntN(len(types))], Priority: prios[rnd.IntN(len(prios))]}); err != nil {
			return err
		}
		n := perItem - 1
		if i < extra {
			n++
		}
		// Most items end open; some are done, some held by an agent.
		fate := rnd.IntN(10)
		for j := 0; len(w.Pending()) <= n && j < 4*n+8; j++ {
			left := n + 1 - len(w.Pending())
			switch {
			case left == 1 && fate < 3:
				_ = w.ChangeStatus(tracker.Done, "", act, nil)
			case left == 1 && fate < 5:
				_ = w.Claim(act, 0)
			default:
				switch rnd.IntN(6) {
				case 0:
					_ = w.ChangeStatus([]tracker.Status{tracker.Ready, tracker.Backlog, tracker.Blocked}[rnd.IntN(3)], "", act, nil)
				case 1:
					p := prios[rnd.IntN(len(prios))]
					_ = w.Edit(tracker.Edit{Priority: &p}, act)
				case 2:
					if i > 0 && rnd.IntN(3) == 0 {
						_ = w.AddBlocker(ids[rnd.IntN(i)])
					} else {
						_ = w.Comment(who, "looked at the "+words[rnd.IntN(len(words))])
					}
				default:
					_ = w.Comment(agents[rnd.IntN(len(agents))], "notes on the "+words[rnd.IntN(len(words))]+" part")
				}
			}
		}
		if _, err := s.items.Save(actx, w); err != nil {
			return err
		}
		if progress != nil && (i+1)%500 == 0 {
			progress(int64(i+1), int64(items))
		}
	}
	if progress != nil {
		progress(int64(items), int64(items))
	}
	return nil
}
