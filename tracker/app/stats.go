package app

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/board"
)

// Flow statistics, computed once here for every face (jerry stats, the web
// board's pictures): the moments work items entered each status, folded
// into status intervals, counts per status at the end of each day (the
// cumulative flow diagram), throughput, work in progress and cycle times.
//
// Definitions, which docs/json.md repeats:
//   - A day is a calendar day in the location asked for; a day's counts
//     are taken at its end, or at the end of the window for the last day.
//   - Throughput of a day: the moves into done recorded that day (an item
//     reopened and done again counts each time).
//   - Work in progress at the end of a day: items in_progress or blocked.
//   - Cycle time of a completion: from the item's first move to in_progress
//     (since it was created or last reopened) to its move to done. An item
//     done without ever being in progress has no cycle time; it still
//     counts in throughput.

// Transition is a work item entering a status: its creation (into
// backlog), a change of status, or a reopen (into backlog).
type Transition struct {
	Item  string
	Time  time.Time
	To    tracker.Status
	Actor string
	// Reopen is set for a reopen, which starts a new cycle.
	Reopen bool
}

// Interval is a span of time in which a work item held one status.
type Interval struct {
	Status tracker.Status
	From   time.Time
	// To is when the item left the status; zero while it still holds it.
	To time.Time
}

// statusTypes are the event types that move an item between statuses.
var statusTypes = []string{tracker.EvItemCreated, tracker.EvStatusChanged, tracker.EvReopened}

// transition returns the move that data records, if it records one.
func transition(item string, rec es.Record, data any) (Transition, bool) {
	t := Transition{Item: item, Time: rec.Time, Actor: rec.Metadata.Actor}
	switch d := data.(type) {
	case tracker.ItemCreated:
		t.To = tracker.Backlog
	case tracker.StatusChanged:
		t.To = d.To
	case tracker.Reopened:
		t.To, t.Reopen = tracker.Backlog, true
	default:
		return t, false
	}
	return t, true
}

// HistoryTransitions returns the moves between statuses recorded in one
// item's history (as Service.History returns it), oldest first.
func HistoryTransitions(history []Entry) []Transition {
	var out []Transition
	for _, e := range history {
		if t, ok := transition(ItemID(StreamLabel(e.Record.Stream)), e.Record, e.Data); ok {
			out = append(out, t)
		}
	}
	return out
}

// StatusIntervals folds one item's transitions (oldest first) into the
// intervals in which it held each status, oldest first; the last is open
// (To zero). A time that goes backwards along the item's history (an
// import may bring one) is taken as the time before it, so intervals never
// overlap.
func StatusIntervals(ts []Transition) []Interval {
	var out []Interval
	for _, t := range ts {
		at := t.Time
		if n := len(out); n > 0 {
			if at.Before(out[n-1].From) {
				at = out[n-1].From
			}
			if out[n-1].Status == t.To {
				continue // no move: the interval goes on
			}
			out[n-1].To = at
		}
		out = append(out, Interval{Status: t.To, From: at})
	}
	return out
}

// StatsQuery says which days the statistics cover.
type StatsQuery struct {
	// Since and Until bound the window; Until zero means now. The first
	// day is the one Since falls in.
	Since, Until time.Time
	// Location is where days begin and end; nil means time.Local.
	Location *time.Location
}

// DayStats is one day of the statistics.
type DayStats struct {
	// Day is the start of the day, in the query's location.
	Day time.Time
	// Throughput counts the moves into done recorded that day.
	Throughput int
	// WIP counts the items in_progress or blocked at the end of the day.
	WIP int
	// Counts holds, for the cumulative flow diagram, how many items were in
	// each status at the end of the day (statuses with none are absent).
	Counts map[tracker.Status]int
}

// Completion is a move into done in the window, with its cycle time if
// the item had been started.
type Completion struct {
	Item string
	// Started is the item's first move to in_progress in this cycle; zero
	// if it was never in progress.
	Started time.Time
	Done    time.Time
}

// CycleTime is how long the completion took from start to done, 0 if it
// was never started.
func (c Completion) CycleTime() time.Duration {
	if c.Started.IsZero() {
		return 0
	}
	return c.Done.Sub(c.Started)
}

// Percentiles are cycle-time percentiles (nearest rank) over Count
// completions that had been started; all zero when Count is 0.
type Percentiles struct {
	Count         int
	P50, P85, P95 time.Duration
}

// Stats are the flow statistics of a window of days.
type Stats struct {
	// Since and Until are the window asked for (Until filled in when the
	// query left it zero).
	Since, Until time.Time
	// Days are the window's days, oldest first.
	Days []DayStats
	// Completions are the moves into done in the window, oldest first.
	Completions []Completion
	// CycleTime summarises the completions' cycle times.
	CycleTime Percentiles
	// Statuses lists the statuses that any day counts, in workflow order.
	Statuses []tracker.Status
}

// Throughput returns the moves into done over the whole window.
func (st Stats) Throughput() int { return len(st.Completions) }

// ComputeStats folds transitions of any number of items (in the order they
// were recorded: oldest first for each item) into the statistics of the
// window q names, as of q.Until: transitions after it are ignored.
func ComputeStats(ts []Transition, q StatsQuery) (Stats, error) {
	loc := q.Location
	if loc == nil {
		loc = time.Local
	}
	until := q.Until
	if until.IsZero() {
		until = es.Now()
	}
	if q.Since.IsZero() || !q.Since.Before(until) {
		return Stats{}, fmt.Errorf("%w: the window must start before it ends (since %s, until %s)",
			tracker.ErrInvalidInput, q.Since.Format(time.RFC3339), until.Format(time.RFC3339))
	}
	st := Stats{Since: q.Since, Until: until}
	first := startOfDay(q.Since.In(loc))
	const maxDays = 3660
	for d := first; d.Before(until); d = d.AddDate(0, 0, 1) {
		if len(st.Days) == maxDays {
			return Stats{}, fmt.Errorf("%w: a window of more than %d days", tracker.ErrInvalidInput, maxDays)
		}
		st.Days = append(st.Days, DayStats{Day: d, Counts: map[tracker.Status]int{}})
	}
	byItem := map[string][]Transition{}
	var order []string
	for _, t := range ts {
		if t.Time.After(until) {
			continue
		}
		if _, ok := byItem[t.Item]; !ok {
			order = append(order, t.Item)
		}
		byItem[t.Item] = append(byItem[t.Item], t)
	}
	seen := map[tracker.Status]bool{}
	for _, id := range order {
		st.addItem(id, byItem[id], until, seen)
	}
	for _, s := range tracker.Statuses {
		if seen[s] {
			st.Statuses = append(st.Statuses, s)
		}
	}
	slices.SortStableFunc(st.Completions, func(a, b Completion) int { return a.Done.Compare(b.Done) })
	st.CycleTime = percentiles(st.Completions)
	return st, nil
}

// addItem counts one item's transitions into the days and completions.
func (st *Stats) addItem(id string, ts []Transition, until time.Time, seen map[tracker.Status]bool) {
	ivs := StatusIntervals(ts)
	for i := range st.Days {
		// The day's end, exclusive: the status that holds after every
		// event recorded before it (until itself included).
		end := st.Days[i].Day.AddDate(0, 0, 1)
		if end.After(until) {
			end = until.Add(time.Nanosecond)
		}
		for _, iv := range ivs {
			if !iv.From.Before(end) || (!iv.To.IsZero() && iv.To.Before(end)) {
				continue
			}
			st.Days[i].Counts[iv.Status]++
			seen[iv.Status] = true
			if iv.Status == tracker.InProgress || iv.Status == tracker.Blocked {
				st.Days[i].WIP++
			}
			break
		}
	}
	var started time.Time
	prev := tracker.Status("")
	for _, t := range ts {
		switch {
		case t.Reopen || (t.To == tracker.Backlog && prev == ""):
			started = time.Time{}
		case t.To == tracker.InProgress && started.IsZero():
			started = t.Time
		case t.To == tracker.Done && prev != tracker.Done:
			if !t.Time.Before(st.Since) {
				st.Completions = append(st.Completions, Completion{Item: id, Started: started, Done: t.Time})
				if d := st.day(t.Time); d >= 0 {
					st.Days[d].Throughput++
				}
			}
		}
		prev = t.To
	}
}

// day returns the index of the day t falls in, -1 if none.
func (st *Stats) day(t time.Time) int {
	for i := len(st.Days) - 1; i >= 0; i-- {
		if !t.Before(st.Days[i].Day) {
			if t.Before(st.Days[i].Day.AddDate(0, 0, 1)) {
				return i
			}
			return -1
		}
	}
	return -1
}

// percentiles returns the nearest-rank percentiles of the cycle times of
// the completions that had been started.
func percentiles(cs []Completion) Percentiles {
	var ds []time.Duration
	for _, c := range cs {
		if !c.Started.IsZero() {
			ds = append(ds, c.CycleTime())
		}
	}
	p := Percentiles{Count: len(ds)}
	if len(ds) == 0 {
		return p
	}
	slices.Sort(ds)
	rank := func(pct float64) time.Duration {
		i := int(math.Ceil(pct/100*float64(len(ds)))) - 1
		return ds[max(i, 0)]
	}
	p.P50, p.P85, p.P95 = rank(50), rank(85), rank(95)
	return p
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// Transitions returns every move of a work item between statuses
// recorded up to until (zero: all), in log order, from the read model's
// feed index and the log.
func (s *Service) Transitions(ctx context.Context, until time.Time) ([]Transition, error) {
	recs, err := s.FeedRecords(ctx, board.FeedQuery{Types: slices.Clone(statusTypes), Until: until})
	if err != nil {
		return nil, err
	}
	prefix := s.items.Stream("")
	out := make([]Transition, 0, len(recs))
	for _, rec := range recs {
		id, ok := strings.CutPrefix(rec.Stream, prefix)
		if !ok {
			continue
		}
		data, err := s.reg.Decode(rec)
		if err != nil {
			return nil, err
		}
		if t, ok := transition(id, rec, data); ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// Stats returns the flow statistics of the window q names: the cumulative
// flow per day, throughput, work in progress and cycle times.
func (s *Service) Stats(ctx context.Context, q StatsQuery) (Stats, error) {
	if q.Until.IsZero() {
		q.Until = es.Now()
	}
	ts, err := s.Transitions(ctx, q.Until)
	if err != nil {
		return Stats{}, err
	}
	return ComputeStats(ts, q)
}

// ItemIntervals returns work item id's status intervals and its history,
// oldest first: what a timeline of the item draws.
func (s *Service) ItemIntervals(ctx context.Context, id string) ([]Interval, []Entry, error) {
	h, err := s.History(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return StatusIntervals(HistoryTransitions(h)), h, nil
}

// LogBounds returns the time of the first event in the log and the
// position and time of the last (zero values for an empty store), from the
// read model's feed: what a face needs to offer a time slider and to follow
// the log from where its page was drawn.
func (s *Service) LogBounds(ctx context.Context) (first time.Time, lastPos int64, last time.Time, err error) {
	head, err := s.Feed(ctx, board.FeedQuery{All: true, Limit: 1})
	if err != nil || len(head) == 0 {
		return time.Time{}, 0, time.Time{}, err
	}
	tail, err := s.Feed(ctx, board.FeedQuery{All: true, Reverse: true, Limit: 1})
	if err != nil || len(tail) == 0 {
		return time.Time{}, 0, time.Time{}, err
	}
	return head[0].Time, tail[0].Position, tail[0].Time, nil
}
