package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// writeJSON writes rep as indented JSON.
func writeJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// writeTable writes rep as an aligned text table, one row per cell.
func writeTable(w io.Writer, rep *Report) error {
	fmt.Fprintf(w, "jerry-bench %s, %s %s/%s, %d CPUs, -benchtime %s, median of %d runs\n\n",
		rep.Started.Format(time.RFC3339), rep.GoVersion, rep.OS, rep.Arch, rep.CPUs, rep.Benchtime, rep.Count)
	rows := [][]string{{"workload", "adapter", "rate/s", "unit", "p50", "p99", "allocs/unit", "vs limit", "other"}}
	for _, c := range rep.Cells {
		row := []string{c.Workload, c.Adapter, "", c.Unit, "", "", "", "", ""}
		if c.Status != "ok" {
			row[2], row[8] = c.Status, c.Error
			rows = append(rows, row)
			continue
		}
		if c.Rate > 0 {
			row[2] = human(c.Rate)
			row[6] = fmt.Sprintf("%.3g", c.Allocs)
		} else {
			row[2], row[3] = "-", ""
		}
		if c.P50 > 0 {
			row[4], row[5] = duration(c.P50), duration(c.P99)
		}
		if c.Ratio > 0 {
			row[7] = sig3(c.Ratio) + "× " + c.Limit
		}
		var extra []string
		for _, k := range slices.Sorted(maps.Keys(c.Extra)) {
			extra = append(extra, fmt.Sprintf("%s=%.3g", k, c.Extra[k]))
		}
		row[8] = strings.Join(extra, " ")
		rows = append(rows, row)
	}
	// Names and text to the left, numbers to the right.
	right := []bool{false, false, true, false, true, true, true, false, false}
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, s := range r {
			width[i] = max(width[i], len([]rune(s)))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, s := range r {
			pad := strings.Repeat(" ", width[i]-len([]rune(s)))
			if i > 0 {
				b.WriteString("  ")
			}
			if right[i] {
				b.WriteString(pad + s)
			} else {
				b.WriteString(s + pad)
			}
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(b.String(), " ")); err != nil {
			return err
		}
	}
	_, err := fmt.Fprint(w, `
rate/s: median over the runs; p50, p99: median of each run's percentiles of one
operation's latency (one append call, one retried append, one aggregate load, one
write+fdatasync); allocs/unit: heap allocations per event (sync, record); vs limit:
rate over the machine limit's rate measured in this run.
`)
	return err
}

// human formats a rate with three significant digits and a k/M/G suffix.
func human(v float64) string {
	for _, u := range []struct {
		scale  float64
		suffix string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if math.Abs(v) >= u.scale {
			return sig3(v/u.scale) + u.suffix
		}
	}
	return sig3(v)
}

// duration formats nanoseconds with three significant digits.
func duration(ns float64) string {
	for _, u := range []struct {
		scale  float64
		suffix string
	}{{1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}} {
		if ns >= u.scale {
			return sig3(ns/u.scale) + u.suffix
		}
	}
	return sig3(ns) + "ns"
}

// sig3 formats v with three significant digits in plain notation (never
// 1e+03), rounding the fraction away above 100.
func sig3(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
