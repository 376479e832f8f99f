package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/postgres"
)

// sample is one measurement of a cell.
type sample struct {
	ops, errs int
	elapsed   time.Duration
	lat       []time.Duration // of every operation
	firstErr  error
}

func (s sample) rate() float64 { return float64(s.ops) / s.elapsed.Seconds() }

func (s sample) pct(p float64) time.Duration {
	if len(s.lat) == 0 {
		return 0
	}
	return s.lat[min(len(s.lat)-1, int(math.Ceil(p*float64(len(s.lat))))-1)]
}

// cell is one thing measured, on one store, with one number of clients.
type cell struct {
	store, name string
	clients     int
	op          func(ctx context.Context, rng *mrand.Rand) error
	runs        []sample
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	slices.Sort(vs)
	if n := len(vs); n%2 == 1 {
		return vs[n/2]
	} else {
		return (vs[n/2-1] + vs[n/2]) / 2
	}
}

func (c *cell) stat(f func(sample) float64) float64 {
	var vs []float64
	for _, s := range c.runs {
		vs = append(vs, f(s))
	}
	return median(vs)
}

func (c *cell) rate() float64 { return c.stat(sample.rate) }

// measure runs c.op from c.clients goroutines for d.
func (c *cell) measure(ctx context.Context, d time.Duration) sample {
	var (
		mu  sync.Mutex
		all sample
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for g := range c.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(g), uint64(start.UnixNano())))
			var mine sample
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				err := c.op(ctx, rng)
				if err != nil {
					mine.errs++
					if mine.firstErr == nil {
						mine.firstErr = err
					}
					continue
				}
				mine.ops++
				mine.lat = append(mine.lat, time.Since(t0))
			}
			mu.Lock()
			all.ops += mine.ops
			all.errs += mine.errs
			all.lat = append(all.lat, mine.lat...)
			if all.firstErr == nil {
				all.firstErr = mine.firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	all.elapsed = time.Since(start)
	slices.Sort(all.lat)
	return all
}

// report is what a run found.
type report struct {
	cells  []*cell
	ratios []string
}

func (r *report) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "store\twhat\tclients\tops/s\tp50\tp99\terrors\t")
	for _, c := range r.cells {
		errs := c.stat(func(s sample) float64 { return float64(s.errs) })
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%s\t%s\t%.0f\t\n", c.store, c.name, c.clients, c.rate(),
			ms(c.stat(func(s sample) float64 { return float64(s.pct(0.50)) })),
			ms(c.stat(func(s sample) float64 { return float64(s.pct(0.99)) })), errs)
	}
	tw.Flush()
	for _, l := range r.ratios {
		fmt.Fprintln(w, l)
	}
}

func ms(ns float64) string { return fmt.Sprintf("%.2fms", ns/1e6) }

// measureAll measures every cell, round by round.
func measureAll(ctx context.Context, cfg config) (*report, error) {
	dir, err := os.MkdirTemp(cfg.dir, "jerry-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	defer runCleanups()
	rep := &report{}
	fileURL := "file:" + filepath.Join(dir, "store")
	srv, err := startServer(ctx, cfg, fileURL, dir)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	if err := srv.seed(ctx, cfg.items); err != nil {
		return nil, err
	}
	for _, n := range cfg.clients {
		rep.cells = append(rep.cells,
			&cell{store: "file", name: "server read", clients: n, op: srv.read(cfg.items)},
			&cell{store: "file", name: "server write", clients: n, op: srv.write(cfg.items)})
	}
	rep.cells = append(rep.cells,
		&cell{store: "file", name: "jerry process write", clients: 1, op: cliWrite(cfg, fileURL, dir)},
		&cell{store: "file", name: "jerry process write", clients: 8, op: cliWrite(cfg, fileURL, dir)})
	var pg []*cell
	if cfg.dsn != "" {
		pg, err = postgresCells(ctx, cfg, dir)
		if err != nil {
			return nil, err
		}
		rep.cells = append(rep.cells, pg...)
	}
	for round := range cfg.rounds {
		for _, c := range rep.cells {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			s := c.measure(ctx, cfg.duration)
			c.runs = append(c.runs, s)
			fmt.Fprintf(cfg.progress, "round %d: %s %s x%d: %.0f ops/s, %d errors\n", round+1, c.store, c.name, c.clients, s.rate(), s.errs)
			if s.firstErr != nil {
				fmt.Fprintf(cfg.progress, "  first error: %v\n", s.firstErr)
			}
		}
	}
	rep.ratios = ratios(rep.cells)
	return rep, nil
}

// ratios compares the server's writes with the jerry processes' and, on
// PostgreSQL, with raw appends: the median over rounds of the ratio of
// the two rates measured in the same round, so that a round slowed down by
// the machine's other work slows both sides of its ratio.
func ratios(cells []*cell) []string {
	find := func(store, name string, clients int) *cell {
		for _, c := range cells {
			if c.store == store && c.name == name && c.clients == clients {
				return c
			}
		}
		return nil
	}
	ratio := func(a, b *cell) float64 {
		var rs []float64
		for i := range min(len(a.runs), len(b.runs)) {
			rs = append(rs, a.runs[i].rate()/b.runs[i].rate())
		}
		return median(rs)
	}
	var out []string
	cli1, cli8 := find("file", "jerry process write", 1), find("file", "jerry process write", 8)
	for _, c := range cells {
		if c.store == "file" && c.name == "server write" && cli1 != nil && cli8 != nil {
			out = append(out, fmt.Sprintf("file: server writes x%d / one jerry process: %.1fx; / 8 jerry processes: %.1fx",
				c.clients, ratio(c, cli1), ratio(c, cli8)))
		}
	}
	srv, procs, raw := find("postgres", "server write", 8), find("postgres", "jerry process write", 8), find("postgres", "raw append", 8)
	if srv != nil && procs != nil && raw != nil {
		out = append(out, fmt.Sprintf("postgres, 8 writers: server / raw = %.2f; 8 jerry processes / raw = %.2f; server / 8 jerry processes = %.1fx",
			ratio(srv, raw), ratio(procs, raw), ratio(srv, procs)))
	}
	if len(out) > 0 {
		out = append([]string{"ratios: medians over rounds of each round's ratio"}, out...)
	}
	return out
}

// cliWrite is the write the server's write cell makes, by a jerry process.
func cliWrite(cfg config, store, dir string) func(context.Context, *mrand.Rand) error {
	return func(ctx context.Context, rng *mrand.Rand) error {
		id := fmt.Sprintf("J-%d", 1+rng.IntN(cfg.items))
		cmd := exec.CommandContext(ctx, cfg.jerry, "comment", id, "load from a process")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "JERRY_STORE="+store, "JERRY_ACTOR=load")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("jerry comment %s: %v: %s", id, err, out)
		}
		return nil
	}
}

// postgresCells sets up the PostgreSQL comparison: a server and jerry
// processes on one fresh schema, raw appends on another.
func postgresCells(ctx context.Context, cfg config, dir string) ([]*cell, error) {
	schema := func() string {
		var b [4]byte
		rand.Read(b[:])
		return fmt.Sprintf("jerry_load_%d_%s", time.Now().Unix(), hex.EncodeToString(b[:]))
	}
	jerrySchema, rawSchema := schema(), schema()
	u, err := url.Parse(cfg.dsn)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", jerrySchema)
	u.RawQuery = q.Encode()
	pgURL := u.String()
	srv, err := startServer(ctx, cfg, pgURL, dir)
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, srv.stop, func() { dropSchemas(cfg.dsn, jerrySchema, rawSchema) })
	if err := srv.seed(ctx, cfg.items); err != nil {
		return nil, err
	}
	st, err := postgres.Open(ctx, cfg.dsn, postgres.WithSchema(rawSchema))
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func() { st.Close() })
	raw := func(ctx context.Context, rng *mrand.Rand) error {
		stream := fmt.Sprintf("raw-%d", 1+rng.IntN(cfg.items))
		_, err := st.Append(ctx, stream, es.Any, []es.Event{{Type: "load.commented", Data: []byte(`{"text":"load"}`)}})
		return err
	}
	return []*cell{
		{store: "postgres", name: "server write", clients: 8, op: srv.write(cfg.items)},
		{store: "postgres", name: "jerry process write", clients: 8, op: cliWrite(cfg, pgURL, dir)},
		{store: "postgres", name: "raw append", clients: 8, op: raw},
	}, nil
}

// cleanups run when the program ends (see runCleanups).
var cleanups []func()

func runCleanups() {
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
}

func dropSchemas(dsn string, schemas ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	for _, s := range schemas {
		conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{s}.Sanitize()+" CASCADE")
	}
}

var errStatus = errors.New("unexpected status")
