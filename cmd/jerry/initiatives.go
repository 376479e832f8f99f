package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// The initiative commands: create, add, remove, complete, cancel, show,
// list, history.

func (c *cli) initiativeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "initiative",
		Aliases: []string{"initiatives"},
		Short:   "Group work items into initiatives: create, add, remove, complete, show, list",
		Args:    noSubcommand,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(creates(c.initiativeCreateCmd()), c.initiativeAddCmd(), c.initiativeRemoveCmd(),
		c.initiativeCompleteCmd(), c.initiativeCancelCmd(), c.initiativeReopenCmd(), readOnly(c.initiativeShowCmd(), ""),
		readOnly(c.initiativeListCmd(), ""), readOnly(c.initiativeHistoryCmd(), ""))
	return cmd
}

// initiativeResult prints the outcome of a write to an initiative.
func (c *cli) initiativeResult(r app.Result[tracker.InitiativeState], err error) error {
	if err != nil {
		return err
	}
	return c.emit(func() any { return initiativeView(r.State) }, func(w io.Writer) { printChange(w, r.State.ID, r.State.Version, r.Events) })
}

// initiativeWrite builds a command that changes one initiative.
func (c *cli) initiativeWrite(use, short string, nargs int, names string,
	fn func(ctx context.Context, s *app.Service, a []string, exp es.ExpectedVersion) (app.Result[tracker.InitiativeState], error)) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: args(nargs, nargs, names)}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		exp, err := expected(cmd)
		if err != nil {
			return err
		}
		return c.initiativeResult(fn(ctx, s, a, exp))
	})
	cmd.Flags().Int64("expect-version", 0, "fail with exit code 3 unless the initiative is at this version (default: retry on conflict)")
	return cmd
}

func (c *cli) initiativeCreateCmd() *cobra.Command {
	var desc string
	cmd := &cobra.Command{Use: "create TITLE", Short: "Create an initiative and print its ID", Args: args(1, -1, "TITLE")}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		if err := expectNew(cmd); err != nil {
			return err
		}
		r, err := s.CreateInitiative(ctx, strings.Join(a, " "), desc)
		if err != nil {
			return err
		}
		return c.emit(func() any { return initiativeView(r.State) }, func(w io.Writer) { fmt.Fprintln(w, r.State.ID) })
	})
	cmd.Flags().StringVar(&desc, "description", "", "longer description")
	addExpectNew(cmd)
	return cmd
}

func (c *cli) initiativeAddCmd() *cobra.Command {
	return c.initiativeWrite("add INIT ITEM", "Add a work item to an initiative (moving it from any other)", 2, "INIT ITEM",
		func(ctx context.Context, s *app.Service, a []string, exp es.ExpectedVersion) (app.Result[tracker.InitiativeState], error) {
			return s.AddToInitiative(ctx, a[0], a[1], exp)
		})
}

func (c *cli) initiativeRemoveCmd() *cobra.Command {
	return c.initiativeWrite("remove INIT ITEM", "Remove a work item from an initiative", 2, "INIT ITEM",
		func(ctx context.Context, s *app.Service, a []string, exp es.ExpectedVersion) (app.Result[tracker.InitiativeState], error) {
			return s.RemoveFromInitiative(ctx, a[0], a[1], exp)
		})
}

func (c *cli) initiativeCompleteCmd() *cobra.Command {
	var reason string
	cmd := c.initiativeWrite("complete INIT", "Mark an initiative completed", 1, "INIT",
		func(ctx context.Context, s *app.Service, a []string, exp es.ExpectedVersion) (app.Result[tracker.InitiativeState], error) {
			return s.CompleteInitiative(ctx, a[0], reason, exp)
		})
	cmd.Long = `Mark an initiative completed. While any member is neither done nor
cancelled, complete refuses (exit code 2, code "invalid_transition", listing
the open members) unless --force.`
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded with the change")
	addForce(cmd, "complete it even with open members")
	return cmd
}

func (c *cli) initiativeReopenCmd() *cobra.Command {
	var reason string
	cmd := c.initiativeWrite("reopen INIT", "Make a completed or cancelled initiative active again", 1, "INIT",
		func(ctx context.Context, s *app.Service, a []string, exp es.ExpectedVersion) (app.Result[tracker.InitiativeState], error) {
			return s.ReopenInitiative(ctx, a[0], reason, exp)
		})
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded with the change")
	return cmd
}

func (c *cli) initiativeCancelCmd() *cobra.Command {
	var reason string
	cmd := c.initiativeWrite("cancel INIT", "Mark an initiative cancelled", 1, "INIT",
		func(ctx context.Context, s *app.Service, a []string, exp es.ExpectedVersion) (app.Result[tracker.InitiativeState], error) {
			return s.CancelInitiative(ctx, a[0], reason, exp)
		})
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded with the change")
	return cmd
}

func (c *cli) initiativeShowCmd() *cobra.Command {
	var asOf string
	cmd := &cobra.Command{Use: "show INIT", Short: "Show an initiative and its work items, now or as of a time", Args: args(1, 1, "INIT")}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		t, err := parseAsOf(cmd, asOf)
		if err != nil {
			return err
		}
		var in tracker.InitiativeState
		if t.IsZero() {
			in, err = s.Initiative(ctx, a[0])
		} else {
			in, err = s.InitiativeAsOf(ctx, a[0], t)
		}
		if err != nil {
			return err
		}
		members := s.Members(ctx, in, t)
		return c.emit(func() any { return initiativeDetailView(in, members) }, func(w io.Writer) { printInitiative(w, in, members) })
	})
	cmd.Flags().StringVar(&asOf, "as-of", "", asOfHelp)
	return cmd
}

func (c *cli) initiativeListCmd() *cobra.Command {
	var asOf string
	cmd := &cobra.Command{Use: "list", Short: "List initiatives, now or as of a time", Args: args(0, 0, "no arguments")}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		t, err := parseAsOf(cmd, asOf)
		if err != nil {
			return err
		}
		var all []tracker.InitiativeState
		if t.IsZero() {
			all, err = s.Initiatives(ctx)
		} else {
			// The past, from the indexed model's intervals.
			all, err = s.InitiativesAsOf(ctx, t)
		}
		if err != nil {
			return err
		}
		return c.emit(func() any { return initiativeViews(all) }, func(w io.Writer) { printInitiatives(w, all) })
	})
	cmd.Flags().StringVar(&asOf, "as-of", "", asOfHelp)
	return cmd
}

func (c *cli) initiativeHistoryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "history INIT", Short: "Show an initiative's audit trail", Args: args(1, 1, "INIT")}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		h, err := s.InitiativeHistory(ctx, a[0])
		if err != nil {
			return err
		}
		return c.emit(func() any { return historyView(h) }, func(w io.Writer) { printHistory(w, h) })
	})
	return cmd
}
