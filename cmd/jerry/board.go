package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/board"
)

// The indexed read model's commands and flags: list and ready filters,
// search, label.

// filterFlags are the selection flags list, ready and search share. Each
// list flag takes comma-separated values and may be repeated.
type filterFlags struct {
	statuses, assignees, types, priorities, labels, inits []string
	sort                                                  string
	limit                                                 int
	all                                                   bool
	asOf                                                  string
}

func (f *filterFlags) add(cmd *cobra.Command, sortDefault string, asOf bool) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.statuses, "status", nil, "only items with one of these statuses (comma-separated or repeated)")
	fl.StringSliceVar(&f.assignees, "assignee", nil, `only items assigned to one of these agents; "none" for unassigned`)
	fl.StringSliceVar(&f.types, "type", nil, "only items of one of these types")
	fl.StringSliceVar(&f.priorities, "priority", nil, "only items of one of these priorities")
	fl.StringSliceVar(&f.labels, "label", nil, "only items with every one of these labels")
	fl.StringSliceVar(&f.inits, "initiative", nil, `only items in one of these initiatives; "none" for none`)
	fl.StringVar(&f.sort, "sort", sortDefault, "order: id, priority, created (newest first) or updated (latest first)")
	fl.IntVar(&f.limit, "limit", 0, "show at most N items (0: all)")
	fl.BoolVar(&f.all, "all", false, "include done and cancelled items (hidden by default unless --status names them)")
	if asOf {
		fl.StringVar(&f.asOf, "as-of", "", asOfHelp)
	}
}

// narrowed reports whether any selection flag or --as-of was given.
func (f *filterFlags) narrowed(cmd *cobra.Command) bool {
	for _, n := range []string{"status", "assignee", "type", "priority", "label", "initiative", "sort", "as-of"} {
		if cmd.Flags().Changed(n) {
			return true
		}
	}
	return false
}

// query turns the flags into a board query.
func (f *filterFlags) query(cmd *cobra.Command) (board.Query, error) {
	q := board.Query{All: f.all}
	sel := app.Selection{Statuses: f.statuses, Assignees: f.assignees, Types: f.types, Priorities: f.priorities, Labels: f.labels, Initiatives: f.inits}
	if err := sel.Narrow(&q); err != nil {
		return q, err
	}
	var err error
	if q.Sort, err = board.ParseSort(f.sort); err != nil {
		return q, err
	}
	if f.limit < 0 {
		return q, app.Usagef("--limit %d: want 0 (all) or more", f.limit)
	}
	q.Limit = f.limit
	if q.AsOf, err = parseAsOf(cmd, f.asOf); err != nil {
		return q, err
	}
	return q, nil
}

func (c *cli) listCmd() *cobra.Command {
	var f filterFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List work items, now or as of a time",
		Long: `List work items, by ID. Done and cancelled items are hidden unless --all is
given or --status names them. Filters take comma-separated values and may be
repeated: values of one flag are alternatives, different flags must all hold.`,
		Example: `  jerry list --status ready,in_progress --label ui
  jerry list --assignee none --sort priority --limit 20
  jerry list --assignee alice --as-of "last tuesday"`,
		Args: args(0, 0, "no arguments"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		q, err := f.query(cmd)
		if err != nil {
			return err
		}
		if !c.jsonOut {
			// The table shows the items only, six fields of each: no
			// card to build, no more to read.
			q.Brief = true
			items, err := s.Items(ctx, q)
			if err != nil {
				return err
			}
			printItems(c.out, items)
			return nil
		}
		q.Comments = q.AsOf.IsZero()
		cards, err := s.ListCards(ctx, q)
		if err != nil {
			return err
		}
		return c.emit(func() any { return cardViews(cards) }, nil)
	})
	f.add(cmd, "id", true)
	return cmd
}

// searchLimit is how many matches search shows unless --limit says: a
// common word matches most of a large store, and the best come first.
const searchLimit = 20

func (c *cli) searchCmd() *cobra.Command {
	var f filterFlags
	cmd := &cobra.Command{
		Use:   "search TEXT",
		Short: "Find work items by words in their title, description or comments",
		Long: `Find work items whose title, description or comments hold every word of
TEXT (a word also matches as the start of a longer one), best match first:
title matches weigh most. Takes the same filters as list; done and cancelled
items are hidden unless --all. Shows the best 20 unless --limit says
otherwise (--limit 0: every match).`,
		Example: `  jerry search login timeout
  jerry search cache --label backend --limit 5 --json`,
		Args: args(1, -1, "TEXT"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		q, err := f.query(cmd)
		if err != nil {
			return err
		}
		q.Comments = c.jsonOut
		if !cmd.Flags().Changed("limit") {
			q.Limit = searchLimit
		}
		hits, err := s.Search(ctx, strings.Join(a, " "), q)
		if err != nil {
			return err
		}
		items := make([]tracker.Item, len(hits))
		for i, h := range hits {
			items[i] = h.Item
		}
		if !c.jsonOut {
			// The table shows the items only: no card to build.
			if len(items) == 0 {
				fmt.Fprintln(c.out, "no match")
			} else {
				printItems(c.out, items)
			}
			return nil
		}
		cards, err := s.CardsNow(ctx, items)
		if err != nil {
			return err
		}
		return c.emit(func() any { return cardViews(cards) }, func(w io.Writer) {
			if len(cards) == 0 {
				fmt.Fprintln(w, "no match")
				return
			}
			printItems(w, cardItems(cards))
		})
	})
	f.add(cmd, "id", false)
	cmd.Flags().Lookup("sort").Hidden = true // results come best match first
	return cmd
}

func (c *cli) labelCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "label ID add|remove LABEL...",
		Short: "Put labels on a work item or take them off",
		Long: `Put labels on work item ID (add) or take them off (remove). A label is 1 to
50 letters, digits or -_.:/, stored in lower case. Adding a label the item has,
or removing one it lacks, records nothing.`,
		Example: `  jerry label J-12 add ui backend
  jerry label J-12 remove backend`,
		Args: args(3, -1, "ID add|remove LABEL..."),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		exp, err := expected(cmd)
		if err != nil {
			return err
		}
		var add bool
		switch strings.ToLower(a[1]) {
		case "add":
			add = true
		case "remove", "rm":
		default:
			return app.Usagef("label %s %s: want add or remove", a[0], a[1])
		}
		var labels []string
		for _, l := range a[2:] {
			labels = append(labels, strings.Split(l, ",")...)
		}
		r, err := s.Label(ctx, a[0], add, labels, exp)
		return c.itemResult(ctx, s, r, err)
	})
	addExpect(cmd)
	return cmd
}
