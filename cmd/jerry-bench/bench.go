package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es/estest"
)

// options are what one run measures and how.
type options struct {
	adapters  []string       // names, in the table's order
	workloads *regexp.Regexp // selects estest workloads by name
	benchtime string         // as go test -benchtime: "1s", "100x"
	count     int            // runs per cell; the table shows medians
	dir       string         // where file stores and the fsync file live
	dsn       string         // PostgreSQL, for the postgres adapter
	progress  io.Writer      // one line per measurement
}

// Report is the command's result: one cell per (workload, adapter), the
// machine's limits first.
type Report struct {
	Started   time.Time `json:"started"`
	GoVersion string    `json:"go_version"`
	OS        string    `json:"os"`
	Arch      string    `json:"arch"`
	CPUs      int       `json:"cpus"`
	Benchtime string    `json:"benchtime"`
	Count     int       `json:"count"`
	Dir       string    `json:"dir"`
	Cells     []*Cell   `json:"cells"`
}

// Cell is one workload on one adapter (or one machine limit), with the
// median of each metric over its runs.
type Cell struct {
	Workload string `json:"workload"`
	Adapter  string `json:"adapter"` // "machine" for the limits
	// Unit is what Rate counts: events, syncs or records.
	Unit string `json:"unit"`
	// Rate is the median of Unit per second; 0 for a workload that
	// reports ratios only.
	Rate float64 `json:"rate_per_s"`
	// P50 and P99 are medians of each run's latency percentiles of one
	// operation, in nanoseconds; 0 where the workload does not time
	// single operations.
	P50 float64 `json:"p50_ns,omitempty"`
	P99 float64 `json:"p99_ns,omitempty"`
	// Allocs is the median number of heap allocations per Unit.
	Allocs float64 `json:"allocs_per_unit"`
	// Extra holds the medians of the workload's other metrics, such as
	// conflicts/op.
	Extra map[string]float64 `json:"extra,omitempty"`
	// Limit names the machine limit the cell is compared with, and Ratio
	// is the median over rounds of the cell's rate over that limit's rate
	// measured in the same round.
	Limit string  `json:"limit,omitempty"`
	Ratio float64 `json:"ratio,omitempty"`
	// Status is "ok", "skipped" or "failed"; Error says why, when known.
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Runs are the single measurements the medians come from.
	Runs []Run `json:"runs"`
}

// Run is one measurement of a cell.
type Run struct {
	N       int                `json:"n"`
	Seconds float64            `json:"seconds"` // timed part only
	Metrics map[string]float64 `json:"metrics"`
}

// job is one cell's benchmark function.
type job struct {
	cell    *Cell
	rateKey string // the metric that is Rate
	run     func(b *testing.B)
	lastErr *errSlot
	perOp   int // units per operation, for allocations of limits
}

// setBenchtime sets what testing.Benchmark reads as go test's -benchtime.
func setBenchtime(v string) error {
	testing.Init() // registers test.benchtime; idempotent
	if err := flag.CommandLine.Set("test.benchtime", v); err != nil {
		return fmt.Errorf("-benchtime %q: %v", v, err)
	}
	return nil
}

// check reports what in opts makes no run possible.
func (o options) check() error {
	if o.count < 1 {
		return errors.New("-count must be at least 1")
	}
	if len(o.adapters) == 0 {
		return errors.New("no adapters to measure")
	}
	for _, name := range o.adapters {
		switch name {
		case "memstore", "jsonfile":
		case "postgres":
			if o.dsn == "" {
				return fmt.Errorf("adapter postgres needs -postgres or $%s", dsnEnv)
			}
		default:
			return fmt.Errorf("unknown adapter %q (have memstore, jsonfile, postgres)", name)
		}
	}
	return setBenchtime(o.benchtime)
}

// bench measures every selected cell opts.count times, round by round so
// that each cell's runs are spread over the whole run, and returns the
// medians.
func bench(ctx context.Context, opts options) (*Report, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp(opts.dir, "jerry-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)

	adapters := openAdapters(ctx, opts, root)
	// Whatever stops the run (an interrupt, a panic in a workload) must
	// not leave schemas behind.
	defer closeAdapters(adapters)
	stop := context.AfterFunc(ctx, func() {
		closeAdapters(adapters)
		os.RemoveAll(root)
	})
	defer stop()

	rep := newReport(opts)
	jobs := append(limitJobs(root), workloadJobs(opts, adapters)...)
	fmt.Fprintf(opts.progress, "jerry-bench: %d cells × %d runs, -benchtime %s, files in %s\n", len(jobs), opts.count, opts.benchtime, root)
	if err := runRounds(ctx, opts, jobs); err != nil {
		return nil, err
	}
	for _, j := range jobs {
		summarize(j)
		rep.Cells = append(rep.Cells, j.cell)
	}
	setRatios(rep)
	return rep, nil
}

// openAdapters returns the adapters opts names, in its order.
func openAdapters(ctx context.Context, opts options, root string) []*adapter {
	var adapters []*adapter
	for _, name := range opts.adapters {
		var a *adapter
		switch name {
		case "memstore":
			a = memstoreAdapter()
		case "jsonfile":
			a = jsonfileAdapter(root)
		case "postgres":
			sweepSchemas(ctx, opts.dsn)
			a = postgresAdapter(opts.dsn)
		}
		adapters = append(adapters, a)
	}
	return adapters
}

func closeAdapters(adapters []*adapter) {
	for _, a := range adapters {
		a.close()
	}
}

// newReport returns a report of no cells yet, describing the machine and
// opts.
func newReport(opts options) *Report {
	return &Report{
		Started: time.Now().UTC(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), Benchtime: opts.benchtime, Count: opts.count, Dir: opts.dir,
	}
}

// limitJobs returns a job for each machine limit, measured in root.
func limitJobs(root string) []*job {
	var jobs []*job
	for _, l := range limits {
		perOp := 1
		if l.name == limitSync100 {
			perOp = 100
		}
		jobs = append(jobs, &job{
			cell:    &Cell{Workload: l.name, Adapter: "machine", Unit: l.unit},
			rateKey: l.unit + "/s",
			run:     func(b *testing.B) { l.run(b, root) },
			perOp:   perOp,
		})
	}
	return jobs
}

// workloadJobs returns a job for each shared workload opts selects on each
// adapter.
func workloadJobs(opts options, adapters []*adapter) []*job {
	var jobs []*job
	for _, a := range adapters {
		slot := new(errSlot)
		for _, w := range estest.Workloads(a.config(slot)) {
			if opts.workloads != nil && !opts.workloads.MatchString(w.Name) {
				continue
			}
			c := &Cell{Workload: w.Name, Adapter: a.name, Unit: "events"}
			c.Limit = limitOf(a, w.Name)
			jobs = append(jobs, &job{cell: c, rateKey: "events/s", run: w.Run, lastErr: slot})
		}
	}
	return jobs
}

// runRounds measures every job once per round, opts.count rounds, so that
// each cell's runs and its limit's runs are spread alike over the run.
func runRounds(ctx context.Context, opts options, jobs []*job) error {
	t0 := time.Now()
	for round := 1; round <= opts.count; round++ {
		for _, j := range jobs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if j.cell.Status == "failed" || j.cell.Status == "skipped" {
				continue
			}
			start := time.Now()
			measure(j)
			fmt.Fprintf(opts.progress, "[%d/%d %s] %-8s %-31s %s (%.1fs)\n", round, opts.count,
				time.Since(t0).Round(time.Second), j.cell.Adapter, j.cell.Workload, lastRun(j), time.Since(start).Seconds())
		}
	}
	return nil
}

// setRatios sets the Ratio of every cell that has a limit: the median over
// rounds of the cell's rate over its limit's rate in the same round, so
// that a busy moment of the machine slows both sides of a ratio alike.
func setRatios(rep *Report) {
	for _, c := range rep.Cells {
		if c.Limit == "" || c.Status != "ok" {
			continue
		}
		for _, l := range rep.Cells {
			if l.Adapter != "machine" || l.Workload != c.Limit || l.Status != "ok" {
				continue
			}
			var ratios []float64
			for r := 0; r < min(len(c.Runs), len(l.Runs)); r++ {
				cr, lr := c.Runs[r].Metrics["events/s"], l.Runs[r].Metrics[l.Unit+"/s"]
				if cr > 0 && lr > 0 {
					ratios = append(ratios, cr/lr)
				}
			}
			if len(ratios) > 0 {
				c.Ratio = median(ratios)
			}
		}
	}
}

// limitOf names the machine limit that workload on a is measured against,
// or "" if none bounds it: a durable store's append must wait for a sync,
// and a store that keeps JSON must decode it.
func limitOf(a *adapter, workload string) string {
	switch {
	case a.durable && (workload == "Append1" || workload == "Concurrent8"):
		return limitSync1
	case a.durable && workload == "Append100":
		return limitSync100
	case a.decodesJSON && strings.HasPrefix(workload, "Read"):
		return limitDecode
	case workload == "Rehydrate10k/Replay" || workload == "Rehydrate10k/DecodeRegistry" || workload == "Rehydrate10k/DecodeTyped":
		// Every event replayed is decoded from JSON with encoding/json.
		return limitDecode
	}
	return ""
}

// measure runs j's benchmark once with testing.Benchmark and appends the
// run to its cell, or marks the cell skipped or failed.
func measure(j *job) {
	var failed, skipped bool
	var mu sync.Mutex
	res := testing.Benchmark(func(b *testing.B) {
		// Deferred calls run on b.Fatal and b.Skip too.
		defer func() {
			mu.Lock()
			failed, skipped = b.Failed(), b.Skipped()
			mu.Unlock()
		}()
		j.run(b)
	})
	mu.Lock()
	defer mu.Unlock()
	c := j.cell
	switch {
	case failed || (res.N == 0 && !skipped):
		c.Status = "failed"
		c.Error = "the benchmark failed; run it under go test -bench for its log"
		if j.lastErr != nil {
			if err := j.lastErr.take(); err != nil {
				c.Error = err.Error()
			}
		}
		return
	case skipped:
		c.Status = "skipped"
		c.Error = "the store lacks what the workload needs"
		return
	}
	m := map[string]float64{}
	for k, v := range res.Extra {
		m[k] = v
	}
	if _, ok := m["allocs/event"]; !ok && j.perOp > 0 && res.N > 0 {
		m["allocs/"+strings.TrimSuffix(c.Unit, "s")] = float64(res.MemAllocs) / float64(res.N*j.perOp)
	}
	c.Runs = append(c.Runs, Run{N: res.N, Seconds: res.T.Seconds(), Metrics: m})
}

// lastRun describes j's latest run for the progress lines.
func lastRun(j *job) string {
	c := j.cell
	if c.Status != "" {
		return c.Status + ": " + c.Error
	}
	r := c.Runs[len(c.Runs)-1]
	if v, ok := r.Metrics[j.rateKey]; ok {
		return fmt.Sprintf("%s %s/s, n=%d", human(v), c.Unit, r.N)
	}
	return fmt.Sprintf("n=%d", r.N)
}

// summarize sets the cell's medians from its runs.
func summarize(j *job) {
	c := j.cell
	if c.Status != "" {
		return
	}
	c.Status = "ok"
	keys := map[string]bool{}
	for _, r := range c.Runs {
		for k := range r.Metrics {
			keys[k] = true
		}
	}
	for k := range keys {
		var vs []float64
		for _, r := range c.Runs {
			if v, ok := r.Metrics[k]; ok {
				vs = append(vs, v)
			}
		}
		v := median(vs)
		switch {
		case k == j.rateKey:
			c.Rate = v
		case k == "p50-ns":
			c.P50 = v
		case k == "p99-ns":
			c.P99 = v
		case strings.HasPrefix(k, "allocs/"):
			c.Allocs = v
		default:
			if c.Extra == nil {
				c.Extra = map[string]float64{}
			}
			c.Extra[k] = v
		}
	}
}

// median returns the middle of vs (the mean of the two middles for an even
// count), or NaN for none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}
