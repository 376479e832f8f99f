package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/view"
)

// jerry stats: throughput, cycle time percentiles and work in progress per
// day, as tracker/app computes them (the web board draws the same).

func (c *cli) statsCmd() *cobra.Command {
	var since string
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Throughput, cycle time and work in progress per day",
		Long: `Print the flow of work over the last days: per day (local time), the items
moved to done (throughput) and the items in progress or blocked at the end of
the day (work in progress); and the cycle time of the items done in the window,
from their first move to in_progress to done, as percentiles (p50, p85, p95).
Items done without being started count in throughput, not in cycle time.`,
		Example: `  jerry stats
  jerry stats --since 7d --json
  jerry stats --since 2026-11-01`,
		Args: args(0, 0, "no arguments"),
	}
	cmd.Flags().StringVar(&since, "since", "30d", "start of the window: a number of days (30d), a duration (12h), or a TIME")
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		now := time.Now()
		from, err := parseSince(since, now)
		if err != nil {
			return err
		}
		st, err := s.Stats(ctx, app.StatsQuery{Since: from, Until: now, Location: time.Local})
		if err != nil {
			return err
		}
		return c.emit(func() any { return statsView(st) }, func(w io.Writer) { printStats(w, st) })
	})
	return cmd
}

// parseSince reads --since: "30d" (days before now), a Go duration
// ("12h"), or a TIME as --as-of takes it.
func parseSince(s string, now time.Time) (time.Time, error) {
	in := strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(in, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil {
			if days < 1 || days > 3650 {
				return time.Time{}, usagef("--since %s: want 1d to 3650d", s)
			}
			return now.AddDate(0, 0, -days), nil
		}
	}
	if d, err := time.ParseDuration(in); err == nil {
		if d <= 0 {
			return time.Time{}, usagef("--since %s: want a positive duration", s)
		}
		return now.Add(-d), nil
	}
	t, err := app.ParseTime(in, now)
	if err != nil {
		return time.Time{}, usagef("--since %s: want 30d, 12h or a TIME", s)
	}
	if !t.Before(now) {
		return time.Time{}, usagef("--since %s: the window must start in the past", s)
	}
	return t, nil
}

// statsJSON is the --json shape of jerry stats (docs/json.md "stats").
type statsJSON struct {
	Since      time.Time      `json:"since"`
	Until      time.Time      `json:"until"`
	Throughput int            `json:"throughput"`
	CycleTime  cycleTimeJSON  `json:"cycle_time"`
	Days       []statsDayJSON `json:"days"`
}

type cycleTimeJSON struct {
	Count int      `json:"count"`
	P50   *float64 `json:"p50_seconds,omitempty"`
	P85   *float64 `json:"p85_seconds,omitempty"`
	P95   *float64 `json:"p95_seconds,omitempty"`
}

type statsDayJSON struct {
	Date       string         `json:"date"`
	Throughput int            `json:"throughput"`
	WIP        int            `json:"wip"`
	Statuses   map[string]int `json:"statuses"`
}

func statsView(st app.Stats) statsJSON {
	v := statsJSON{Since: es.Timestamp(st.Since), Until: es.Timestamp(st.Until), Throughput: st.Throughput(),
		CycleTime: cycleTimeJSON{Count: st.CycleTime.Count}, Days: []statsDayJSON{}}
	if st.CycleTime.Count > 0 {
		secs := func(d time.Duration) *float64 { f := d.Seconds(); return &f }
		v.CycleTime.P50, v.CycleTime.P85, v.CycleTime.P95 = secs(st.CycleTime.P50), secs(st.CycleTime.P85), secs(st.CycleTime.P95)
	}
	for _, d := range st.Days {
		counts := make(map[string]int, len(tracker.Statuses))
		for _, s := range tracker.Statuses {
			counts[string(s)] = d.Counts[s]
		}
		v.Days = append(v.Days, statsDayJSON{Date: d.Day.Format(time.DateOnly), Throughput: d.Throughput, WIP: d.WIP, Statuses: counts})
	}
	return v
}

func printStats(w io.Writer, st app.Stats) {
	fmt.Fprintf(w, "from %s to %s (%d days)\n", st.Since.Local().Format("2006-01-02 15:04"), st.Until.Local().Format("2006-01-02 15:04"), len(st.Days))
	fmt.Fprintf(w, "throughput: %d done (%.1f a day)\n", st.Throughput(), float64(st.Throughput())/float64(max(len(st.Days), 1)))
	if p := st.CycleTime; p.Count > 0 {
		fmt.Fprintf(w, "cycle time (%d started and done): p50 %s, p85 %s, p95 %s\n", p.Count, view.Span(p.P50), view.Span(p.P85), view.Span(p.P95))
	} else {
		fmt.Fprintln(w, "cycle time: no item started and done in the window")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "DATE\tDONE\tWIP\t")
	for _, d := range st.Days {
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", d.Day.Format(time.DateOnly), d.Throughput, d.WIP)
	}
	tw.Flush()
}
