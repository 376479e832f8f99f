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
	var limit int
	var claim bool
	cmd := &cobra.Command{
		Use:   "ready",
		Short: "List work to take next; --claim takes the first for you",
		Long: `List unassigned work items in backlog or ready whose blockers are all done,
highest priority first, oldest first within a priority: an agent's "what next?".

With --claim, claim the first one for the actor and print it. Agents running
ready --claim at the same moment each get a different item. If nothing is
ready, exit code 4.`,
		Args: args(0, 0, "no arguments"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		if limit < 0 {
			return app.Usagef("--limit %d: want 0 (all) or more", limit)
		}
		if claim {
			r, err := s.ClaimReady(ctx)
			if err != nil {
				return err
			}
			return c.emit(func() any { return itemView(r.State) }, func(w io.Writer) {
				fmt.Fprintf(w, "%s: claimed by %s\n\n", display(r.State.ID), display(r.State.Assignee))
				printItem(w, r.State, s.BlockerStatuses(ctx, r.State, time.Time{}))
			})
		}
		items, err := s.Ready(ctx, limit)
		if err != nil {
			return err
		}
		return c.emit(func() any { return itemViews(items) }, func(w io.Writer) {
			if len(items) == 0 {
				fmt.Fprintln(w, "nothing ready")
				return
			}
			printItems(w, items)
		})
	})
	cmd.Flags().IntVar(&limit, "limit", 0, "show at most N items (0: all)")
	cmd.Flags().BoolVar(&claim, "claim", false, "claim the first ready item and print it")
	return cmd
}
