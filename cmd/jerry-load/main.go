// Command jerry-load measures jerry serve under load on loopback, beside
// the jerry command doing the same writes in the same run, and prints a
// table.
//
// It starts the jerry binary given by -jerry as `jerry serve` on a fresh
// file store, seeds it with work items, and for each number of concurrent
// clients (-clients, default 8,32,128) measures reads (GET /api/items/ID)
// and writes (POST /api/items/ID/comments, one event each) for -duration:
// requests per second and the p50 and p99 latency of one request. Beside
// them it measures the same comment written by jerry processes, one at a
// time and 8 at once, on the same store. With a PostgreSQL connection
// string (-postgres, else $JERRY_TEST_POSTGRES) it also measures, on a
// fresh schema, the server's writes per second with 8 concurrent writer
// clients, 8 separate jerry processes writing in a loop, and raw appends
// of one event by 8 goroutines straight to the store, and prints the
// ratios. Every cell runs -rounds times, round by round (so that a noisy
// moment of a shared machine hits one run of many cells), and the table
// shows medians.
//
//	go build -o /tmp/jerry ./cmd/jerry
//	go run ./cmd/jerry-load -jerry /tmp/jerry
//	go run ./cmd/jerry-load -jerry /tmp/jerry -clients 8 -duration 1s -rounds 1
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is what one run measures.
type config struct {
	jerry    string
	clients  []int
	duration time.Duration
	rounds   int
	items    int
	dsn      string
	dir      string
	progress io.Writer
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("jerry-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		jerry    = fs.String("jerry", "jerry", "the jerry binary to run")
		clients  = fs.String("clients", "8,32,128", "comma-separated numbers of concurrent clients")
		duration = fs.Duration("duration", 3*time.Second, "how long each measurement runs")
		rounds   = fs.Int("rounds", 3, "runs per cell; the table shows medians")
		items    = fs.Int("items", 200, "work items to seed; writes and reads pick one at random")
		dsn      = fs.String("postgres", os.Getenv("JERRY_TEST_POSTGRES"), "PostgreSQL connection string for the PostgreSQL comparison (default $JERRY_TEST_POSTGRES; empty skips it)")
		dir      = fs.String("dir", os.TempDir(), "where the file store lives")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// Progress goes to stderr from this program and from the jerry serve
	// processes it starts: one writer at a time.
	cfg := config{jerry: *jerry, duration: *duration, rounds: *rounds, items: *items, dsn: *dsn, dir: *dir, progress: &lockedWriter{w: stderr}}
	for _, s := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(stderr, "jerry-load: -clients %q: want numbers of 1 or more\n", *clients)
			return 2
		}
		cfg.clients = append(cfg.clients, n)
	}
	if cfg.rounds < 1 || cfg.duration <= 0 || cfg.items < 1 {
		fmt.Fprintln(stderr, "jerry-load: -rounds, -duration and -items must be positive")
		return 2
	}
	rep, err := measureAll(ctx, cfg)
	if rep != nil {
		rep.print(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "jerry-load:", err)
		return 1
	}
	return 0
}

// lockedWriter lets goroutines share a writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
