// Command jerry-bench measures every event store adapter on the same
// workloads, with the machine's limits measured in the same run beside
// them, and prints a table: events per second, latency percentiles of one
// operation, allocations per event, and each rate's ratio to the limit
// that bounds it (a durable append against the raw write+fdatasync rate,
// a replay against encoding/json's decode rate).
//
// The workloads are the shared benchmarks of package es/estest
// ([estest.Workloads]), run with testing.Benchmark exactly as go test
// -bench runs them; the adapters are memstore, jsonfile (durable, in a
// temporary directory under -dir) and, given a connection string by
// -postgres or $JERRY_TEST_POSTGRES, postgres (each store in a schema of
// its own, dropped after). Each cell runs -count times, round by round, so
// that a noisy moment of a shared machine hits one run of many cells rather
// than every run of one; the table shows medians. Progress goes to stderr,
// the table (or, with -json, the full report with every run) to stdout.
//
//	go run ./cmd/jerry-bench                         # everything, median of 3
//	go run ./cmd/jerry-bench -adapters jsonfile -workloads 'Append|Concurrent'
//	go run ./cmd/jerry-bench -json > bench.json
//
// Compare figures as ratios within one run: absolute rates move with the
// machine's load.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
)

// dsnEnv names the environment variable that gives the PostgreSQL
// connection string when -postgres does not, as in the tests.
const dsnEnv = "JERRY_TEST_POSTGRES"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command with args and returns its exit code: 0 if every
// cell was measured or skipped, 1 if one failed or the run did, 2 on bad
// usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("jerry-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		adapters  = fs.String("adapters", "", "comma-separated adapters to measure: memstore, jsonfile, postgres (default: memstore,jsonfile, and postgres when a DSN is given)")
		workloads = fs.String("workloads", "", "regular expression selecting workloads by name, e.g. 'Append|Replay' (default: all; the machine's limits are always measured)")
		benchtime = fs.String("benchtime", "1s", "time (or Nx iterations) per measurement, as go test -benchtime")
		count     = fs.Int("count", 3, "runs per cell; the table shows their median")
		asJSON    = fs.Bool("json", false, "write the report as JSON, with every run, instead of the table")
		dsn       = fs.String("postgres", "", "PostgreSQL connection string for the postgres adapter (default $"+dsnEnv+")")
		dir       = fs.String("dir", os.TempDir(), "directory for the file stores and the fdatasync measurement: put it on the disk you care about")
	)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: jerry-bench [flags]\n\nMeasures every event store adapter on the shared workloads of es/estest beside the machine's limits.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "jerry-bench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	opts := options{benchtime: *benchtime, count: *count, dir: *dir, dsn: *dsn, progress: stderr}
	if opts.dsn == "" {
		opts.dsn = os.Getenv(dsnEnv)
	}
	if *adapters == "" {
		opts.adapters = []string{"memstore", "jsonfile"}
		if opts.dsn != "" {
			opts.adapters = append(opts.adapters, "postgres")
		}
	} else {
		for _, a := range strings.Split(*adapters, ",") {
			if a = strings.TrimSpace(a); a != "" {
				opts.adapters = append(opts.adapters, a)
			}
		}
	}
	if *workloads != "" {
		re, err := regexp.Compile(*workloads)
		if err != nil {
			fmt.Fprintf(stderr, "jerry-bench: -workloads: %v\n", err)
			return 2
		}
		opts.workloads = re
	}
	if err := opts.check(); err != nil {
		fmt.Fprintf(stderr, "jerry-bench: %v\n", err)
		return 2
	}
	rep, err := bench(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			err = errors.New("interrupted; temporary files and schemas removed")
		}
		fmt.Fprintf(stderr, "jerry-bench: %v\n", err)
		return 1
	}
	if *asJSON {
		err = writeJSON(stdout, rep)
	} else {
		err = writeTable(stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "jerry-bench: %v\n", err)
		return 1
	}
	for _, c := range rep.Cells {
		if c.Status == "failed" {
			fmt.Fprintf(stderr, "jerry-bench: %s on %s failed: %s\n", c.Workload, c.Adapter, c.Error)
			return 1
		}
	}
	return 0
}
