package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/spf13/cobra"
)

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "jerry",
		Short: "Event-sourced work tracking for people and agents",
		Long: `jerry tracks work items and initiatives as streams of events. Every change
is kept: show an item now, at a version or as of a time, read its history,
and let many agents work on one store at once without losing an update.

The store is --store, else $JERRY_STORE, else the nearest .jerry directory
from here upward (jerry init makes one), else ./.jerry. The first write
creates a file store that is not there; reads (show, list, ready without
--claim, history, log without --follow, verify, export, initiative show,
list and history) create nothing and find an empty store.
Store URLs: file:PATH (the JSON file store), postgres://... (PostgreSQL).

Environment: JERRY_STORE (store URL), JERRY_ACTOR (who acts),
JERRY_SNAPSHOT_EVERY (snapshot after this many events, default 50, 0 never),
JERRY_SNAPSHOT_AFTER (and after this long with 10 or more new events,
default 24h, 0 never), JERRY_READ_MODEL (off: list and ready fold the
whole log instead of reading the saved read model; for comparison).

Exit codes: 0 success, 1 other failure, 2 usage or invalid input,
3 conflict (another agent got there first), 4 not found.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&c.storeFlag, "store", "", "store URL (default $JERRY_STORE, else the nearest .jerry directory)")
	pf.StringVar(&c.actorFlag, "actor", "", "who acts, recorded on every event (default $JERRY_ACTOR, else the OS user)")
	pf.BoolVar(&c.jsonOut, "json", false, "print JSON on stdout (errors as JSON on stderr)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.CompletionOptions.DisableDefaultCmd = true

	root.AddGroup(&cobra.Group{ID: "items", Title: "Work items:"}, &cobra.Group{ID: "plan", Title: "Planning:"},
		&cobra.Group{ID: "store", Title: "The store:"})
	for _, cmd := range []*cobra.Command{
		c.createCmd(), c.statusCmd(), c.reopenCmd(), c.editCmd(), c.assignCmd(), c.claimCmd(), c.releaseCmd(),
		c.commentCmd(), readOnly(c.showCmd(), ""), readOnly(c.historyCmd(), ""), readOnly(c.listCmd(), ""),
	} {
		cmd.GroupID = "items"
		root.AddCommand(cmd)
	}
	for _, cmd := range []*cobra.Command{c.blockCmd(), c.unblockCmd(), readOnly(c.readyCmd(), "claim"), c.initiativeCmd()} {
		cmd.GroupID = "plan"
		root.AddCommand(cmd)
	}
	for _, cmd := range []*cobra.Command{c.initCmd(), readOnly(c.logCmd(), "follow"), readOnly(c.verifyCmd(), ""),
		readOnly(c.exportCmd(), ""), c.importCmd(), c.rebuildCmd()} {
		cmd.GroupID = "store"
		root.AddCommand(cmd)
	}
	root.AddCommand(c.mcpCmd())
	root.AddCommand(c.devCmd())
	return root
}

// args checks the number of positional arguments, as a usage error.
func args(min, max int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		switch {
		case len(a) < min:
			return usagef("%s: missing argument: want %s", commandName(cmd), names)
		case max >= 0 && len(a) > max:
			return usagef("%s: too many arguments: want %s", commandName(cmd), names)
		}
		return nil
	}
}

// commandName is the command's path without "jerry ".
func commandName(cmd *cobra.Command) string {
	p := cmd.CommandPath()
	if i := strings.IndexByte(p, ' '); i >= 0 {
		return p[i+1:]
	}
	return p
}

// do wraps a command's work: it opens the store, puts the actor in the
// context and marks errors as the command's own.
func (c *cli) do(fn func(ctx context.Context, s *app.Service, cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, a []string) error {
		s, err := c.service(cmd.Context(), isReadOnly(cmd))
		if err != nil {
			return runError{err}
		}
		if err := fn(c.context(cmd.Context()), s, cmd, a); err != nil {
			return runError{err}
		}
		return nil
	}
}

// readOnlyKey marks, in a command's annotations, a command that only
// reads: it does not create a store that is not there, but answers from an
// empty one. The value names a flag that makes it write (ready --claim),
// or is empty.
const readOnlyKey = "jerry-read-only"

// readOnly marks cmd as a read, unless writeFlag (if not "") is given.
func readOnly(cmd *cobra.Command, writeFlag string) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[readOnlyKey] = writeFlag
	return cmd
}

// isReadOnly reports whether cmd, with the flags it was given, only reads.
func isReadOnly(cmd *cobra.Command) bool {
	flag, ok := cmd.Annotations[readOnlyKey]
	return ok && (flag == "" || !cmd.Flags().Changed(flag))
}

func addExpect(cmd *cobra.Command) {
	cmd.Flags().Int64("expect-version", 0, "fail with exit code 3 unless the item is at this version (default: retry on conflict)")
}

// expected returns the condition of a write: the --expect-version, or Any
// (retry on conflict).
func expected(cmd *cobra.Command) (es.ExpectedVersion, error) {
	if !cmd.Flags().Changed("expect-version") {
		return es.Any, nil
	}
	v, _ := cmd.Flags().GetInt64("expect-version")
	if v < 0 {
		return es.Any, usagef("--expect-version %d: versions are 0 or more", v)
	}
	return es.Exact(v), nil
}

func (c *cli) itemResult(r app.Result[tracker.Item], err error) error {
	if err != nil {
		return err
	}
	if c.jsonOut {
		return writeJSON(c.out, itemView(r.State))
	}
	printChange(c.out, r.State.ID, r.State.Version, r.Events)
	return nil
}

func (c *cli) initiativeResult(r app.Result[tracker.InitiativeState], err error) error {
	if err != nil {
		return err
	}
	if c.jsonOut {
		return writeJSON(c.out, initiativeView(r.State))
	}
	printChange(c.out, r.State.ID, r.State.Version, r.Events)
	return nil
}

// itemWrite builds a command that changes one work item.
func (c *cli) itemWrite(use, short string, nargs int, names string, fn func(ctx context.Context, s *app.Service, cmd *cobra.Command, args []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error)) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: args(nargs, nargs, names)}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		exp, err := expected(cmd)
		if err != nil {
			return err
		}
		return c.itemResult(fn(ctx, s, cmd, a, exp))
	})
	addExpect(cmd)
	return cmd
}

func (c *cli) createCmd() *cobra.Command {
	var typ, desc, prio, init string
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
		n := tracker.NewItem{Title: strings.Join(a, " "), Description: desc, Initiative: init}
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
		if c.jsonOut {
			return writeJSON(c.out, itemView(r.State))
		}
		fmt.Fprintln(c.out, r.State.ID)
		return nil
	})
	f := cmd.Flags()
	f.StringVar(&typ, "type", "", "task, bug, story, spike or chore (default task)")
	f.StringVar(&desc, "description", "", "longer description")
	f.StringVar(&prio, "priority", "", "critical, high, medium or low, or 0 to 3 (default medium)")
	f.StringVar(&init, "initiative", "", "initiative to add the item to")
	addExpectNew(cmd)
	return cmd
}

// addExpectNew gives a create command --expect-version, which only 0 (the
// version of a stream that does not exist yet) satisfies: every write takes
// the flag, so that scripts can pass it uniformly.
func addExpectNew(cmd *cobra.Command) {
	cmd.Flags().Int64("expect-version", 0, "only 0 is accepted: a new item has no version yet")
}

func expectNew(cmd *cobra.Command) error {
	exp, err := expected(cmd)
	if err != nil {
		return err
	}
	if v, ok := exp.Version(); ok && v != 0 {
		return &es.ConcurrencyError{Stream: "new item", Expected: exp, Actual: 0}
	}
	return nil
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
done, cancelled. Done and cancelled items are left only by jerry reopen. An
item cannot go to in_progress while one of its blockers is not done. Setting
the status an item already has records nothing.`
	cmd.Example = `  jerry status J-42 in_progress --reason "picked up"`
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded with the change")
	return cmd
}

func (c *cli) reopenCmd() *cobra.Command {
	var reason string
	cmd := c.itemWrite("reopen ID", "Move a done or cancelled work item back to backlog", 1, "ID",
		func(ctx context.Context, s *app.Service, _ *cobra.Command, a []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
			return s.Reopen(ctx, a[0], reason, exp)
		})
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
				return app.Result[tracker.Item]{}, usagef("edit: nothing to change: give --title, --description, --priority or --type")
			}
			return s.Edit(ctx, a[0], e, exp)
		})
	f := cmd.Flags()
	f.StringVar(&title, "title", "", "new title")
	f.StringVar(&desc, "description", "", "new description")
	f.StringVar(&prio, "priority", "", "new priority: critical, high, medium, low or 0 to 3")
	f.StringVar(&typ, "type", "", "new type: task, bug, story, spike or chore")
	return cmd
}

func (c *cli) assignCmd() *cobra.Command {
	cmd := c.itemWrite("assign ID AGENT", "Assign a work item to an agent (\"\" unassigns)", 2, "ID AGENT",
		func(ctx context.Context, s *app.Service, _ *cobra.Command, a []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
			return s.Assign(ctx, a[0], a[1], exp)
		})
	return cmd
}

func (c *cli) claimCmd() *cobra.Command {
	cmd := c.itemWrite("claim ID", "Assign a work item to yourself; exit 3 if another agent holds it", 1, "ID",
		func(ctx context.Context, s *app.Service, _ *cobra.Command, a []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
			return s.Claim(ctx, a[0], exp)
		})
	cmd.Long = `Assign a work item to the actor (--actor, $JERRY_ACTOR or the OS user). If
another agent holds it, claim fails with exit code 3 and records nothing;
claiming an item you hold records nothing. Of several agents claiming one
item at once, exactly one succeeds.`
	return cmd
}

func (c *cli) releaseCmd() *cobra.Command {
	var force bool
	cmd := c.itemWrite("release ID", "Give up your hold on a work item", 1, "ID",
		func(ctx context.Context, s *app.Service, _ *cobra.Command, a []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
			return s.Release(ctx, a[0], force, exp)
		})
	cmd.Flags().BoolVar(&force, "force", false, "release even if another agent holds it")
	return cmd
}

func (c *cli) commentCmd() *cobra.Command {
	cmd := c.itemWrite("comment ID TEXT", "Add a comment to a work item", 2, "ID TEXT",
		func(ctx context.Context, s *app.Service, _ *cobra.Command, a []string, exp es.ExpectedVersion) (app.Result[tracker.Item], error) {
			return s.Comment(ctx, a[0], a[1], exp)
		})
	return cmd
}

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

// parseAsOf reads a --as-of flag, if given.
func parseAsOf(cmd *cobra.Command, v string) (time.Time, error) {
	if !cmd.Flags().Changed("as-of") {
		return time.Time{}, nil
	}
	t, err := parseTime(v, time.Now())
	if err != nil {
		return t, usageError{err}
	}
	return t, nil
}

const asOfHelp = "as of TIME: RFC 3339, a date (end of that day), yesterday, last tuesday, 3d ago, 2h ago"

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
			return usagef("show: give --at or --as-of, not both")
		case cmd.Flags().Changed("at"):
			if at < 1 {
				return usagef("--at %d: versions start at 1", at)
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
		if c.jsonOut {
			return writeJSON(c.out, itemView(it))
		}
		// A past state shows its blockers as they were then: as of the
		// time asked for, or of the version's last event.
		when := t
		if cmd.Flags().Changed("at") {
			when = it.UpdatedAt
		}
		printItem(c.out, it, blockerStatus(ctx, s, when))
		return nil
	})
	cmd.Flags().Int64Var(&at, "at", 0, "the state after this version")
	cmd.Flags().StringVar(&asOf, "as-of", "", asOfHelp)
	return cmd
}

// blockerStatus tells printItem the status of a blocker now or, if asOf is
// not zero, as of that time.
func blockerStatus(ctx context.Context, s *app.Service, asOf time.Time) func(string) string {
	return func(id string) string {
		b, err := s.Item(ctx, id)
		if !asOf.IsZero() {
			b, err = s.ItemAsOf(ctx, id, asOf)
		}
		if err != nil {
			return "unknown"
		}
		return string(b.Status)
	}
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
		if c.jsonOut {
			return writeJSON(c.out, historyView(h))
		}
		printHistory(c.out, h)
		return nil
	})
	return cmd
}

func (c *cli) listCmd() *cobra.Command {
	var status, assignee, typ, init, asOf string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List work items, now or as of a time",
		Example: `  jerry list --status in_progress
  jerry list --assignee alice --as-of "last tuesday"`,
		Args: args(0, 0, "no arguments"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		var f app.Filter
		if status != "" {
			st, err := tracker.ParseStatus(status)
			if err != nil {
				return err
			}
			f.Status = st
		}
		if typ != "" {
			t, err := tracker.ParseType(typ)
			if err != nil {
				return err
			}
			f.Type = t
		}
		f.Assignee, f.Initiative = assignee, init
		f.NoComments = !c.jsonOut // the table does not show them
		t, err := parseAsOf(cmd, asOf)
		if err != nil {
			return err
		}
		items, err := s.List(ctx, f, t)
		if err != nil {
			return err
		}
		if c.jsonOut {
			return writeJSON(c.out, itemViews(items))
		}
		printItems(c.out, items)
		return nil
	})
	fl := cmd.Flags()
	fl.StringVar(&status, "status", "", "only items with this status")
	fl.StringVar(&assignee, "assignee", "", "only items assigned to this agent")
	fl.StringVar(&typ, "type", "", "only items of this type")
	fl.StringVar(&init, "initiative", "", "only items in this initiative")
	fl.StringVar(&asOf, "as-of", "", asOfHelp)
	return cmd
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
			return usagef("--limit %d: want 0 (all) or more", limit)
		}
		if claim {
			r, err := s.ClaimReady(ctx)
			if err != nil {
				return err
			}
			if c.jsonOut {
				return writeJSON(c.out, itemView(r.State))
			}
			fmt.Fprintf(c.out, "%s: claimed by %s\n\n", r.State.ID, r.State.Assignee)
			printItem(c.out, r.State, blockerStatus(ctx, s, time.Time{}))
			return nil
		}
		items, err := s.Ready(ctx, limit)
		if err != nil {
			return err
		}
		if c.jsonOut {
			return writeJSON(c.out, itemViews(items))
		}
		if len(items) == 0 {
			fmt.Fprintln(c.out, "nothing ready")
			return nil
		}
		printItems(c.out, items)
		return nil
	})
	cmd.Flags().IntVar(&limit, "limit", 0, "show at most N items (0: all)")
	cmd.Flags().BoolVar(&claim, "claim", false, "claim the first ready item and print it")
	return cmd
}
