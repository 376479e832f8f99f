package mcpserver

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/jerry-es/jerry/es"
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
			"With claim, claim the first one for yourself, move it to in_progress and return it (code not_found if nothing is ready)."},
		func(ctx context.Context, in ReadyIn) (Ready, error) {
			n, err := s.limit(in.Limit)
			if err != nil {
				return Ready{}, err
			}
			lease, err := parseLease(in.Lease)
			if err != nil {
				return Ready{}, err
			}
			if in.Claim {
				r, err := s.svc.ClaimReady(ctx, lease)
				if err != nil {
					return Ready{}, err
				}
				it := itemOf(r.State, app.ClaimAt(r.State, es.Now()), n)
				return Ready{Total: 1, Claimed: &it}, nil
			}
			if lease != 0 {
				return Ready{}, app.Usagef("lease: give it with claim")
			}
			cards, err := s.svc.Ready(ctx, 0)
			if err != nil {
				return Ready{}, err
			}
			cards, more, total := cut(cards, n)
			return Ready{Items: cardSummaries(cards), Total: total, Truncated: more}, nil
		})

	add(srv, s, tool{name: "claim", title: "Claim an item",
		desc: "Take a work item for yourself for a lease, renewed by each of your writes to it. " +
			"If another agent's claim holds it, fail with code claimed, naming the holder and when the claim expires; an expired claim is taken over. " +
			"Claiming an item you hold changes nothing."},
		func(ctx context.Context, in ClaimIn) (Written, error) {
			return in.write(func(exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
				lease, err := parseLease(in.Lease)
				if err != nil {
					return app.Result[tracker.Item]{}, err
				}
				return s.svc.Claim(ctx, in.ID, app.ClaimOptions{Lease: lease, Start: in.Start}, exp)
			})
		})

	add(srv, s, tool{name: "heartbeat", title: "Renew a claim",
		desc: "Renew your claim on a work item while you work on it, without changing anything else. " +
			"Any write of yours to the item renews it too. Code claimed if another agent holds it."},
		func(ctx context.Context, in HeartbeatIn) (Written, error) {
			return in.write(func(exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
				lease, err := parseLease(in.Lease)
				if err != nil {
					return app.Result[tracker.Item]{}, err
				}
				return s.svc.Heartbeat(ctx, in.ID, lease, exp)
			})
		})

	add(srv, s, tool{name: "release", title: "Release an item",
		desc: "Give up your claim on a work item and put it back in the pool (an item in progress goes back to backlog), so that another agent can take it."},
		func(ctx context.Context, in ReleaseIn) (Written, error) {
			return in.write(func(exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
				if in.Force {
					ctx = app.Force(ctx)
				}
				return s.svc.Release(ctx, in.ID, in.Reason, exp)
			})
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
			when := t // the moment whose blockers the card shows
			switch {
			case in.At != 0 && !t.IsZero():
				return Item{}, app.Usagef("give at or as_of, not both")
			case in.At < 0:
				return Item{}, app.Usagef("at %d: versions start at 1", in.At)
			case in.At > 0:
				it, err = s.svc.ItemAt(ctx, in.ID, in.At)
				when = it.UpdatedAt
			case !t.IsZero():
				it, err = s.svc.ItemAsOf(ctx, in.ID, t)
			default:
				it, err = s.svc.Item(ctx, in.ID)
			}
			if err != nil {
				return Item{}, err
			}
			card, err := s.svc.Card(ctx, it, when)
			if err != nil {
				return Item{}, err
			}
			out := itemOf(it, card.Claim, n)
			out.WaitingOn, out.Blocks = blockersOf(card.Blockers), blockersOf(card.Blocks)
			return out, nil
		})

	add(srv, s, tool{name: "list", title: "List items", readOnly: true,
		desc: "List work items by ID, filtered by status, assignee, type and initiative, now or as of a time."},
		func(ctx context.Context, in ListIn) (Items, error) {
			n, err := s.limit(in.Limit)
			if err != nil {
				return Items{}, err
			}
			f := app.Filter{Assignee: in.Assignee, Initiative: in.Initiative, NoComments: true, NoCards: true} // summaries show neither
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
			cards, err := s.svc.List(ctx, f, t)
			if err != nil {
				return Items{}, err
			}
			cards, more, total := cut(cards, n)
			return Items{Items: cardSummaries(cards), Total: total, Truncated: more}, nil
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
			return in.write(func(exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
				st, err := tracker.ParseStatus(in.Status)
				if err != nil {
					return app.Result[tracker.Item]{}, err
				}
				return s.svc.ChangeStatus(ctx, in.ID, st, in.Reason, exp)
			})
		})

	add(srv, s, tool{name: "comment", title: "Comment",
		desc: "Add a comment to a work item: what you found, did, or need."},
		func(ctx context.Context, in CommentIn) (Written, error) {
			return in.write(func(exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
				return s.svc.Comment(ctx, in.ID, in.Text, exp)
			})
		})

	add(srv, s, tool{name: "block", title: "Add a blocker",
		desc: "Record that id cannot start until blocker is done. A blocker that would close a cycle is refused (code invalid_input)."},
		func(ctx context.Context, in BlockIn) (Written, error) {
			return in.write(func(exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
				return s.svc.Block(ctx, in.ID, in.Blocker, exp)
			})
		})

	add(srv, s, tool{name: "unblock", title: "Remove a blocker",
		desc: "Remove blocker from id's blockers."},
		func(ctx context.Context, in BlockIn) (Written, error) {
			return in.write(func(exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
				return s.svc.Unblock(ctx, in.ID, in.Blocker, exp)
			})
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

	add(srv, s, tool{name: "blocked", title: "Stuck items", readOnly: true,
		desc: "List open work items that cannot move now, by ID, and why: blockers not done (with who holds them), a status set to blocked by hand (with its reason), or a claim that has expired."},
		func(ctx context.Context, in LimitIn) (WaitingItems, error) {
			n, err := s.limit(in.Limit)
			if err != nil {
				return WaitingItems{}, err
			}
			stuck, err := s.svc.Blocked(ctx)
			if err != nil {
				return WaitingItems{}, err
			}
			stuck, more, total := cut(stuck, n)
			out := make([]Waiting, len(stuck))
			for i, st := range stuck {
				out[i] = Waiting{Summary: summaryOf(st.Item, st.Claim), WaitingOn: blockersOf(st.Why.Blockers),
					BlockedReason: st.Why.Reason, ManualBlock: st.Why.Manual, ClaimExpired: st.Why.Expired}
			}
			return WaitingItems{Items: out, Total: total, Truncated: more}, nil
		})
}
