package app

import (
	"context"
	"fmt"
	"strings"
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
			if _, err := s.reg.Decode(rec); err != nil {
				add("position %d: %v", rec.Position, err)
			}
		}
	}
	rep.Streams = int64(len(versions))
	return rep, nil
}
