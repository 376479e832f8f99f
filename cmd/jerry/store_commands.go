package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/projection"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/spf13/cobra"
)

func (c *cli) initiativeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "initiative",
		Aliases: []string{"initiatives"},
		Short:   "Group work items into initiatives: create, add, remove, complete, show, list",
		Args:    noSubcommand,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var desc string
	create := &cobra.Command{Use: "create TITLE", Short: "Create an initiative and print its ID", Args: args(1, -1, "TITLE")}
	create.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		if err := expectNew(cmd); err != nil {
			return err
		}
		r, err := s.CreateInitiative(ctx, strings.Join(a, " "), desc)
		if err != nil {
			return err
		}
		if c.jsonOut {
			return writeJSON(c.out, initiativeView(r.State))
		}
		fmt.Fprintln(c.out, r.State.ID)
		return nil
	})
	create.Flags().StringVar(&desc, "description", "", "longer description")
	addExpectNew(create)

	initWrite := func(use, short string, nargs int, names string, fn func(ctx context.Context, s *app.Service, a []string, exp es.ExpectedVersion) (app.Result[tracker.InitiativeState], error)) *cobra.Command {
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
	add := initWrite("add INIT ITEM", "Add a work item to an initiative (moving it from any other)", 2, "INIT ITEM",
		func(ctx context.Context, s *app.Service, a []string, exp es.ExpectedVersion) (app.Result[tracker.InitiativeState], error) {
			return s.AddToInitiative(ctx, a[0], a[1], exp)
		})
	remove := initWrite("remove INIT ITEM", "Remove a work item from an initiative", 2, "INIT ITEM",
		func(ctx context.Context, s *app.Service, a []string, exp es.ExpectedVersion) (app.Result[tracker.InitiativeState], error) {
			return s.RemoveFromInitiative(ctx, a[0], a[1], exp)
		})
	var reason string
	complete := initWrite("complete INIT", "Mark an initiative completed", 1, "INIT",
		func(ctx context.Context, s *app.Service, a []string, exp es.ExpectedVersion) (app.Result[tracker.InitiativeState], error) {
			return s.CompleteInitiative(ctx, a[0], reason, exp)
		})
	complete.Flags().StringVar(&reason, "reason", "", "why, recorded with the change")
	cancel := initWrite("cancel INIT", "Mark an initiative cancelled", 1, "INIT",
		func(ctx context.Context, s *app.Service, a []string, exp es.ExpectedVersion) (app.Result[tracker.InitiativeState], error) {
			return s.CancelInitiative(ctx, a[0], reason, exp)
		})
	cancel.Flags().StringVar(&reason, "reason", "", "why, recorded with the change")

	var asOf string
	show := &cobra.Command{Use: "show INIT", Short: "Show an initiative and its work items, now or as of a time", Args: args(1, 1, "INIT")}
	show.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
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
		if c.jsonOut {
			return writeJSON(c.out, initiativeView(in))
		}
		fmt.Fprintf(c.out, "%s  %s\n\n", in.ID, in.Title)
		tw := table(c.out)
		fmt.Fprintf(tw, "  status\t%s\n  version\t%d\n  created\t%s\n  updated\t%s\n", in.Status, in.Version, localTime(in.CreatedAt), localTime(in.UpdatedAt))
		tw.Flush()
		if in.Description != "" {
			fmt.Fprintf(c.out, "\n  %s\n", in.Description)
		}
		var items []tracker.Item
		for _, id := range in.Members {
			var it tracker.Item
			if t.IsZero() {
				it, err = s.Item(ctx, id)
			} else {
				it, err = s.ItemAsOf(ctx, id, t)
			}
			if err != nil {
				it = tracker.Item{ID: id, Title: "(" + message(err) + ")"}
			}
			items = append(items, it)
		}
		fmt.Fprintf(c.out, "\nwork items (%d)\n", len(items))
		if len(items) > 0 {
			printItems(c.out, items)
		}
		return nil
	})
	show.Flags().StringVar(&asOf, "as-of", "", asOfHelp)

	list := &cobra.Command{Use: "list", Short: "List initiatives", Args: args(0, 0, "no arguments")}
	list.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		all, err := s.Initiatives(ctx)
		if err != nil {
			return err
		}
		if c.jsonOut {
			out := make([]initiativeJSON, len(all))
			for i, in := range all {
				out[i] = initiativeView(in)
			}
			return writeJSON(c.out, out)
		}
		printInitiatives(c.out, all)
		return nil
	})

	history := &cobra.Command{Use: "history INIT", Short: "Show an initiative's audit trail", Args: args(1, 1, "INIT")}
	history.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		h, err := s.InitiativeHistory(ctx, a[0])
		if err != nil {
			return err
		}
		if c.jsonOut {
			return writeJSON(c.out, historyView(h))
		}
		printHistory(c.out, h)
		return nil
	})
	cmd.AddCommand(create, add, remove, complete, cancel, readOnly(show, ""), readOnly(list, ""), readOnly(history, ""))
	return cmd
}

// noSubcommand rejects arguments to a command that only groups others.
func noSubcommand(cmd *cobra.Command, a []string) error {
	if len(a) > 0 {
		return usagef("%s: unknown command %q (see jerry %s --help)", commandName(cmd), a[0], commandName(cmd))
	}
	return nil
}

func (c *cli) initCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create a store in ./.jerry (or at --store or $JERRY_STORE)",
		Args:  args(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			// --store, else $JERRY_STORE, as for every command; but not a
			// .jerry found further up: init makes one here.
			url := c.storeFlag
			if url == "" {
				url = os.Getenv("JERRY_STORE")
			}
			if url == "" {
				url = "file:" + storeDir
			}
			path, ok := strings.CutPrefix(url, "file:")
			if !ok {
				// Other stores create their schema when opened.
				st, err := openStore(cmd.Context(), url)
				if err != nil {
					return runError{err}
				}
				st.Close()
				if c.jsonOut {
					return writeJSON(c.out, map[string]any{"store": redact(url), "created": false})
				}
				fmt.Fprintf(c.out, "the store at %s is ready\n", redact(url))
				return nil
			}
			path = strings.TrimPrefix(path, "//")
			abs, err := filepath.Abs(path)
			if err != nil {
				return runError{err}
			}
			created, err := initStore(cmd.Context(), abs)
			if err != nil {
				return runError{err}
			}
			if c.jsonOut {
				return writeJSON(c.out, map[string]any{"store": "file:" + abs, "created": created})
			}
			if created {
				fmt.Fprintf(c.out, "created an empty store in %s\n", abs)
			} else {
				fmt.Fprintf(c.out, "a store is already in %s\n", abs)
			}
			return nil
		},
	}
}

// shortStream names a stream as people type it: J-42 for workitem-J-42.
func shortStream(s string) string {
	if rest, ok := strings.CutPrefix(s, "jerry-ids-"); ok {
		return "ids:" + rest
	}
	if s == app.DependencyStream {
		return "dependencies"
	}
	for _, p := range []string{tracker.WorkItemType + "-", tracker.InitiativeType + "-"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest
		}
	}
	return s
}

func (c *cli) logCmd() *cobra.Command {
	var from int64
	var limit int
	var follow bool
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show the global log of events in commit order",
		Long: `Show every event in the store in commit order, from --from (a log position).
With --json, one record per line. With --follow, keep going as new events
commit, until interrupted.`,
		Args: args(0, 0, "no arguments"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		if from < 1 {
			return usagef("--from %d: positions start at 1", from)
		}
		if limit < 0 {
			return usagef("--limit %d: want 0 (all) or more", limit)
		}
		seq := s.Log(ctx, from)
		if follow {
			// The store's own subscription (woken by its commits, and for
			// the file store by other processes' too), or polling. It
			// ends, without an error, when SIGINT or SIGTERM cancel ctx.
			seq = projection.Subscribe(ctx, c.st, from, s.Registry(), 200*time.Millisecond)
		}
		n := 0
		for rec, err := range seq {
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if c.jsonOut {
				if err := writeJSON(c.out, logView(rec)); err != nil {
					return err
				}
			} else {
				summary := rec.Type
				if data, err := s.Registry().Decode(rec); err == nil {
					summary = tracker.Describe(data)
				}
				fmt.Fprintf(c.out, "%7d  %s  %-12s %-6s %-14s %s\n", rec.Position, localTime(rec.Time),
					shortStream(rec.Stream), fmt.Sprintf("v%d", rec.Version), dash(rec.Metadata.Actor), summary)
			}
			if follow {
				c.flush()
			}
			if n++; limit > 0 && n >= limit {
				break
			}
		}
		return nil
	})
	cmd.Flags().Int64Var(&from, "from", 1, "first log position to show")
	cmd.Flags().IntVar(&limit, "limit", 0, "show at most N events (0: all)")
	cmd.Flags().BoolVar(&follow, "follow", false, "keep showing new events as they commit")
	return cmd
}

func (c *cli) verifyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the store's integrity; exit 1 with a report on damage",
		Args:  args(0, 0, "no arguments"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		check, notes := storeCheck(c.st)
		rep, err := s.Verify(ctx, check)
		if err != nil {
			return err
		}
		if notes == nil {
			notes = []string{}
		}
		if c.jsonOut {
			problems := rep.Problems
			if problems == nil {
				problems = []string{}
			}
			writeJSON(c.out, map[string]any{"ok": rep.OK(), "events": rep.Events, "streams": rep.Streams,
				"store_checked": rep.StoreChecked, "problems": problems, "repairs": notes})
		} else {
			for _, n := range notes {
				fmt.Fprintln(c.out, n)
			}
			for _, p := range rep.Problems {
				fmt.Fprintln(c.out, "damage: "+p)
			}
			check := "the store has no integrity check of its own"
			if rep.StoreChecked {
				check = "checksums, indexes and snapshots checked"
			}
			state := "ok"
			if !rep.OK() {
				state = fmt.Sprintf("%d problems", len(rep.Problems))
			}
			fmt.Fprintf(c.out, "%s: %d events in %d streams; %s\n", state, rep.Events, rep.Streams, check)
		}
		if !rep.OK() {
			return fmt.Errorf("%w: verify found %d problems", es.ErrCorrupt, len(rep.Problems))
		}
		return nil
	})
	return cmd
}

func (c *cli) exportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export [FILE]",
		Short: "Write every event as JSON lines to FILE or stdout",
		Args:  args(0, 1, "[FILE]"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		if len(a) == 0 || a[0] == "-" {
			_, err := s.Export(ctx, c.out)
			return err
		}
		// Write to a temporary file and rename, so that a failed export
		// leaves no half file behind.
		f, err := os.CreateTemp(filepath.Dir(a[0]), ".jerry-export-*")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		n, err := s.Export(ctx, f)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), a[0])
		}
		if err != nil {
			return err
		}
		if c.jsonOut {
			return writeJSON(c.out, map[string]any{"events": n, "file": a[0]})
		}
		fmt.Fprintf(c.out, "exported %d events to %s\n", n, a[0])
		return nil
	})
	return cmd
}

func (c *cli) importCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import [FILE]",
		Short: "Read events exported as JSON lines into an empty store",
		Long: `Read an export (JSON lines, from FILE or stdin) into an empty store, keeping
stream IDs, versions, event IDs, times and order. The whole input is checked
first: invalid input, or a store that has events, writes nothing.`,
		Args: args(0, 1, "[FILE]"),
	}
	run := func(ctx context.Context, s *app.Service, input []byte) error {
		r := bytes.NewReader(input)
		n, err := s.Import(ctx, r)
		if err != nil {
			if n > 0 {
				return fmt.Errorf("stopped after %d events: %w", n, err)
			}
			return err
		}
		if c.jsonOut {
			return writeJSON(c.out, map[string]any{"events": n})
		}
		fmt.Fprintf(c.out, "imported %d events\n", n)
		return nil
	}
	cmd.RunE = func(cmd *cobra.Command, a []string) error {
		// Read and check the whole input before the store is opened: a
		// refused import creates no store.
		input, err := readInput(c.stdin, a)
		if err == nil {
			_, err = app.CheckExport(bytes.NewReader(input))
		}
		if err != nil {
			return runError{err}
		}
		return c.do(func(ctx context.Context, s *app.Service, _ *cobra.Command, _ []string) error {
			return run(ctx, s, input)
		})(cmd, a)
	}
	return cmd
}

// readInput reads FILE (a[0]), or stdin if there is none or it is "-".
func readInput(stdin io.Reader, a []string) ([]byte, error) {
	if len(a) == 0 || a[0] == "-" {
		return io.ReadAll(stdin)
	}
	b, err := os.ReadFile(a[0])
	if errors.Is(err, os.ErrNotExist) {
		return nil, usageError{err}
	}
	return b, err
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (c *cli) rebuildCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rebuild",
		Short: "Recreate the read models from the events",
		Long: `Recreate jerry's read model (what list, ready and initiative list answer
from) from the first event, and save it. On a terminal a progress bar shows
on stderr; the summary goes to stdout (with --json, one JSON document).`,
		Args: args(0, 0, "no arguments"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		var bar *progressBar
		if isTerminal(c.errOut) {
			bar = &progressBar{w: c.errOut, label: "rebuilding"}
		}
		var progress func(projection.Progress)
		if bar != nil {
			progress = bar.update
		}
		p, last, err := s.Rebuild(ctx, progress)
		bar.finish()
		if err != nil {
			return err
		}
		items, inits := p.Counts()
		if c.jsonOut {
			return writeJSON(c.out, map[string]any{"events": p.Position(), "items": items, "initiatives": inits,
				"seconds": last.Elapsed.Seconds(), "events_per_second": math.Round(last.Rate)})
		}
		fmt.Fprintf(c.out, "rebuilt the read model from %d events in %v (%s events/s): %d work items, %d initiatives\n",
			p.Position(), last.Elapsed.Round(time.Millisecond), thousands(int64(last.Rate)), items, inits)
		return nil
	})
	return cmd
}

// progressBar draws one updating line: a bar, percent, rate and time left.
type progressBar struct {
	w     io.Writer
	label string
	drawn bool
}

func (b *progressBar) update(p projection.Progress) {
	if b == nil {
		return
	}
	const width = 30
	f := p.Fraction()
	full := int(f * width)
	eta := "--"
	if p.Rate > 0 && p.Last > p.Position {
		eta = (time.Duration(float64(p.Last-p.Position) / p.Rate * float64(time.Second))).Round(time.Second).String()
	}
	// \r returns to the start of the line, \x1b[K clears what is left of the
	// last, longer, line.
	fmt.Fprintf(b.w, "\r%s [%s%s] %3.0f%%  %s / %s events  %s events/s  ETA %s\x1b[K", b.label,
		strings.Repeat("=", full), strings.Repeat(" ", width-full), 100*f,
		thousands(p.Position), thousands(p.Last), thousands(int64(p.Rate)), eta)
	b.drawn = true
}

func (b *progressBar) finish() {
	if b != nil && b.drawn {
		fmt.Fprintln(b.w)
	}
}

// thousands writes n with commas: 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
