package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jerry-es/jerry/tracker"
)

// Change is one event of the activity feed: a change to a work item.
type Change struct {
	Entry
	// Item is the ID of the work item that changed.
	Item string
}

// Feed is a page of the activity feed.
type Feed struct {
	// Changes holds the changes found, oldest first, at most the limit asked
	// for.
	Changes []Change
	// Total counts every change that matched, also those past the limit.
	Total int
	// Next is the position to pass as from to read on: the position of the
	// last change returned if the limit cut the page, else the last
	// position read.
	Next int64
}

// Changes returns the activity feed: the events of work items (not the ID
// counters' or the dependency reservations', which are bookkeeping) at
// positions after from and, if since is not zero, recorded after since,
// oldest first, up to limit of them (0: all). It reads the log from from
// on; with since alone (from 0) it reads the whole log.
func (s *Service) Changes(ctx context.Context, from int64, since time.Time, limit int) (Feed, error) {
	if s.log == nil {
		return Feed{}, errors.New("the store has no global log")
	}
	if from < 0 || limit < 0 {
		return Feed{}, fmt.Errorf("%w: position %d and limit %d must be 0 or more", tracker.ErrInvalidInput, from, limit)
	}
	prefix := s.items.Stream("")
	var f Feed
	last := from
	for rec, err := range s.reg.Upcasted(s.log.ReadLog(ctx, from+1)) {
		if err != nil {
			return Feed{}, fmt.Errorf("read the log: %w", err)
		}
		last = rec.Position
		id, ok := strings.CutPrefix(rec.Stream, prefix)
		if !ok || (!since.IsZero() && !rec.Time.After(since)) {
			continue
		}
		f.Total++
		if limit > 0 && len(f.Changes) >= limit {
			continue
		}
		data, err := s.reg.Decode(rec)
		if err != nil {
			return Feed{}, err
		}
		f.Changes = append(f.Changes, Change{Entry: Entry{Record: rec, Data: data, Summary: tracker.Describe(data)}, Item: id})
		f.Next = rec.Position
	}
	if f.Total == len(f.Changes) {
		f.Next = last // nothing left out: on from the end
	}
	return f, nil
}
