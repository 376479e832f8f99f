package boardtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
)

// T0 is when the generated histories start.
var T0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// Writer appends Jerry's events to a store with times it chooses, using
// the domain's own commands so that every event is one Jerry could record.
type Writer struct {
	Store es.EventStore
	Reg   *es.Registry
	Rand  *rand.Rand
	// Clock is the time of the next event; each write moves it on.
	Clock time.Time
	// Latest is the latest time written.
	Latest time.Time

	items []string
	inits []string
}

// NewWriter returns a writer on store starting at T0.
func NewWriter(store es.EventStore, seed uint64) *Writer {
	reg := es.NewRegistry()
	tracker.Register(reg)
	return &Writer{Store: store, Reg: reg, Rand: rand.New(rand.NewPCG(seed, seed+1)), Clock: T0}
}

var (
	agents = []string{"alice", "bob", "carol", "agent-1", "agent-2"}
	words  = []string{"login", "timeout", "export", "billing", "cache", "index", "retry", "report", "search", "upload"}
	labels = []string{"ui", "backend", "db", "security", "perf", "docs"}
)

// tick moves the clock on by a random step, now and then backwards (as
// an import of events from a skewed clock may bring), and returns it.
func (w *Writer) tick() time.Time {
	step := time.Duration(w.Rand.IntN(90)) * time.Minute
	if w.Rand.IntN(100) == 0 {
		step = -time.Duration(w.Rand.IntN(2*24*60)) * time.Minute
	}
	w.Clock = w.Clock.Add(step)
	if w.Clock.After(w.Latest) {
		w.Latest = w.Clock
	}
	return w.Clock
}

func (w *Writer) append(ctx context.Context, stream string, version int64, actor string, data ...any) error {
	evs := make([]es.Event, len(data))
	for i, d := range data {
		ev, err := w.Reg.Encode(d)
		if err != nil {
			return err
		}
		ev.Time = w.tick()
		ev.Metadata = es.Metadata{Actor: actor}
		evs[i] = ev
	}
	_, err := w.Store.Append(ctx, stream, es.Exact(version), evs)
	return err
}

// load loads a work item.
func (w *Writer) load(ctx context.Context, id string) (*tracker.WorkItem, error) {
	return es.NewRepository(w.Store, w.Reg, tracker.WorkItemType, tracker.NewWorkItem).Load(ctx, id)
}

// CreateItem creates work item J-n (n: one more than the items so far).
func (w *Writer) CreateItem(ctx context.Context, title string, labels ...string) (string, error) {
	id := "J-" + strconv.Itoa(len(w.items)+1)
	wi := tracker.NewWorkItem()
	wi.SetID(id)
	typ := []tracker.ItemType{tracker.Task, tracker.Bug, tracker.Story, tracker.Spike, tracker.Chore}[w.Rand.IntN(5)]
	prio := []tracker.Priority{tracker.Critical, tracker.High, tracker.Medium, tracker.Low}[w.Rand.IntN(4)]
	if err := wi.Create(tracker.NewItem{Title: title, Type: typ, Priority: prio, Labels: labels,
		Description: "about the " + words[w.Rand.IntN(len(words))]}); err != nil {
		return "", err
	}
	if err := w.save(ctx, wi); err != nil {
		return "", err
	}
	// The ID counter, as the application allocates it: a bookkeeping
	// stream.
	ev, _ := w.Reg.Encode(tracker.IDAllocated{Kind: tracker.WorkItemType})
	ev.Time = w.Clock
	if _, err := w.Store.Append(ctx, "jerry-ids-workitem", es.Any, []es.Event{ev}); err != nil {
		return "", err
	}
	w.items = append(w.items, id)
	return id, nil
}

func (w *Writer) save(ctx context.Context, wi *tracker.WorkItem) error {
	var data []any
	for _, e := range wi.Pending() {
		data = append(data, e.Data)
	}
	if len(data) == 0 {
		return nil
	}
	return w.append(ctx, "workitem-"+wi.ID(), wi.StoredVersion(), agents[w.Rand.IntN(len(agents))], data...)
}

// Step records one random change, if the rules allow it: a new item or
// initiative, or a command on an existing item.
func (w *Writer) Step(ctx context.Context) error {
	r := w.Rand.IntN(100)
	switch {
	case len(w.items) == 0 || r < 8:
		var ls []string
		if w.Rand.IntN(2) == 0 {
			ls = append(ls, labels[w.Rand.IntN(len(labels))])
		}
		_, err := w.CreateItem(ctx, fmt.Sprintf("Fix the %s %s", words[w.Rand.IntN(len(words))], words[w.Rand.IntN(len(words))]), ls...)
		return err
	case r < 10:
		id := "I-" + strconv.Itoa(len(w.inits)+1)
		if err := w.append(ctx, "initiative-"+id, 0, "alice", tracker.InitiativeCreated{Title: "Initiative " + id}); err != nil {
			return err
		}
		w.inits = append(w.inits, id)
		return nil
	case r < 12 && len(w.inits) > 0:
		id := w.inits[w.Rand.IntN(len(w.inits))]
		v, err := w.Store.StreamVersion(ctx, "initiative-"+id)
		if err != nil {
			return err
		}
		return w.append(ctx, "initiative-"+id, v, "bob", tracker.InitiativeCompleted{Reason: "done"})
	}
	id := w.items[w.Rand.IntN(len(w.items))]
	wi, err := w.load(ctx, id)
	if err != nil {
		return err
	}
	who := agents[w.Rand.IntN(len(agents))]
	act := tracker.Act{Actor: who, Now: w.Clock, Force: true}
	switch w.Rand.IntN(12) {
	case 0, 1:
		to := tracker.Statuses[w.Rand.IntN(len(tracker.Statuses))]
		err = wi.ChangeStatus(to, "", act, nil)
	case 2:
		err = wi.Reopen("again", act)
	case 3:
		err = wi.Claim(act, 0)
	case 4:
		err = wi.Release("", act)
	case 5:
		err = wi.Comment(who, "notes on the "+words[w.Rand.IntN(len(words))])
	case 6:
		err = wi.Label(labels[w.Rand.IntN(len(labels))])
	case 7:
		err = wi.Unlabel(labels[w.Rand.IntN(len(labels))])
	case 8:
		p := []tracker.Priority{tracker.Critical, tracker.High, tracker.Medium, tracker.Low}[w.Rand.IntN(4)]
		t := "Fix the " + words[w.Rand.IntN(len(words))]
		err = wi.Edit(tracker.Edit{Priority: &p, Title: &t}, act)
	case 9:
		b := w.items[w.Rand.IntN(len(w.items))]
		if w.Rand.IntN(8) == 0 {
			// An item not created yet: it counts as not done until it is.
			b = "J-" + strconv.Itoa(len(w.items)+1+w.Rand.IntN(3))
		}
		if w.Rand.IntN(2) == 0 {
			err = wi.AddBlocker(b)
		} else if bs := wi.Blockers(); len(bs) > 0 {
			err = wi.RemoveBlocker(bs[0])
		}
	case 10:
		in := ""
		if len(w.inits) > 0 && w.Rand.IntN(4) > 0 {
			in = w.inits[w.Rand.IntN(len(w.inits))]
		}
		err = wi.SetInitiative(in)
	case 11:
		err = wi.Assign([]string{"", who}[w.Rand.IntN(2)], 0, act)
	}
	if err != nil {
		return nil // a refused command (a rule said no) records nothing
	}
	return w.save(ctx, wi)
}

// Fill records steps until the store's log holds at least n events.
func (w *Writer) Fill(ctx context.Context, log es.LogReader, n int64) error {
	for {
		last, err := log.LastPosition(ctx)
		if err != nil {
			return err
		}
		if last >= n {
			return nil
		}
		if err := w.Step(ctx); err != nil {
			return err
		}
	}
}

// Resume makes the writer go on from the items and initiatives the log
// already holds, and from its latest time.
func (w *Writer) Resume(ctx context.Context, log es.LogReader) error {
	for rec, err := range log.ReadLog(ctx, 1) {
		if err != nil {
			return err
		}
		if rec.Version != 1 {
			continue
		}
		if id, ok := strings.CutPrefix(rec.Stream, "workitem-"); ok {
			w.items = append(w.items, id)
		} else if id, ok := strings.CutPrefix(rec.Stream, "initiative-"); ok {
			w.inits = append(w.inits, id)
		}
	}
	return nil
}
