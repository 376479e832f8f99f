package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/board"
)

// DependencyStream is the stream that serialises changes to the graph of
// blockers: every block appends a [tracker.DependencyReserved] to it,
// conditional on the version at which its cycle check read the graph.
const DependencyStream = "jerry-dependencies"

// How block refuses cycles even when agents race.
//
// The source of truth for the graph stays the work items' own streams
// (BlockerAdded, BlockerRemoved): readiness, show and list read them, and
// stores written before the graph stream existed hold only them. The graph
// stream is the lock the cycle rule is checked under, and it carries just
// enough data to cover the gap between its write and the item's write.
//
// Block, for the edge id -> blocker:
//
//  1. loads id's aggregate, at version n;
//  2. takes the read model at one log position P (a consistent cut of
//     every stream): the graph stream at version g, every item's blockers,
//     and the reservations not yet settled;
//  3. refuses the block if blocker reaches id over the union of the items'
//     blockers and the unsettled reservations;
//  4. appends DependencyReserved{id, blocker, n} to the graph stream with
//     es.Exact(g): if any other block reserved since P, this fails, and
//     block starts again from 1 with a newer cut;
//  5. saves BlockerAdded to id's stream with es.Exact(n).
//
// A reservation is settled once its item's stream is past ItemVersion:
// the BlockerAdded of step 5 was written as version n+1 (and is in the
// item's state from then on), or another write took n+1 and step 5 can
// never succeed. Until then the reservation counts as an edge, so the time
// between steps 4 and 5 is covered.
//
// Why no cycle gets in. Suppose the items' blockers held a cycle. Every
// edge in it was last added by a step 5 after a step 4; the reservations
// have distinct graph versions, as each was appended with Exact. Take the
// edge e whose reservation is the latest, at version g+1: its check read
// a cut at graph version g, so every other edge f of the cycle had been
// reserved in that cut, at item version n_f, and f's item was at least at
// n_f (it was loaded before f's reservation was appended). If the item was
// still at n_f, f was an unsettled reservation in the cut; if it was past,
// f's BlockerAdded (version n_f+1) was in it, and no BlockerRemoved
// followed, since f is still there when the cycle closes. Either way the
// check saw every other edge of the cycle and refused e: a contradiction.
//
// Why a crash is safe. Reservation first, item second: a crash between
// them leaves an unsettled reservation, an extra edge that can only make
// a later check refuse more, never less. It is settled by the next write
// to the item (any write, e.g. the same block run again). A crash before
// the reservation leaves nothing. No BlockerAdded is ever written without
// a reservation before it, except by versions of jerry older than the
// graph stream, whose edges are read from the items like any other.
//
// Unblock writes only the item: removing an edge cannot close a cycle,
// and every check reads the items' blockers, so it needs no lock.
//
// Cost: the check reads the indexed read model (package board) caught up
// with the log, one indexed query per item it walks; it loads no
// aggregate but id's.

// maxBlockAttempts bounds how often block starts again because another
// block changed the graph, or (without an expected version) another write
// changed the item, in the meantime. Each such conflict means another
// write succeeded.
const maxBlockAttempts = 100

// Block records that work item id cannot start until blocker is done. A
// blocker that does not exist, or that (through its own blockers) waits on
// id, is refused: the latter with tracker.ErrCycle. The refusal holds when
// agents race: see the comment at the top of dependencies.go.
func (s *Service) Block(ctx context.Context, id, blocker string, expected es.ExpectedVersion) (Result[tracker.Item], error) {
	var res Result[tracker.Item]
	id, blocker = ItemID(id), ItemID(blocker)
	if id == blocker {
		return res, fmt.Errorf("%w: %s", tracker.ErrSelfBlock, id)
	}
	if _, err := s.loadItem(ctx, blocker); err != nil {
		return res, err
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		w, err := s.loadItem(ctx, id)
		if err != nil {
			return res, err
		}
		if expected != es.Any {
			if err := expected.Check(s.items.Stream(id), w.Version()); err != nil {
				return res, err
			}
		}
		type cut struct {
			path         []string
			graphVersion int64
		}
		c, err := query(ctx, s, func(b *board.Board) (cut, error) {
			path, gv, err := b.DependencyPath(ctx, blocker, id)
			return cut{path, gv}, err
		})
		if err != nil {
			return res, err
		}
		if path := c.path; path != nil {
			return res, fmt.Errorf("%w: %s already waits on %s (%s), so %s cannot wait on %s",
				tracker.ErrCycle, blocker, id, strings.Join(path, " -> "), id, blocker)
		}
		n := w.Version()
		w.SetActor(actor(ctx))
		if err := w.AddBlocker(blocker); err != nil {
			return res, err
		}
		if len(w.Pending()) == 0 {
			return Result[tracker.Item]{State: w.Item()}, nil // already a blocker
		}
		events := eventData(w.Pending())
		ev, err := s.reg.Encode(tracker.DependencyReserved{Item: id, Blocker: blocker, ItemVersion: n})
		if err != nil {
			return res, err
		}
		ev.Metadata = es.MetadataFrom(ctx)
		if _, err := s.events.Append(ctx, DependencyStream, es.Exact(c.graphVersion), []es.Event{ev}); err != nil {
			if errors.Is(err, es.ErrConcurrency) && attempt < maxBlockAttempts {
				continue // another block changed the graph: check again
			}
			return res, fmt.Errorf("reserve the dependency: %w", err)
		}
		if _, err := s.items.Save(ctx, w); err != nil {
			// The reservation settles by itself: the item is past n.
			if errors.Is(err, es.ErrConcurrency) && expected == es.Any && attempt < maxBlockAttempts {
				continue
			}
			return res, notFound(err, "work item", id, "")
		}
		return Result[tracker.Item]{State: w.Item(), Events: events}, nil
	}
}
