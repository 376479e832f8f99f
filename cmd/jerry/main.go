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
// list, ready, blocked, search, initiative list, log's filters and show's
// "blocks" answer from the indexed read model (tracker/board; see
// boardPath: DIR/readmodels/board.db beside a file store, a local cache
// file for PostgreSQL), brought up to date from its position before each
// answer, --as-of included. rebuild recreates it from the first event.
// log --follow streams new events until SIGINT or SIGTERM.
//
// This package is a face: it parses flags, calls the use cases of
// tracker/app, and prints. Each command family has its file (items.go,
// planning.go, initiatives.go, log.go, admin.go, dev.go) with one small
// constructor per subcommand; emit is the one place that prints JSON or
// text, text.go makes the text safe for a terminal, and app.Explain gives
// every error its code, message, fields and exit code.
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
	"syscall"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// Exit codes: app.Class.ExitCode gives them for errors (TestExitCodes
// holds the two together).
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
		err = app.Usage(err)
	}
	if !c.jsonOut {
		// A flag error stops parsing before --json is read.
		c.jsonOut = wantsJSON(args)
	}
	return c.printError(err)
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
	// turns makes the service's writes to one item take turns (jerry
	// serve: its requests would otherwise race each other).
	turns bool

	// where says which store the command uses and why, once known.
	where where

	st  store
	svc *app.Service
}

func (c *cli) close() {
	if c.svc != nil {
		c.svc.Close()
	}
	if c.st != nil {
		c.st.Close()
	}
}

// service opens the store (once) and returns the service over it. For a
// command that only reads (readOnly), a file store that does not exist is
// not created: the command answers from an empty store in memory.
func (c *cli) service(ctx context.Context, readOnly bool) (*app.Service, error) {
	if c.svc != nil {
		return c.svc, nil
	}
	w, err := locate(c.storeFlag)
	if err != nil {
		return nil, err
	}
	c.where = w
	url := w.store
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
	lease, err := defaultLease(w.config)
	if err != nil {
		return nil, err
	}
	opts := []app.Option{app.WithStrategy(strategy), app.WithLease(lease)}
	if c.turns {
		opts = append(opts, app.WithTurns())
	}
	opts = append(opts, app.WithBoardNotes(func(msg string) { fmt.Fprintln(c.errOut, "jerry: "+msg) }))
	if path, err := boardPath(st, url); err != nil {
		return nil, err
	} else if path != "" {
		opts = append(opts, app.WithBoard(path))
	}
	c.svc = app.New(st, st, st, opts...)
	return c.svc, nil
}

// defaultLease reads how long a claim holds after its holder's last write
// when a command names no --lease: $JERRY_LEASE, else the project config's
// lease, else 2h.
func defaultLease(cfg config) (time.Duration, error) {
	v := os.Getenv("JERRY_LEASE")
	if v == "" {
		if cfg.lease > 0 {
			return cfg.lease, nil
		}
		return tracker.DefaultLease, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, app.Usagef("JERRY_LEASE=%q: want a duration such as 30m or 2h", v)
	}
	return d, nil
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
			return nil, app.Usagef("JERRY_SNAPSHOT_EVERY=%q: want a number of events, 0 for never", v)
		}
		every = n
	}
	if v := os.Getenv("JERRY_SNAPSHOT_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, app.Usagef("JERRY_SNAPSHOT_AFTER=%q: want a duration like 24h, 0 for never", v)
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
