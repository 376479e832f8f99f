package boardtest

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/board"
)

// Fold is the oracle the suite checks the model against: every item and
// initiative folded from the log with the aggregates' own folds, up to a
// position, or as of a time (each stream's longest prefix of events
// recorded at or before it, as a temporal load does).
type Fold struct {
	Items map[string]*tracker.Item
	Inits map[string]*tracker.InitiativeState
	// Events is how many events it read, Feed how many are not bookkeeping.
	Events, Feed int
}

// FoldLog folds log up to position upTo (0: all) and as of asOf (zero:
// no limit).
func FoldLog(ctx context.Context, log es.LogReader, reg *es.Registry, upTo int64, asOf time.Time) (*Fold, error) {
	f := &Fold{Items: map[string]*tracker.Item{}, Inits: map[string]*tracker.InitiativeState{}}
	past := map[string]bool{}
	for rec, err := range log.ReadLog(ctx, 1) {
		if err != nil {
			return nil, err
		}
		if upTo > 0 && rec.Position > upTo {
			break
		}
		f.Events++
		item, isItem := strings.CutPrefix(rec.Stream, "workitem-")
		in, isInit := strings.CutPrefix(rec.Stream, "initiative-")
		if !isItem && !isInit {
			continue
		}
		f.Feed++
		if !asOf.IsZero() && (past[rec.Stream] || rec.Time.After(asOf)) {
			past[rec.Stream] = true
			continue
		}
		d, err := reg.Decode(rec)
		if err != nil {
			return nil, err
		}
		env := es.Envelope{ID: rec.ID, Type: rec.Type, Version: rec.Version, Time: rec.Time, Metadata: rec.Metadata, Data: d}
		if isItem {
			it := f.Items[item]
			if it == nil {
				it = &tracker.Item{ID: item}
				f.Items[item] = it
			}
			it.Apply(env)
		} else {
			s := f.Inits[in]
			if s == nil {
				s = &tracker.InitiativeState{ID: in}
				f.Inits[in] = s
			}
			s.Apply(env)
		}
	}
	return f, nil
}

// Select returns the items q selects, as the model should: filters, sort
// and limit, done and cancelled hidden unless asked for.
func (f *Fold) Select(q board.Query, ready bool) []tracker.Item {
	var out []tracker.Item
	for _, it := range f.Items {
		if it.Status == "" || !f.match(it, q, ready) {
			continue
		}
		c := *it
		c.Comments = nil
		out = append(out, c)
	}
	if ready && q.Sort == "" {
		q.Sort = board.ByPriority
	}
	slices.SortFunc(out, func(a, b tracker.Item) int {
		byID := cmp.Or(cmp.Compare(num(a.ID), num(b.ID)), strings.Compare(a.ID, b.ID))
		switch q.Sort {
		case board.ByPriority:
			return cmp.Or(cmp.Compare(a.Priority.Rank(), b.Priority.Rank()), a.CreatedAt.Compare(b.CreatedAt), byID)
		case board.ByCreated:
			return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), -byID)
		case board.ByUpdated:
			return cmp.Or(b.UpdatedAt.Compare(a.UpdatedAt), -byID)
		}
		return byID
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}

func (f *Fold) match(it *tracker.Item, q board.Query, ready bool) bool {
	if len(q.Statuses) == 0 && !q.All && it.Status.Closed() {
		return false
	}
	if len(q.Statuses) > 0 && !slices.Contains(q.Statuses, it.Status) ||
		len(q.Assignees) > 0 && !slices.Contains(q.Assignees, it.Assignee) ||
		len(q.Types) > 0 && !slices.Contains(q.Types, it.Type) ||
		len(q.Priorities) > 0 && !slices.Contains(q.Priorities, it.Priority) ||
		len(q.Initiatives) > 0 && !slices.Contains(q.Initiatives, it.Initiative) {
		return false
	}
	for _, l := range q.Labels {
		if !slices.Contains(it.Labels, l) {
			return false
		}
	}
	if ready {
		// Now, an expired claim puts an item back in the pool; as of a
		// past time, only unassigned items count.
		var free bool
		if q.AsOf.IsZero() {
			free = it.Available(time.Now())
		} else {
			free = it.Assignee == "" && (it.Status == tracker.Backlog || it.Status == tracker.Ready)
		}
		if !free {
			return false
		}
		for _, b := range it.Blockers {
			if bi := f.Items[b]; bi == nil || bi.Status != tracker.Done {
				return false
			}
		}
	}
	return true
}

// Stuck returns the items [board.Board.Stuck] should at time now, by ID
// number: open, and blocked, waiting on a blocker that is not done (or not
// created), or held by a claim that has expired.
func (f *Fold) Stuck(now time.Time) []tracker.Item {
	var out []tracker.Item
	for _, it := range f.Select(board.Query{}, false) {
		stuck := it.Status == tracker.Blocked ||
			it.Claim != nil && it.Claim.ExpiresAt().UnixMicro() <= now.UnixMicro()
		for _, b := range it.Blockers {
			if bi := f.Items[b]; bi == nil || bi.Status != tracker.Done {
				stuck = true
			}
		}
		if stuck {
			out = append(out, it)
		}
	}
	return out
}

// Initiatives returns the initiatives by ID number, with as members the
// items that name them.
func (f *Fold) Initiatives() []tracker.InitiativeState {
	var out []tracker.InitiativeState
	for _, s := range f.Inits {
		if s.Status == "" {
			continue
		}
		c := *s
		c.Members = nil
		for _, it := range f.Items {
			if it.Status != "" && it.Initiative == s.ID {
				c.Members = append(c.Members, it.ID)
			}
		}
		slices.SortFunc(c.Members, func(a, b string) int { return cmp.Or(cmp.Compare(num(a), num(b)), strings.Compare(a, b)) })
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b tracker.InitiativeState) int {
		return cmp.Or(cmp.Compare(num(a.ID), num(b.ID)), strings.Compare(a.ID, b.ID))
	})
	return out
}

func num(id string) int64 {
	_, n, _ := strings.Cut(id, "-")
	var v int64
	for _, c := range n {
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + int64(c-'0')
	}
	return v
}
