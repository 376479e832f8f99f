package main

import (
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

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/projection"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/board"
)

// The commands about the store as a whole: init, verify, export, import,
// rebuild.

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
				// --store names the project's store: every agent in this
				// checkout uses it from now on.
				config := ""
				if c.storeFlag != "" {
					if err := writeConfig(storeDir, url); err != nil {
						return runError{err}
					}
					config = filepath.Join(storeDir, configFile)
				}
				return c.emit(func() any { return map[string]any{"store": redact(url), "created": false, "config": config} },
					func(w io.Writer) {
						fmt.Fprintf(w, "the store at %s is ready\n", display(redact(url)))
						if config != "" {
							fmt.Fprintf(w, "%s names it: jerry uses it anywhere in this directory and below\n", config)
						}
					})
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
			return c.emit(func() any { return map[string]any{"store": "file:" + abs, "created": created, "config": ""} }, func(w io.Writer) {
				if created {
					fmt.Fprintf(w, "created an empty store in %s\n", display(abs))
				} else {
					fmt.Fprintf(w, "a store is already in %s\n", display(abs))
				}
			})
		},
	}
}

func (c *cli) verifyCmd() *cobra.Command {
	var repair bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the store's integrity; exit 1 with a report on damage",
		Long: `Check the store's integrity: checksums, versions, positions, indexes and
snapshots. On damage, exit 1 with a report naming the file and offset; a file
store that finds damage refuses writes until a person acts.

With --repair, for file stores, first rebuild every derived file (indexes, the
stream table, the head) from the log, and cut a log whose tail is damaged or
unfinished back to its last whole append: events cut that way are lost for
good, and the report says so. Damage in the middle of the log is not
repaired. Every repair is recorded in the store and listed by later verifies.

Verify also lists memberships whose two records disagree (an initiative's
events list an item that does not name it, or the other way round: a command
killed between its two writes). That is not damage: every reader takes an
initiative's members from the items that name it. --repair brings the
initiatives' records in step with the items.`,
		Args: args(0, 0, "no arguments"),
	}
	verify := c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		check, repaired := storeCheck(c.st)
		rep, err := s.Verify(ctx, check)
		if err != nil {
			return err
		}
		// After the check: it may have indexed a tail a dead writer left.
		notes := repaired()
		if notes == nil {
			notes = []string{}
		}
		if repair && rep.OK() && len(rep.Splits) > 0 {
			mended, err := s.MendSplits(ctx, rep.Splits)
			for _, m := range mended {
				fmt.Fprintln(c.errOut, "jerry: repaired: "+display(m))
			}
			if err != nil {
				return err
			}
			if rep, err = s.Verify(ctx, check); err != nil {
				return err
			}
		}
		problems := rep.Problems
		if problems == nil {
			problems = []string{}
		}
		splits := make([]string, len(rep.Splits))
		for i, sp := range rep.Splits {
			splits[i] = sp.String()
		}
		view := map[string]any{"ok": rep.OK(), "events": rep.Events, "streams": rep.Streams,
			"store_checked": rep.StoreChecked, "problems": problems, "repairs": notes, "membership_splits": splits}
		c.emit(func() any { return view }, func(w io.Writer) { printReport(w, rep, notes) })
		if !rep.OK() {
			return fmt.Errorf("%w: verify found %d problems", es.ErrCorrupt, len(rep.Problems))
		}
		return nil
	})
	cmd.RunE = func(cmd *cobra.Command, a []string) error {
		if repair {
			url, err := resolveStore(c.storeFlag)
			if err != nil {
				return runError{err}
			}
			// Other stores have no derived files of their own to rebuild:
			// --repair mends their split memberships only.
			if _, ok := fileStorePath(url); ok {
				repairs, err := repairStore(cmd.Context(), url)
				for _, r := range repairs {
					fmt.Fprintln(c.errOut, "jerry: repaired: "+display(r))
				}
				if err != nil {
					return runError{err}
				}
			}
		}
		return verify(cmd, a)
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "first rebuild derived files from the log and cut a damaged tail (file stores); bring initiatives' membership records in step with their items")
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
		return c.emit(func() any { return map[string]any{"events": n, "file": a[0]} },
			func(w io.Writer) { fmt.Fprintf(w, "exported %d events to %s\n", n, display(a[0])) })
	})
	return cmd
}

func (c *cli) importCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import [FILE]",
		Short: "Read events exported as JSON lines into an empty store",
		Long: `Read an export (JSON lines, from FILE or stdin) into an empty store, keeping
stream IDs, versions, event IDs, times and order. The whole input is checked
first: invalid input, or a store that has events, writes nothing. The input
is read a line at a time (stdin is copied to a temporary file first, to be
read twice), so memory stays small whatever its size.

A file store is built aside (in the directory STORE.build) and put in place
when it is complete: an import killed or stopped by a full disk leaves the
store as it was (absent or empty), and running it again imports everything.
Other stores keep the events imported before the stop; running the import
again checks them against the export and imports the rest.`,
		Args: args(0, 1, "[FILE]"),
	}
	cmd.RunE = func(cmd *cobra.Command, a []string) error {
		input, done, err := openInput(c.stdin, a)
		if err != nil {
			return runError{err}
		}
		defer done()
		var n int64
		report := func(err error) error {
			if err != nil {
				if n > 0 {
					err = fmt.Errorf("stopped after %d events: %w", n, err)
				}
				return runError{err}
			}
			return c.emit(func() any { return map[string]any{"events": n} }, func(w io.Writer) { fmt.Fprintf(w, "imported %d events\n", n) })
		}
		url, err := resolveStore(c.storeFlag)
		if err != nil {
			return runError{err}
		}
		if dir, ok := fileStorePath(url); ok {
			err := buildFileStore(cmd.Context(), dir, func(s *app.Service) error {
				n, err = s.Import(cmd.Context(), input)
				return err
			})
			if err != nil {
				n = 0 // nothing of it is in the store
			}
			return report(err)
		}
		// Check the whole input before the store is opened: a refused
		// import creates no store. (A file store's build checks it
		// before it writes, and leaves nothing behind if it refuses.)
		if _, err := app.CheckExport(input); err != nil {
			return runError{err}
		}
		if _, err := input.Seek(0, io.SeekStart); err != nil {
			return runError{err}
		}
		return c.do(func(ctx context.Context, s *app.Service, _ *cobra.Command, _ []string) error {
			n, err = s.Import(ctx, input)
			return report(err)
		})(cmd, a)
	}
	return cmd
}

// openInput opens FILE (a[0]), or stdin if there is none or it is "-", to
// be read more than once: stdin that cannot seek is copied to a temporary
// file. done closes it and removes any copy.
func openInput(stdin io.Reader, a []string) (in io.ReadSeeker, done func(), err error) {
	if len(a) == 1 && a[0] != "-" {
		f, err := os.Open(a[0])
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, app.Usage(err)
		}
		if err != nil {
			return nil, nil, err
		}
		return f, func() { f.Close() }, nil
	}
	if f, ok := stdin.(*os.File); ok {
		if _, err := f.Seek(0, io.SeekStart); err == nil {
			return f, func() {}, nil
		}
	}
	tmp, err := os.CreateTemp("", "jerry-import-*.jsonl")
	if err != nil {
		return nil, nil, err
	}
	done = func() { tmp.Close(); os.Remove(tmp.Name()) }
	if _, err := io.Copy(tmp, stdin); err != nil {
		done()
		return nil, nil, fmt.Errorf("read stdin: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		done()
		return nil, nil, err
	}
	return tmp, done, nil
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
		Long: `Recreate jerry's read model (what list, ready, blocked, search, initiative
list and log's filters answer from) from the first event. On a terminal a progress bar shows
on stderr; the summary goes to stdout (with --json, one JSON document).`,
		Args: args(0, 0, "no arguments"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		var bar *progressBar
		if isTerminal(c.errOut) {
			bar = &progressBar{w: c.errOut, label: "rebuilding"}
		}
		start := time.Now()
		var progress board.Progress
		if bar != nil {
			progress = func(done, pos, lastPos int64) {
				el := time.Since(start)
				bar.update(projection.Progress{Position: pos, Last: lastPos, Handled: done, Elapsed: el,
					Rate: float64(done) / max(el.Seconds(), 1e-9)})
			}
		}
		pos, err := s.RebuildBoard(ctx, progress)
		bar.finish()
		if err != nil {
			return err
		}
		el := time.Since(start)
		rate := float64(pos) / max(el.Seconds(), 1e-9)
		items, inits, err := s.Counts(ctx)
		if err != nil {
			return err
		}
		view := map[string]any{"events": pos, "items": items, "initiatives": inits,
			"seconds": el.Seconds(), "events_per_second": math.Round(rate)}
		return c.emit(func() any { return view }, func(w io.Writer) {
			fmt.Fprintf(w, "rebuilt the read model from %d events in %v (%s events/s): %d work items, %d initiatives\n",
				pos, el.Round(time.Millisecond), thousands(int64(rate)), items, inits)
		})
	})
	return cmd
}

// printReport writes what verify found, for people.
func printReport(w io.Writer, rep app.Report, notes []string) {
	for _, n := range notes {
		fmt.Fprintln(w, display(n))
	}
	for _, sp := range rep.Splits {
		fmt.Fprintln(w, "membership: "+display(sp.String()))
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "damage: "+display(p))
	}
	check := "the store has no integrity check of its own"
	if rep.StoreChecked {
		check = "checksums, indexes and snapshots checked"
	}
	state := "ok"
	if !rep.OK() {
		state = fmt.Sprintf("%d problems", len(rep.Problems))
	}
	fmt.Fprintf(w, "%s: %d events in %d streams; %s\n", state, rep.Events, rep.Streams, check)
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

func (c *cli) whoamiCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Print who you act as and which store you use, and why",
		Long: `Print the actor recorded on your events (--actor, else $JERRY_ACTOR, else
the OS user) and the store jerry uses here (--store, else $JERRY_STORE, else
the nearest .jerry directory from here upward and the store its config names,
else ./.jerry), each with where it came from. It opens nothing.`,
		Args: args(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := locate(c.storeFlag)
			if err != nil {
				return runError{err}
			}
			actor, from := resolveActor(c.actorFlag), "the OS user"
			switch {
			case strings.TrimSpace(c.actorFlag) != "":
				from = "--actor"
			case strings.TrimSpace(os.Getenv("JERRY_ACTOR")) != "":
				from = "$JERRY_ACTOR"
			}
			return c.emit(func() any {
				return map[string]any{"actor": actor, "actor_from": from, "store": redact(w.store), "store_from": w.storeFrom}
			},
				func(out io.Writer) {
					fmt.Fprintf(out, "actor  %s  (from %s)\n", display(actor), from)
					fmt.Fprintf(out, "store  %s  (from %s)\n", display(redact(w.store)), display(w.storeFrom))
				})
		},
	}
}
