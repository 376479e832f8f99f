package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/jerry-es/jerry/es/estest"
)

// TestBenchMemstore runs the command's core on memstore with a few
// iterations per cell, twice, and checks that the report has a row for every
// workload and every machine limit, with numbers that are positive and
// finite where they must be. It asserts nothing about speed.
func TestBenchMemstore(t *testing.T) {
	var progress bytes.Buffer
	rep, err := bench(context.Background(), options{
		adapters:  []string{"memstore"},
		benchtime: "1x",
		count:     2,
		dir:       t.TempDir(),
		progress:  &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range limits {
		want = append(want, "machine "+l.name)
	}
	for _, w := range estest.Workloads(estest.Config{}) {
		want = append(want, "memstore "+w.Name)
	}
	if len(rep.Cells) != len(want) {
		t.Errorf("%d cells, want %d", len(rep.Cells), len(want))
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	latency := map[string]bool{"Append1": true, "Append100": true, "Concurrent8": true,
		"Rehydrate10k/Replay": true, "Rehydrate10k/Snapshot100": true, "Rehydrate10k/Snapshot100Tail99": true,
		limitSync1: true, limitSync100: true}
	for i, c := range rep.Cells {
		name := c.Adapter + " " + c.Workload
		if i < len(want) && name != want[i] {
			t.Errorf("cell %d is %s, want %s", i, name, want[i])
		}
		if c.Status != "ok" {
			t.Errorf("%s: status %s (%s)", name, c.Status, c.Error)
			continue
		}
		if len(c.Runs) != 2 {
			t.Errorf("%s: %d runs, want 2", name, len(c.Runs))
		}
		if c.Workload == "Rehydrate10k/Ratios" {
			// It reports ratios of times only.
			if len(c.Extra) != 3 {
				t.Errorf("%s: extra metrics %v, want 3 ratios", name, c.Extra)
			}
			for k, v := range c.Extra {
				if !finite(v) || v <= 0 {
					t.Errorf("%s: %s = %v", name, k, v)
				}
			}
			continue
		}
		if !finite(c.Rate) || c.Rate <= 0 {
			t.Errorf("%s: rate %v", name, c.Rate)
		}
		if !finite(c.Allocs) || c.Allocs < 0 {
			t.Errorf("%s: allocs/%s %v", name, c.Unit, c.Allocs)
		}
		if latency[c.Workload] != (c.P50 > 0) {
			t.Errorf("%s: p50 %v; latency expected: %v", name, c.P50, latency[c.Workload])
		}
		if !finite(c.P99) || c.P99 < c.P50 {
			t.Errorf("%s: p50 %v, p99 %v", name, c.P50, c.P99)
		}
		if (c.Limit != "") != (c.Ratio > 0) || !finite(c.Ratio) {
			t.Errorf("%s: ratio %v to limit %q", name, c.Ratio, c.Limit)
		}
	}
	for _, w := range []string{"Rehydrate10k/Replay", "Rehydrate10k/DecodeTyped"} {
		if c := cell(rep, "memstore", w); c == nil || c.Limit != limitDecode {
			t.Errorf("%s on memstore is not compared with %s: %+v", w, limitDecode, c)
		}
	}

	var table bytes.Buffer
	if err := writeTable(&table, rep); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(table.String(), "\n")
	for _, w := range want {
		adapter, workload, _ := strings.Cut(w, " ")
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, workload+" ") && strings.Contains(l, " "+adapter+" ") {
				found = true
			}
		}
		if !found {
			t.Errorf("table has no row for %s:\n%s", w, table.String())
		}
	}
	var js bytes.Buffer
	if err := writeJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Cells) != len(rep.Cells) {
		t.Errorf("JSON report: %d cells, %v", len(back.Cells), err)
	}
	if n := strings.Count(progress.String(), "\n"); n != 1+2*len(want) {
		t.Errorf("%d progress lines, want %d", n, 1+2*len(want))
	}
}

func cell(rep *Report, adapter, workload string) *Cell {
	for _, c := range rep.Cells {
		if c.Adapter == adapter && c.Workload == workload {
			return c
		}
	}
	return nil
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-adapters", "sqlite"},
		{"-workloads", "("},
		{"-count", "0"},
		{"-benchtime", "soon"},
		{"extra"},
	} {
		if code := run(context.Background(), append(args, "-dir", t.TempDir()), io.Discard, io.Discard); code != 2 {
			t.Errorf("jerry-bench %q: exit %d, want 2", args, code)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
}

func TestSampleEventSize(t *testing.T) {
	ev := sampleEvent()
	b, err := json.Marshal(&ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 270 || len(b) > 330 {
		t.Errorf("sample event is %d bytes, want about 300: %s", len(b), b)
	}
}
