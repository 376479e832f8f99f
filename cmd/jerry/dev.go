package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jerry-es/jerry/tracker/app"
	"github.com/spf13/cobra"
)

// devCmd holds tools for developing jerry; hidden from help.
func (c *cli) devCmd() *cobra.Command {
	dev := &cobra.Command{Use: "dev", Short: "Tools for developing jerry", Hidden: true, Args: noSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	var items, events int
	var seed uint64
	var until string
	var step time.Duration
	seedCmd := &cobra.Command{
		Use:   "seed",
		Short: "Fill the store with generated work items, for benchmarks",
		Args:  args(0, 0, "no arguments"),
	}
	creates(seedCmd)
	seedCmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		start := time.Now()
		var progress app.ProgressFunc
		if isTerminal(c.errOut) {
			progress = func(done, total int64) { fmt.Fprintf(c.errOut, "\rseeding: %d / %d items", done, total) }
		}
		o := app.SeedOptions{Items: items, Events: events, Seed: seed, Step: step}
		if until != "" {
			t, err := parseTimeFlag(cmd, "until", until)
			if err != nil {
				return err
			}
			o.End = t
		}
		err := s.SeedWith(ctx, o, progress)
		if progress != nil {
			fmt.Fprintln(c.errOut)
		}
		if err != nil {
			return err
		}
		last, err := c.st.LastPosition(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "seeded %d work items; the log holds %d events (%v)\n", items, last, time.Since(start).Round(time.Millisecond))
		return nil
	})
	f := seedCmd.Flags()
	f.IntVar(&items, "items", 10000, "work items to create")
	f.IntVar(&events, "events", 100000, "events to record in all")
	f.Uint64Var(&seed, "seed", 1, "random seed")
	f.StringVar(&until, "until", "", "date the events as a history ending at this TIME, --step apart (default: now, as written)")
	f.DurationVar(&step, "step", 36*time.Second, "time between two seeded events, with --until")
	dev.AddCommand(seedCmd)
	return dev
}
