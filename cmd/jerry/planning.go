package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/board"
)

// The planning commands: block, unblock, ready.

func (c *cli) blockCmd() *cobra.Command {
	return c.itemWrite("block ID BLOCKER", "Record that ID cannot start until BLOCKER is done (cycles refused)", 2, "ID BLOCKER",
		func(ctx context.Context, s *app.Service, _ *cobra.Command, a []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
			return s.Block(ctx, a[0], a[1], exp)
		})
}

func (c *cli) unblockCmd() *cobra.Command {
	return c.itemWrite("unblock ID BLOCKER", "Remove BLOCKER from ID's blockers", 2, "ID BLOCKER",
		func(ctx context.Context, s *app.Service, _ *cobra.Command, a []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
			return s.Unblock(ctx, a[0], a[1], exp)
		})
}

func (c *cli) readyCmd() *cobra.Command {
	var claim bool
	var lease time.Duration
	cmd := &cobra.Command{
		Use:   "ready",
		Short: "List work to take next; --claim takes the first for you",
		Long: `List the work items an agent may take now, highest priority first, oldest
first within a priority: an agent's "what next?". An item is ready when it is
open, not set to blocked, every blocker is done, and it is either unassigned
in backlog or ready, or held by a claim that has expired (its agent is gone).

With --claim, claim the first one for the actor, move it to in_progress in
the same append, and print it. Agents running ready --claim at the same
moment each get a different item. If nothing is ready, exit code 4.

The filters of list narrow it (--label ui, --type bug, --assignee none, ...);
--as-of shows what was ready then.`,
		Args: args(0, 0, "no arguments"),
	}
	var f filterFlags
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		q, err := f.query(cmd)
		if err != nil {
			return err
		}
		if !cmd.Flags().Changed("sort") {
			q.Sort = board.ByPriority // most urgent first, oldest first within a priority
		}
		if claim {
			r, err := s.ClaimReady(ctx, lease)
			if err != nil {
				return err
			}
			// A write's card: its blockers' states now, without loading
			// the read model again for the items waiting on it.
			card, err := s.Card(ctx, r.State, es.Now())
			if err != nil {
				return err
			}
			return c.emit(func() any { return cardView(card) }, func(w io.Writer) {
				fmt.Fprintf(w, "%s: claimed by %s\n\n", display(r.State.ID), display(r.State.Assignee))
				printItem(w, card)
			})
		}
		if !c.jsonOut && q.AsOf.IsZero() {
			// The table shows the items only, six fields of each: no
			// card to build, no more to read.
			q.Brief = true
			items, err := s.ReadyItems(ctx, q)
			if err != nil {
				return err
			}
			if len(items) == 0 {
				fmt.Fprintln(c.out, "nothing ready")
			} else {
				printItems(c.out, items)
			}
			return nil
		}
		q.Comments = c.jsonOut && q.AsOf.IsZero()
		items, err := s.ReadyCards(ctx, q)
		if err != nil {
			return err
		}
		return c.emit(func() any { return cardViews(items) }, func(w io.Writer) {
			if len(items) == 0 {
				fmt.Fprintln(w, "nothing ready")
				return
			}
			printItems(w, cardItems(items))
		})
	})
	f.add(cmd, "priority", true)
	cmd.Flags().Lookup("all").Hidden = true // ready items are never done
	cmd.Flags().BoolVar(&claim, "claim", false, "claim the first ready item, start it, and print it")
	addLease(cmd, &lease)
	return cmd
}

func (c *cli) blockedCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "blocked",
		Short: "List the work items that cannot move now, and why",
		Long: `List every open work item that cannot move now, and why: blockers that are
not done (with their status and holder), a status of blocked set by hand
(with its reason), or a claim that has expired (its agent is gone; ready
offers the item again).`,
		Args: args(0, 0, "no arguments"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		blocked := s.Blocked
		if !c.jsonOut {
			blocked = s.BlockedBrief // the table shows no more
		}
		stuck, err := blocked(ctx)
		if err != nil {
			return err
		}
		return c.emit(func() any { return stuckViews(stuck) }, func(w io.Writer) { printStuck(w, stuck) })
	})
	return cmd
}
