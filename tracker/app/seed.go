package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
)

// Seed fills the store with items work items and about events events in all
// (the ID allocations included), made by the domain's own commands so that
// every event is one Jerry could have recorded: edits, comments, labels,
// claims, status changes, blockers on earlier items. It is for benchmarks
// and demos: the same seed gives the same kinds of items. Each item's
// events go in one append, recorded now.
func (s *Service) Seed(ctx context.Context, items, events int, seed uint64, progress ProgressFunc) error {
	return s.SeedWith(ctx, SeedOptions{Items: items, Events: events, Seed: seed}, progress)
}

// SeedOptions say what [Service.SeedWith] writes.
type SeedOptions struct {
	Items, Events int
	Seed          uint64
	// End, if not zero, dates the events as a history that ended then:
	// Step apart, in the order they are appended, the last at about End
	// (the times are given, as an import gives them). Zero: each event
	// is recorded when it is written.
	End  time.Time
	Step time.Duration
}

// SeedWith is [Service.Seed] with more options.
func (s *Service) SeedWith(ctx context.Context, o SeedOptions, progress ProgressFunc) error {
	items, events := o.Items, o.Events
	if items < 1 || events < 2*items {
		return fmt.Errorf("%w: seed needs at least 1 item and 2 events per item", tracker.ErrInvalidInput)
	}
	var clock func() time.Time
	if !o.End.IsZero() {
		k := 0
		clock = func() time.Time { k++; return o.End.Add(-time.Duration(events-k) * o.Step) }
	}
	ids, err := s.allocateItemIDs(ctx, items, clock)
	if err != nil {
		return err
	}
	seed := o.Seed
	g := seeder{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ids: ids}
	perItem := (events - items) / items
	extra := (events - items) % items
	for i, id := range ids {
		n := perItem - 1
		if i < extra {
			n++
		}
		w, who, err := g.item(s, i, id, n)
		if err != nil {
			return err
		}
		if err := s.saveSeeded(es.WithMetadata(ctx, es.Metadata{Actor: who}), w, clock); err != nil {
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

// saveSeeded saves w, its events dated by clock if it is not nil.
func (s *Service) saveSeeded(ctx context.Context, w *tracker.WorkItem, clock func() time.Time) error {
	if clock == nil {
		_, err := s.items.Save(ctx, w)
		return err
	}
	batch := make([]es.Event, 0, len(w.Pending()))
	for _, e := range w.Pending() {
		ev, err := s.reg.Encode(e.Data)
		if err != nil {
			return err
		}
		ev.ID, ev.Time, ev.Metadata = e.ID, clock(), es.MetadataFrom(ctx)
		batch = append(batch, ev)
	}
	_, err := s.events.Append(ctx, s.items.Stream(w.ID()), es.NoStream, batch)
	return err
}

// allocateItemIDs takes n work item IDs in large batches: one append per
// batch, dated by clock if it is not nil.
func (s *Service) allocateItemIDs(ctx context.Context, n int, clock func() time.Time) ([]string, error) {
	ids := make([]string, 0, n)
	ev, err := s.reg.Encode(tracker.IDAllocated{Kind: tracker.WorkItemType})
	if err != nil {
		return nil, err
	}
	for len(ids) < n {
		batch := make([]es.Event, min(n-len(ids), es.MaxAppendEvents))
		for i := range batch {
			batch[i] = ev
			if clock != nil {
				batch[i].Time = clock()
			}
		}
		recs, err := s.events.Append(ctx, itemCounter, es.Any, batch)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			ids = append(ids, ItemPrefix+strconv.FormatInt(r.Version, 10))
		}
	}
	return ids, nil
}

// seeder makes up work items for Seed.
type seeder struct {
	rnd *rand.Rand
	ids []string // every item's ID, so that items block earlier ones
}

var (
	seedAgents = []string{"alice", "bob", "carol", "dave", "agent-1", "agent-2", "agent-3", "agent-4"}
	seedTypes  = []tracker.ItemType{tracker.Task, tracker.Task, tracker.Bug, tracker.Story, tracker.Spike, tracker.Chore}
	seedPrios  = []tracker.Priority{tracker.Critical, tracker.High, tracker.Medium, tracker.Medium, tracker.Low}
	seedLabels = []string{"ui", "backend", "db", "security", "perf", "docs", "api", "infra"}
	seedWords  = []string{"login", "timeout", "export", "billing", "cache", "index", "retry", "report", "search", "upload", "token", "schema"}
)

// item makes the i-th work item, id, with its creation and n more events
// pending, and says who made it.
func (g *seeder) item(s *Service, i int, id string, n int) (*tracker.WorkItem, string, error) {
	rnd := g.rnd
	who := seedAgents[rnd.IntN(len(seedAgents))]
	w := s.items.New(id)
	w.SetActor(who)
	title := fmt.Sprintf("%s the %s %s", []string{"Fix", "Speed up", "Document", "Test", "Refactor"}[rnd.IntN(5)],
		seedWords[rnd.IntN(len(seedWords))], seedWords[rnd.IntN(len(seedWords))])
	var labels []string
	for range rnd.IntN(3) {
		labels = append(labels, seedLabels[rnd.IntN(len(seedLabels))])
	}
	if err := w.Create(tracker.NewItem{Title: title, Type: seedTypes[rnd.IntN(len(seedTypes))], Priority: seedPrios[rnd.IntN(len(seedPrios))],
		Labels: labels}); err != nil {
		return nil, "", err
	}
	// Seeded histories are made fast and at random: the claim and blocker
	// rules are not what they exercise.
	act := tracker.Act{Actor: who, Now: es.Now(), Force: true}
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
			g.change(w, i, act)
		}
	}
	return w, who, nil
}

// change makes one random change to the i-th work item, by who.
func (g *seeder) change(w *tracker.WorkItem, i int, act tracker.Act) {
	rnd, who := g.rnd, act.Actor
	switch rnd.IntN(6) {
	case 0:
		_ = w.ChangeStatus([]tracker.Status{tracker.Ready, tracker.Backlog, tracker.Blocked}[rnd.IntN(3)], "", act, nil)
	case 1:
		p := seedPrios[rnd.IntN(len(seedPrios))]
		_ = w.Edit(tracker.Edit{Priority: &p}, act)
	case 2:
		if i > 0 && rnd.IntN(3) == 0 {
			_ = w.AddBlocker(g.ids[rnd.IntN(i)])
		} else if rnd.IntN(2) == 0 {
			_ = w.Label(seedLabels[rnd.IntN(len(seedLabels))])
		} else {
			_ = w.Comment(who, "looked at the "+seedWords[rnd.IntN(len(seedWords))])
		}
	default:
		_ = w.Comment(seedAgents[rnd.IntN(len(seedAgents))], "notes on the "+seedWords[rnd.IntN(len(seedWords))]+" part")
	}
}
