package main

import (
	"context"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker/app"
)

// What every command shares: the root command with the global flags, the
// checks of arguments and flags, and the wrapper that opens the store.

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
Store URLs: file:PATH (the JSON file store), postgres://... (PostgreSQL),
nats://HOST:PORT[?stream=NAME&replicas=N] (NATS JetStream).

Environment: JERRY_STORE (store URL), JERRY_ACTOR (who acts),
JERRY_SNAPSHOT_EVERY (snapshot after this many events, default 50, 0 never),
JERRY_SNAPSHOT_AFTER (and after this long with 10 or more new events,
default 24h, 0 never), JERRY_LEASE (how long a claim holds after its
holder's last write, default 2h), JERRY_READ_MODEL (off: list and ready fold the
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
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return app.Usage(err) })
	root.Version = version()
	root.SetVersionTemplate("jerry {{.Version}}\n")

	root.AddGroup(&cobra.Group{ID: "items", Title: "Work items:"}, &cobra.Group{ID: "plan", Title: "Planning:"},
		&cobra.Group{ID: "store", Title: "The store:"})
	for _, cmd := range []*cobra.Command{
		creates(c.createCmd()), c.statusCmd(), c.reopenCmd(), c.editCmd(), c.assignCmd(), c.claimCmd(), c.heartbeatCmd(),
		c.releaseCmd(), c.commentCmd(), readOnly(c.showCmd(), ""), readOnly(c.historyCmd(), ""), readOnly(c.listCmd(), ""),
		c.labelCmd(), readOnly(c.searchCmd(), ""),
	} {
		cmd.GroupID = "items"
		root.AddCommand(cmd)
	}
	for _, cmd := range []*cobra.Command{c.blockCmd(), c.unblockCmd(), readOnly(c.readyCmd(), "claim"),
		readOnly(c.blockedCmd(), ""), c.initiativeCmd(), readOnly(c.statsCmd(), "")} {
		cmd.GroupID = "plan"
		root.AddCommand(cmd)
	}
	for _, cmd := range []*cobra.Command{c.initCmd(), c.whoamiCmd(), readOnly(c.logCmd(), "follow"), readOnly(c.verifyCmd(), ""),
		readOnly(c.exportCmd(), ""), creates(c.importCmd()), c.rebuildCmd()} {
		cmd.GroupID = "store"
		root.AddCommand(cmd)
	}
	root.AddCommand(c.mcpCmd())
	root.AddCommand(creates(c.serveCmd()), c.tokenCmd())
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
		s, err := c.service(cmd.Context(), isReadOnly(cmd) || !createsStore(cmd))
		if err != nil {
			return runError{err}
		}
		ctx := c.context(cmd.Context())
		if f := cmd.Flags().Lookup("force"); f != nil && f.Changed {
			ctx = app.Force(ctx)
		}
		if err := fn(ctx, s, cmd, a); err != nil {
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

// createsKey marks, in a command's annotations, a command that makes a new
// item, initiative or history, and so creates a file store that is not
// there. Every other write needs something that exists, so on a missing
// store it fails as not found and creates nothing.
const createsKey = "jerry-creates"

// creates marks cmd as one that may create the store.
func creates(cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[createsKey] = "yes"
	return cmd
}

func createsStore(cmd *cobra.Command) bool { return cmd.Annotations[createsKey] != "" }

// isReadOnly reports whether cmd, with the flags it was given, only reads.
func isReadOnly(cmd *cobra.Command) bool {
	flag, ok := cmd.Annotations[readOnlyKey]
	return ok && (flag == "" || !cmd.Flags().Changed(flag))
}

// addForce gives cmd --force: its write goes through what would refuse it
// (a claim held by another agent, open blockers, open members), and the
// events record that they were forced.
func addForce(cmd *cobra.Command, what string) {
	cmd.Flags().Bool("force", false, what+"; recorded in the event's metadata and shown in history")
}

// addLease gives cmd --lease.
func addLease(cmd *cobra.Command, lease *time.Duration) {
	cmd.Flags().DurationVar(lease, "lease", 0, "how long the claim holds after your last write to the item (default $JERRY_LEASE, else 2h)")
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

// parseAsOf reads a --as-of flag, if given.
func parseAsOf(cmd *cobra.Command, v string) (time.Time, error) {
	return parseTimeFlag(cmd, "as-of", v)
}

const asOfHelp = "as of TIME: RFC 3339, a date (end of that day), yesterday, last tuesday, 3d ago, 2h ago"

// noSubcommand rejects arguments to a command that only groups others.
func noSubcommand(cmd *cobra.Command, a []string) error {
	if len(a) > 0 {
		return usagef("%s: unknown command %q (see jerry %s --help)", commandName(cmd), a[0], commandName(cmd))
	}
	return nil
}

// usagef returns a usage error: a mistake in how jerry was called.
func usagef(format string, args ...any) error { return app.Usagef(format, args...) }

// version says which build this is: the module version when installed
// with go install, else the commit it was built from (with "+dirty" for
// uncommitted changes), else "devel".
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return "devel " + rev + dirty
}
