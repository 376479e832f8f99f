package mcpserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// addTools registers every tool. Each handler parses, calls one use case of
// the app layer and shapes its answer: these are the only calls into it.
func (s *server) addTools(srv *mcp.Server) {
	add(srv, s, tool{name: "whoami", title: "Who am I", readOnly: true,
		desc: "Say which actor this server records on every event, and which store it works on."},
		func(ctx context.Context, _ NoIn) (Who, error) {
			return Who{Actor: s.opts.Actor, Store: s.opts.Store, Version: s.opts.Version}, nil
		})

	add(srv, s, tool{name: "ready", title: "Work ready to take",
		desc: "List unassigned work items in backlog or ready whose blockers are all done, most urgent first: what to do next. " +
			"With claim, claim the first one for yourself and return it (code not_found if nothing is ready)."},
		func(ctx context.Context, in ReadyIn) (Ready, error) {
			n, err := s.limit(in.Limit)
			if err != nil {
				return Ready{}, err
			}
			if in.Claim {
				r, err := s.svc.ClaimReady(ctx)
				if err != nil {
					return Ready{}, err
				}
				it := itemOf(r.State, n)
				return Ready{Total: 1, Claimed: &it}, nil
			}
			items, err := s.svc.Ready(ctx, 0)
			if err != nil {
				return Ready{}, err
			}
			items, more, total := cut(items, n)
			return Ready{Items: summaries(items), Total: total, Truncated: more}, nil
		})

	add(srv, s, tool{name: "claim", title: "Claim an item",
		desc: "Take a work item for yourself. If another agent holds it, fail with code conflict and the holder; claiming an item you hold changes nothing."},
		func(ctx context.Context, in ClaimIn) (Written, error) {
			exp, err := expected(in.ExpectVersion)
			if err != nil {
				return Written{}, err
			}
			return s.claimed(ctx, in.ID)(written(s.svc.Claim(ctx, in.ID, exp)))
		})

	add(srv, s, tool{name: "release", title: "Release an item",
		desc: "Give up your hold on a work item, so that another agent can take it."},
		func(ctx context.Context, in ReleaseIn) (Written, error) {
			exp, err := expected(in.ExpectVersion)
			if err != nil {
				return Written{}, err
			}
			return s.claimed(ctx, in.ID)(written(s.svc.Release(ctx, in.ID, in.Force, exp)))
		})

	add(srv, s, tool{name: "show", title: "Show an item", readOnly: true,
		desc: "Show a work item in full (comments included): now, after a version (at), or as it was at a time (as_of)."},
		func(ctx context.Context, in ShowIn) (Item, error) {
			n, err := s.limit(in.Limit)
			if err != nil {
				return Item{}, err
			}
			t, err := parseTime("as_of", in.AsOf)
			if err != nil {
				return Item{}, err
			}
			var it tracker.Item
			switch {
			case in.At != 0 && !t.IsZero():
				return Item{}, fmt.Errorf("%w: give at or as_of, not both", tracker.ErrInvalidInput)
			case in.At < 0:
				return Item{}, fmt.Errorf("%w: at %d: versions start at 1", tracker.ErrInvalidInput, in.At)
			case in.At > 0:
				it, err = s.svc.ItemAt(ctx, in.ID, in.At)
			case !t.IsZero():
				it, err = s.svc.ItemAsOf(ctx, in.ID, t)
			default:
				it, err = s.svc.Item(ctx, in.ID)
			}
			if err != nil {
				return Item{}, err
			}
			return itemOf(it, n), nil
		})

	add(srv, s, tool{name: "list", title: "List items", readOnly: true,
		desc: "List work items by ID, filtered by status, assignee, type and initiative, now or as of a time."},
		func(ctx context.Context, in ListIn) (Items, error) {
			n, err := s.limit(in.Limit)
			if err != nil {
				return Items{}, err
			}
			f := app.Filter{Assignee: in.Assignee, Initiative: in.Initiative, NoComments: true}
			if in.Status != "" {
				if f.Status, err = tracker.ParseStatus(in.Status); err != nil {
					return Items{}, err
				}
			}
			if in.Type != "" {
				if f.Type, err = tracker.ParseType(in.Type); err != nil {
					return Items{}, err
				}
			}
			t, err := parseTime("as_of", in.AsOf)
			if err != nil {
				return Items{}, err
			}
			items, err := s.svc.List(ctx, f, t)
			if err != nil {
				return Items{}, err
			}
			items, more, total := cut(items, n)
			return Items{Items: summaries(items), Total: total, Truncated: more}, nil
		})

	add(srv, s, tool{name: "create", title: "Create an item",
		desc: "Create a work item in backlog and return it with its new ID."},
		func(ctx context.Context, in CreateIn) (Written, error) {
			n := tracker.NewItem{Title: in.Title, Description: in.Description, Initiative: in.Initiative}
			var err error
			if in.Type != "" {
				if n.Type, err = tracker.ParseType(in.Type); err != nil {
					return Written{}, err
				}
			}
			if in.Priority != "" {
				if n.Priority, err = tracker.ParsePriority(in.Priority); err != nil {
					return Written{}, err
				}
			}
			return written(s.svc.Create(ctx, n))
		})

	add(srv, s, tool{name: "status", title: "Change status",
		desc: "Move a work item to another status. in_progress needs every blocker done (else code blocked); done and cancelled are final."},
		func(ctx context.Context, in StatusIn) (Written, error) {
			exp, err := expected(in.ExpectVersion)
			if err != nil {
				return Written{}, err
			}
			st, err := tracker.ParseStatus(in.Status)
			if err != nil {
				return Written{}, err
			}
			return written(s.svc.ChangeStatus(ctx, in.ID, st, in.Reason, exp))
		})

	add(srv, s, tool{name: "comment", title: "Comment",
		desc: "Add a comment to a work item: what you found, did, or need."},
		func(ctx context.Context, in CommentIn) (Written, error) {
			exp, err := expected(in.ExpectVersion)
			if err != nil {
				return Written{}, err
			}
			return written(s.svc.Comment(ctx, in.ID, in.Text, exp))
		})

	add(srv, s, tool{name: "block", title: "Add a blocker",
		desc: "Record that id cannot start until blocker is done. A blocker that would close a cycle is refused (code invalid_input)."},
		func(ctx context.Context, in BlockIn) (Written, error) {
			exp, err := expected(in.ExpectVersion)
			if err != nil {
				return Written{}, err
			}
			return written(s.svc.Block(ctx, in.ID, in.Blocker, exp))
		})

	add(srv, s, tool{name: "unblock", title: "Remove a blocker",
		desc: "Remove blocker from id's blockers."},
		func(ctx context.Context, in BlockIn) (Written, error) {
			exp, err := expected(in.ExpectVersion)
			if err != nil {
				return Written{}, err
			}
			return written(s.svc.Unblock(ctx, in.ID, in.Blocker, exp))
		})

	add(srv, s, tool{name: "history", title: "Item history", readOnly: true,
		desc: "A work item's audit trail: every change, with version, time, actor and what changed, oldest first."},
		func(ctx context.Context, in HistoryIn) (History, error) {
			n, err := s.limit(in.Limit)
			if err != nil {
				return History{}, err
			}
			h, err := s.svc.History(ctx, in.ID)
			if err != nil {
				return History{}, err
			}
			from := max(in.FromVersion, 1)
			var evs []Event
			for _, e := range h {
				if e.Record.Version >= from {
					evs = append(evs, eventOf(app.ItemID(in.ID), e))
				}
			}
			evs, more, _ := cut(evs, n)
			return History{Events: evs, Total: len(h), Truncated: more}, nil
		})

	add(srv, s, tool{name: "changes_since", title: "Activity feed", readOnly: true,
		desc: "What changed on work items after a log position (next_position of your last call) or a time, oldest first: catch up on other agents' work."},
		func(ctx context.Context, in ChangesIn) (Feed, error) {
			n, err := s.limit(in.Limit)
			if err != nil {
				return Feed{}, err
			}
			t, err := parseTime("since", in.Since)
			if err != nil {
				return Feed{}, err
			}
			f, err := s.svc.Changes(ctx, in.Position, t, n)
			if err != nil {
				return Feed{}, err
			}
			evs := make([]Event, len(f.Changes))
			for i, c := range f.Changes {
				evs[i] = eventOf(c.Item, c.Entry)
			}
			return Feed{Changes: evs, Total: f.Total, Truncated: f.Total > len(evs), Next: f.Next}, nil
		})

	add(srv, s, tool{name: "blocked", title: "Waiting items", readOnly: true,
		desc: "List open work items that wait: in status blocked, or with a blocker not done, with what each waits on."},
		func(ctx context.Context, in LimitIn) (WaitingItems, error) {
			n, err := s.limit(in.Limit)
			if err != nil {
				return WaitingItems{}, err
			}
			b, err := s.svc.Blocked(ctx)
			if err != nil {
				return WaitingItems{}, err
			}
			b, more, total := cut(b, n)
			out := make([]Waiting, len(b))
			for i, bi := range b {
				out[i] = Waiting{Summary: summaryOf(bi.Item), WaitingOn: bi.Waiting}
				if out[i].WaitingOn == nil {
					out[i].WaitingOn = []string{}
				}
			}
			return WaitingItems{Items: out, Total: total, Truncated: more}, nil
		})
}

// claimed adds the holder to a claim conflict: the domain's error names it
// only in its text, so the holder is read from the item.
// TODO(lease): use tracker.ClaimedError's Holder once it lands.
func (s *server) claimed(ctx context.Context, id string) func(Written, error) (Written, error) {
	return func(w Written, err error) (Written, error) {
		if errors.Is(err, tracker.ErrClaimed) {
			if it, ierr := s.svc.Item(ctx, id); ierr == nil && it.Assignee != "" {
				return w, &holderError{err: err, holder: it.Assignee}
			}
		}
		return w, err
	}
}

// holderError is a claim conflict with its holder.
type holderError struct {
	err    error
	holder string
}

func (e *holderError) Error() string { return e.err.Error() }
func (e *holderError) Unwrap() error { return e.err }
