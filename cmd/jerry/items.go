package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// The work item commands: create, status, reopen, edit, assign, claim,
// release, comment, show, history, list.

// itemResult prints the outcome of a write to a work item: in JSON its
// card now, with its blockers' states (the items waiting on it are
// show's).
func (c *cli) itemResult(ctx context.Context, s *app.Service, r app.Result[tracker.Item], err error) error {
	if err != nil {
		return err
	}
	var card app.Card
	if c.jsonOut { // the text says only what changed: no blocker to load
		if card, err = s.Card(ctx, r.State, es.Now()); err != nil {
			return err
		}
	}
	return c.emit(func() any { return cardView(card) }, func(w io.Writer) { printChange(w, r.State.ID, r.State.Version, r.Events) })
}

// itemWrite builds a command that changes one work item.
func (c *cli) itemWrite(use, short string, nargs int, names string, fn func(ctx context.Context, s *app.Service, cmd *cobra.Command, args []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error)) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: args(nargs, nargs, names)}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		exp, err := expected(cmd)
		if err != nil {
			return err
		}
		r, err := fn(ctx, s, cmd, a, exp)
		return c.itemResult(ctx, s, r, err)
	})
	addExpect(cmd)
	return cmd
}

func (c *cli) createCmd() *cobra.Command {
	var typ, desc, prio, init string
	var labels []string
	cmd := &cobra.Command{
		Use:   "create TITLE",
		Short: "Create a work item in backlog and print its ID",
		Example: `  jerry create "Fix the login timeout" --type bug --priority high
  jerry create "Write the migration guide" --initiative I-2`,
		Args: args(1, -1, "TITLE"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		if err := expectNew(cmd); err != nil {
			return err
		}
		n := tracker.NewItem{Title: strings.Join(a, " "), Description: desc, Initiative: init, Labels: labels}
		if typ != "" {
			t, err := tracker.ParseType(typ)
			if err != nil {
				return err
			}
			n.Type = t
		}
		if prio != "" {
			p, err := tracker.ParsePriority(prio)
			if err != nil {
				return err
			}
			n.Priority = p
		}
		r, err := s.Create(ctx, n)
		if err != nil {
			return err
		}
		return c.emit(func() any { return itemView(r.State) }, func(w io.Writer) { fmt.Fprintln(w, r.State.ID) })
	})
	f := cmd.Flags()
	f.StringVar(&typ, "type", "", "task, bug, story, spike or chore (default task)")
	f.StringVar(&desc, "description", "", "longer description")
	f.StringVar(&prio, "priority", "", "critical, high, medium or low, or 0 to 3 (default medium)")
	f.StringVar(&init, "initiative", "", "initiative to add the item to")
	f.StringSliceVar(&labels, "label", nil, "labels to put on it (comma-separated or repeated)")
	addExpectNew(cmd)
	return cmd
}

func (c *cli) statusCmd() *cobra.Command {
	var reason string
	cmd := c.itemWrite("status ID STATUS", "Change a work item's status (backlog, ready, in_progress, blocked, done, cancelled)", 2, "ID STATUS",
		func(ctx context.Context, s *app.Service, _ *cobra.Command, a []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
			st, err := tracker.ParseStatus(a[1])
			if err != nil {
				return app.Result[tracker.Item]{}, err
			}
			return s.ChangeStatus(ctx, a[0], st, reason, exp)
		})
	cmd.Long = `Change a work item's status. Statuses: backlog, ready, in_progress, blocked,
done, cancelled. Done and cancelled items are left only by jerry reopen.

An item cannot go to in_progress, ready or done while one of its blockers is
not done (exit code 2, code "blocked", listing them), and no agent but the
holder of an unexpired claim may change its status (exit code 3, code
"claimed"); --force overrides both. Setting the status an item already has
records nothing and exits 0.

The status blocked is set by hand, with its --reason: the item waits on
something outside the tracker. Waiting on other items is jerry block; jerry
blocked lists both.`
	cmd.Example = `  jerry status J-42 in_progress --reason "picked up"
  jerry status J-42 blocked --reason "waiting for the vendor"`
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded with the change")
	addForce(cmd, "change it even past open blockers or another agent's claim")
	return cmd
}

func (c *cli) reopenCmd() *cobra.Command {
	var reason string
	cmd := c.itemWrite("reopen ID", "Move a done or cancelled work item back to backlog", 1, "ID",
		func(ctx context.Context, s *app.Service, _ *cobra.Command, a []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
			return s.Reopen(ctx, a[0], reason, exp)
		})
	cmd.Long = `Move a done or cancelled work item back to backlog, unassigned, so that
ready offers it again. Reopening an open item records nothing.`
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded with the change")
	return cmd
}

func (c *cli) editCmd() *cobra.Command {
	var title, desc, prio, typ string
	cmd := c.itemWrite("edit ID", "Change a work item's title, description, priority or type", 1, "ID",
		func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
			var e tracker.Edit
			f := cmd.Flags()
			if f.Changed("title") {
				e.Title = &title
			}
			if f.Changed("description") {
				e.Description = &desc
			}
			if f.Changed("priority") {
				p := tracker.Priority(prio)
				e.Priority = &p
			}
			if f.Changed("type") {
				t := tracker.ItemType(typ)
				e.Type = &t
			}
			if e == (tracker.Edit{}) {
				return app.Result[tracker.Item]{}, app.Usagef("edit: nothing to change: give --title, --description, --priority or --type")
			}
			return s.Edit(ctx, a[0], e, exp)
		})
	f := cmd.Flags()
	f.StringVar(&title, "title", "", "new title")
	f.StringVar(&desc, "description", "", "new description")
	f.StringVar(&prio, "priority", "", "new priority: critical, high, medium, low or 0 to 3")
	f.StringVar(&typ, "type", "", "new type: task, bug, story, spike or chore")
	addForce(cmd, "edit even if another agent holds the item")
	return cmd
}

func (c *cli) assignCmd() *cobra.Command {
	cmd := c.itemWrite("assign ID AGENT", "Assign a work item to an agent (\"\" unassigns)", 2, "ID AGENT",
		func(ctx context.Context, s *app.Service, _ *cobra.Command, a []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
			return s.Assign(ctx, a[0], a[1], exp)
		})
	cmd.Long = `Assign a work item to an agent, who then holds it as a claim for the
default lease ($JERRY_LEASE, else 2h) after its last write. While another
agent holds an unexpired claim, only that agent may reassign the item, unless
--force.`
	addForce(cmd, "assign even if another agent holds the item")
	return cmd
}

func (c *cli) claimCmd() *cobra.Command {
	var lease time.Duration
	var start bool
	cmd := c.itemWrite("claim ID", "Take a work item for yourself; exit 3 if another agent holds it", 1, "ID",
		func(ctx context.Context, s *app.Service, _ *cobra.Command, a []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
			return s.Claim(ctx, a[0], app.ClaimOptions{Lease: lease, Start: start}, exp)
		})
	cmd.Long = `Take a work item for the actor (--actor, $JERRY_ACTOR or the OS user).

A claim holds for its lease (--lease, else $JERRY_LEASE, else 2h) after the
holder's last write to the item: any write by the holder renews it, and so
does jerry heartbeat. While it holds, other agents cannot change the item's
status, edit, assign or release it (exit code 3, code "claimed", naming the
holder and the expiry) unless --force; comments and blocks stay open to all.
A claim that has expired no longer holds: claim and ready --claim take the
item over, recording who held it and since when.

If another agent holds it, claim fails with exit code 3 and records nothing;
claiming an item you hold records nothing (or, with a new --lease, a
heartbeat). Of several agents claiming one item at once, exactly one
succeeds. With --start the item also moves to in_progress, in the same
append.`
	addLease(cmd, &lease)
	cmd.Flags().BoolVar(&start, "start", false, "also move it to in_progress, in the same append")
	addForce(cmd, "take the item over even if another agent's claim holds")
	return cmd
}

func (c *cli) heartbeatCmd() *cobra.Command {
	var lease time.Duration
	cmd := &cobra.Command{
		Use:   "heartbeat ID...",
		Short: "Renew your claims on work items without changing them",
		Long: `Renew the actor's claim on each work item: one event each, kept in the
history, that changes nothing else. With --lease, the claim's lease becomes
that long. Exit code 3 if another agent holds an item, 2 if you hold no claim
on it.`,
		Args: args(1, -1, "ID..."),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		exp, err := expected(cmd)
		if err != nil {
			return err
		}
		var views []itemJSON
		var items []tracker.Item
		for _, id := range a {
			r, err := s.Heartbeat(ctx, id, lease, exp)
			if err != nil {
				return err
			}
			card, err := s.Card(ctx, r.State, es.Now())
			if err != nil {
				return err
			}
			items = append(items, r.State)
			views = append(views, cardView(card))
		}
		var out any = views
		if len(views) == 1 {
			out = views[0]
		}
		return c.emit(func() any { return out }, func(w io.Writer) {
			for _, it := range items {
				fmt.Fprintf(w, "%s: held by %s until %s\n", display(it.ID), display(it.Assignee), localTime(it.Claim.ExpiresAt()))
			}
		})
	})
	cmd.Flags().DurationVar(&lease, "lease", 0, "make the claim's lease this long (default: keep it)")
	addExpect(cmd)
	return cmd
}

func (c *cli) releaseCmd() *cobra.Command {
	var reason string
	cmd := c.itemWrite("release ID", "Give up your claim on a work item and put it back in the pool", 1, "ID",
		func(ctx context.Context, s *app.Service, _ *cobra.Command, a []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
			return s.Release(ctx, a[0], reason, exp)
		})
	cmd.Long = `Give up the claim on a work item: it becomes unassigned, and an item in
progress goes back to backlog, so that ready offers it again. Releasing an
item another agent holds needs --force, which the history records with who
forced it.`
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded with the release")
	addForce(cmd, "release even if another agent holds it")
	return cmd
}

func (c *cli) commentCmd() *cobra.Command {
	cmd := c.itemWrite("comment ID TEXT", "Add a comment to a work item", 2, "ID TEXT",
		func(ctx context.Context, s *app.Service, _ *cobra.Command, a []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
			return s.Comment(ctx, a[0], a[1], exp)
		})
	return cmd
}

func (c *cli) showCmd() *cobra.Command {
	var at int64
	var asOf string
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a work item now, at a version, or as of a time",
		Example: `  jerry show J-42
  jerry show J-42 --at 1
  jerry show J-42 --as-of yesterday`,
		Args: args(1, 1, "ID"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		t, err := parseAsOf(cmd, asOf)
		if err != nil {
			return err
		}
		var it tracker.Item
		switch {
		case cmd.Flags().Changed("at") && !t.IsZero():
			return app.Usagef("show: give --at or --as-of, not both")
		case cmd.Flags().Changed("at"):
			if at < 1 {
				return app.Usagef("--at %d: versions start at 1", at)
			}
			it, err = s.ItemAt(ctx, a[0], at)
		case !t.IsZero():
			it, err = s.ItemAsOf(ctx, a[0], t)
		default:
			it, err = s.Item(ctx, a[0])
		}
		if err != nil {
			return err
		}
		// A past state shows its blockers as they were then: as of the
		// time asked for, or of the version's last event.
		when := t
		if cmd.Flags().Changed("at") {
			when = it.UpdatedAt
		}
		card, err := s.Card(ctx, it, when)
		if err != nil {
			return err
		}
		return c.emit(func() any { return cardView(card) }, func(w io.Writer) { printItem(w, card) })
	})
	cmd.Flags().Int64Var(&at, "at", 0, "the state after this version")
	cmd.Flags().StringVar(&asOf, "as-of", "", asOfHelp)
	return cmd
}

func (c *cli) historyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history ID",
		Short: "Show a work item's audit trail: version, time, actor, what changed",
		Args:  args(1, 1, "ID"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		h, err := s.History(ctx, a[0])
		if err != nil {
			return err
		}
		return c.emit(func() any { return historyView(h) }, func(w io.Writer) { printHistory(w, h) })
	})
	return cmd
}
