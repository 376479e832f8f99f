package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/jerry-es/jerry/tracker/app"
)

// The log command: the global log, once or followed.

func (c *cli) logCmd() *cobra.Command {
	var from int64
	var limit int
	var follow bool
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show the global log of events in commit order",
		Long: `Show every event in the store in commit order, from --from (a log position).
With --json, one record per line. With --follow, keep going as new events
commit, until interrupted.`,
		Args: args(0, 0, "no arguments"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		if from < 1 {
			return app.Usagef("--from %d: positions start at 1", from)
		}
		if limit < 0 {
			return app.Usagef("--limit %d: want 0 (all) or more", limit)
		}
		seq := s.Log(ctx, from)
		if follow {
			// Ends, without an error, when SIGINT or SIGTERM cancel ctx.
			seq = s.Follow(ctx, from)
		}
		n := 0
		for rec, err := range seq {
			if err != nil {
				return err
			}
			if err := c.emit(func() any { return logView(rec) }, func(w io.Writer) { printLogRecord(w, rec, s.Describe(rec)) }); err != nil {
				return err
			}
			if follow {
				c.flush()
			}
			if n++; limit > 0 && n >= limit {
				break
			}
		}
		return nil
	})
	cmd.Flags().Int64Var(&from, "from", 1, "first log position to show")
	cmd.Flags().IntVar(&limit, "limit", 0, "show at most N events (0: all)")
	cmd.Flags().BoolVar(&follow, "follow", false, "keep showing new events as they commit")
	return cmd
}
