package app

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jerry-es/jerry/tracker"
)

// StoreCheck runs a store's own integrity check (checksums, file layout,
// indexes): it returns the damage found, or an error if the check could not
// run. Adapters report in their own types; the command that picks the
// adapter adapts its check to this.
type StoreCheck func(ctx context.Context) (problems []error, err error)

// Report is what [Service.Verify] found.
type Report struct {
	// Events and Streams count what the log holds.
	Events, Streams int64
	// StoreChecked says whether the store ran its own integrity check.
	StoreChecked bool
	// Problems lists the damage found, one line each; empty means none.
	Problems []string
	// Splits lists the memberships whose two records disagree: an
	// initiative's events list an item that does not name it, or an item
	// names an initiative whose events do not list it (a command killed
	// between its two writes, or two racing). This is not damage: readers
	// derive members from the items (see membership.go), and
	// [Service.MendSplits] brings the initiatives' records in step.
	Splits []Split
}

// Split is one membership whose records disagree.
type Split struct {
	// Initiative and Item are the two sides' IDs.
	Initiative, Item string
	// Listed says whether the initiative's events list the item; the
	// item names the initiative exactly when Listed is false.
	Listed bool
}

// String says what disagrees, and which side readers follow.
func (sp Split) String() string {
	if sp.Listed {
		return fmt.Sprintf("initiative %s lists %s, which does not name it (readers follow the item: not a member)", sp.Initiative, sp.Item)
	}
	return fmt.Sprintf("%s names initiative %s, which does not list it (readers follow the item: a member)", sp.Item, sp.Initiative)
}

// OK reports whether no damage was found.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// maxProblems bounds a report: past it, the store needs repair, not a list.
const maxProblems = 100

// Verify checks the store: its own integrity check if it has one (check
// not nil), then the log: positions 1, 2, 3, ... without gaps, versions
// from 1 without gaps in every stream, and every event of a known type
// decodes. An error means the check could not run; damage goes in the
// report.
func (s *Service) Verify(ctx context.Context, check StoreCheck) (Report, error) {
	var rep Report
	add := func(format string, args ...any) {
		if len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
		}
	}
	if check != nil {
		rep.StoreChecked = true
		problems, err := check(ctx)
		if err != nil {
			return rep, fmt.Errorf("the store's integrity check: %w", err)
		}
		for _, p := range problems {
			add("%s", strings.TrimPrefix(p.Error(), "es: "))
		}
	}
	versions := make(map[string]int64)
	t := newTally()
	for rec, err := range s.log.ReadLog(ctx, 1) {
		if err != nil {
			if ctx.Err() != nil {
				return rep, err
			}
			add("reading the log after position %d: %v", rep.Events, err)
			break
		}
		rep.Events++
		if rec.Position != rep.Events {
			add("position %d follows %d", rec.Position, rep.Events-1)
			rep.Events = rec.Position
		}
		if want := versions[rec.Stream] + 1; rec.Version != want {
			add("stream %s: version %d at position %d, want %d", rec.Stream, rec.Version, rec.Position, want)
		}
		versions[rec.Stream] = rec.Version
		if _, known := s.reg.Schema(rec.Type); known {
			data, err := s.reg.Decode(rec)
			if err != nil {
				add("position %d: %v", rec.Position, err)
			}
			t.add(rec.Stream, data)
		}
	}
	rep.Streams = int64(len(versions))
	rep.Splits = t.splits()
	return rep, nil
}

// The stream name prefixes of work items and initiatives.
var (
	itemStreamPrefix       = tracker.WorkItemType + "-"
	initiativeStreamPrefix = tracker.InitiativeType + "-"
)

// compareIDs orders IDs like J-2 before J-10: by number, then by text.
func compareIDs(a, b string) int {
	return cmp.Or(cmp.Compare(idNumber(a), idNumber(b)), strings.Compare(a, b))
}

// tally folds both sides of every membership from the log.
type tally struct {
	named  map[string]string          // item ID -> the initiative it names
	listed map[string]map[string]bool // initiative ID -> the items it lists
}

func newTally() *tally {
	return &tally{named: make(map[string]string), listed: make(map[string]map[string]bool)}
}

func (t *tally) add(stream string, data any) {
	item, isItem := strings.CutPrefix(stream, itemStreamPrefix)
	init, isInit := strings.CutPrefix(stream, initiativeStreamPrefix)
	switch d := data.(type) {
	case tracker.ItemCreated:
		if isItem {
			t.named[item] = d.Initiative
		}
	case tracker.InitiativeChanged:
		if isItem {
			t.named[item] = d.Initiative
		}
	case tracker.ItemAdded:
		if isInit {
			if t.listed[init] == nil {
				t.listed[init] = make(map[string]bool)
			}
			t.listed[init][d.Item] = true
		}
	case tracker.ItemRemoved:
		if isInit {
			delete(t.listed[init], d.Item)
		}
	}
}

// splits returns the memberships whose sides disagree, by initiative and
// item ID number.
func (t *tally) splits() []Split {
	var out []Split
	for init, items := range t.listed {
		for item := range items {
			if t.named[item] != init {
				out = append(out, Split{Initiative: init, Item: item, Listed: true})
			}
		}
	}
	for item, init := range t.named {
		if init != "" && !t.listed[init][item] {
			out = append(out, Split{Initiative: init, Item: item})
		}
	}
	slices.SortFunc(out, func(a, b Split) int {
		return cmp.Or(compareIDs(a.Initiative, b.Initiative), compareIDs(a.Item, b.Item))
	})
	return out
}

// MendSplits brings each initiative's records of membership in step with
// its items, for the splits given (from [Service.Verify]), and returns
// what it changed, one line each.
func (s *Service) MendSplits(ctx context.Context, splits []Split) ([]string, error) {
	var done []string
	for _, sp := range splits {
		_, changed, err := s.reconcile(ctx, sp.Initiative, sp.Item)
		if err != nil {
			return done, fmt.Errorf("mend %s: %w", sp, err)
		}
		if changed {
			done = append(done, fmt.Sprintf("initiative %s's records of %s follow the item now", sp.Initiative, sp.Item))
		}
	}
	return done, nil
}
