// Command jerry is event-sourced work tracking for people and software
// agents. Every change to a work item or an initiative is an event; jerry
// shows the current state, the state at any version or time, and the audit
// trail, and lets many agents work on one store at once.
//
// Run "jerry help" for the commands. Exit codes: 0 success, 1 other failure,
// 2 usage or invalid input, 3 conflict, 4 not found.
//
// The store is --store, else $JERRY_STORE, else the nearest .jerry directory
// from the current one upward, else ./.jerry: file:PATH selects the JSON
// file store, postgres://... PostgreSQL. The actor recorded on every event
// is --actor, else $JERRY_ACTOR, else the OS user. openStore is the one
// place that picks an adapter. A write creates a file store that is not
// there; a read (marked with readOnly) answers from an empty store in
// memory instead of creating one.
//
// list, ready and initiative list answer from a persisted read model (see
// readModelStore: DIR/readmodels/jerry.model in a file store, a row of
// jerry_read_models in PostgreSQL), brought up to date from its position
// before each answer; list --as-of folds the log as before. rebuild
// recreates the model from the first event. log --follow streams new
// events until SIGINT or SIGTERM.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitConflict = 3
	exitNotFound = 4
)

func main() {
	if os.Getenv("GOGC") == "" {
		// jerry runs for a moment and keeps little: collecting less often
		// cuts list and ready's CPU time by about a tenth on 100,000 events
		// (measured with hyperfine), for a few more MB of peak memory.
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs jerry with args and returns its exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Output is buffered: a list of 10,000 items is one write, not 10,000.
	bw := bufio.NewWriterSize(stdout, 64<<10)
	c := &cli{stdin: stdin, out: bw, errOut: stderr, flush: func() { bw.Flush() }}
	defer c.close()
	defer bw.Flush()
	root := c.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var re runError
	if !errors.As(err, &re) {
		// Cobra's own errors (unknown command or flag, wrong number of
		// arguments) are usage errors.
		err = usageError{err}
	}
	code, kind := classify(err)
	if !c.jsonOut {
		// A flag error stops parsing before --json is read.
		c.jsonOut = wantsJSON(args)
	}
	c.printError(kind, err)
	return code
}

// wantsJSON reports whether args ask for --json.
func wantsJSON(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "--json=true", "--json=1":
			return true
		}
	}
	return false
}

// runError marks an error returned by a command's own work, as opposed to
// cobra's parsing.
type runError struct{ err error }

func (e runError) Error() string { return e.err.Error() }
func (e runError) Unwrap() error { return e.err }

// usageError is a mistake in how jerry was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// classify maps an error to an exit code and a code name for --json.
func classify(err error) (int, string) {
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return exitUsage, "usage"
	case errors.Is(err, es.ErrConcurrency), errors.Is(err, tracker.ErrClaimed):
		return exitConflict, "conflict"
	case errors.Is(err, es.ErrNotFound), errors.Is(err, tracker.ErrNotBlocker), errors.Is(err, tracker.ErrNotMember):
		return exitNotFound, "not_found"
	case errors.Is(err, tracker.ErrInvalidInput), errors.Is(err, es.ErrInvalidInput):
		return exitUsage, "invalid_input"
	case errors.Is(err, tracker.ErrInvalidTransition):
		return exitFailure, "invalid_transition"
	case errors.Is(err, tracker.ErrBlocked):
		return exitFailure, "blocked"
	case errors.Is(err, es.ErrCorrupt):
		return exitFailure, "corrupt"
	}
	return exitFailure, "error"
}

// message renders err for a person, on one line.
func message(err error) string {
	var ce *es.ConcurrencyError
	var msg string
	if errors.As(err, &ce) {
		what := strings.TrimPrefix(strings.TrimPrefix(ce.Stream, tracker.WorkItemType+"-"), tracker.InitiativeType+"-")
		msg = fmt.Sprintf("conflict: %s is at version %d, not %s", what, ce.Actual, ce.Expected)
	} else {
		msg = strings.TrimPrefix(err.Error(), "es: ")
	}
	return strings.Join(strings.Fields(msg), " ")
}

// cli holds what the commands share: the global flags, the streams and,
// once opened, the store and the service.
type cli struct {
	stdin       io.Reader
	out, errOut io.Writer
	flush       func() // writes out buffered output

	storeFlag string
	actorFlag string
	jsonOut   bool

	st  store
	svc *app.Service
}

func (c *cli) close() {
	if c.st != nil {
		c.st.Close()
	}
}

func (c *cli) printError(kind string, err error) {
	msg := message(err)
	if c.jsonOut {
		writeJSON(c.errOut, map[string]any{"error": map[string]string{"code": kind, "message": msg}})
		return
	}
	fmt.Fprintln(c.errOut, "jerry: "+msg)
}

// service opens the store (once) and returns the service over it. For a
// command that only reads (readOnly), a file store that does not exist is
// not created: the command answers from an empty store in memory.
func (c *cli) service(ctx context.Context, readOnly bool) (*app.Service, error) {
	if c.svc != nil {
		return c.svc, nil
	}
	url, err := resolveStore(c.storeFlag)
	if err != nil {
		return nil, err
	}
	strategy, err := snapshotStrategy()
	if err != nil {
		return nil, err
	}
	var st store
	if readOnly && missingFileStore(url) {
		st = emptyStore{memstore.New()} // nothing to read: nothing is created
	} else if st, err = openStore(ctx, url); err != nil {
		return nil, err
	}
	c.st = st
	opts := []app.Option{app.WithStrategy(strategy)}
	if ms, err := readModelStore(ctx, st); err != nil {
		return nil, err
	} else if ms != nil {
		opts = append(opts, app.WithReadModel(ms, func(msg string) { fmt.Fprintln(c.errOut, "jerry: "+msg) }))
	}
	c.svc = app.New(st, st, st, opts...)
	return c.svc, nil
}

// snapshotStrategy reads when to snapshot from JERRY_SNAPSHOT_EVERY (events
// since the last snapshot; default 50, 0 turns it off) and
// JERRY_SNAPSHOT_AFTER (time since the last snapshot, once at least 10
// events are not in it; default 24h, 0 turns it off).
func snapshotStrategy() (es.Strategy, error) {
	every, after := int64(50), 24*time.Hour
	if v := os.Getenv("JERRY_SNAPSHOT_EVERY"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, usagef("JERRY_SNAPSHOT_EVERY=%q: want a number of events, 0 for never", v)
		}
		every = n
	}
	if v := os.Getenv("JERRY_SNAPSHOT_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, usagef("JERRY_SNAPSHOT_AFTER=%q: want a duration like 24h, 0 for never", v)
		}
		after = d
	}
	var parts []es.Strategy
	if every > 0 {
		parts = append(parts, es.EveryN(every))
	}
	if after > 0 {
		parts = append(parts, es.AllOf(es.Every(after), es.EveryN(10)))
	}
	if len(parts) == 0 {
		return es.Never, nil
	}
	return es.AnyOf(parts...), nil
}

// context returns ctx carrying the actor and a correlation ID for this
// invocation, so that every event it records says who and which command.
func (c *cli) context(ctx context.Context) context.Context {
	return es.WithMetadata(ctx, es.Metadata{Actor: resolveActor(c.actorFlag), CorrelationID: es.NewEventID().String()})
}
