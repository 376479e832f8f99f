package main

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/board"
)

// The log command: the activity feed, or the global log followed live.

func (c *cli) logCmd() *cobra.Command {
	var from int64
	var limit int
	var follow, all, reverse bool
	var since, until string
	var items, actors, types []string
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show what changed: the events of the store, filtered",
		Long: `Show the events of the store in commit order: what changed, when and who did
it. Bookkeeping (ID counters, dependency reservations) is hidden unless --all.
--since and --until take the times --as-of takes; --limit N shows the first N,
and with --reverse (newest first) the last N. With --json, one record per line. With
--follow, show every event from --from on and keep going as new ones commit,
until interrupted.`,
		Example: `  jerry log --since yesterday
  jerry log --item J-12 --by alice
  jerry log --type workitem.commented --limit 20 --reverse`,
		Args: args(0, 0, "no arguments"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		if from < 1 {
			return app.Usagef("--from %d: positions start at 1", from)
		}
		if limit < 0 {
			return app.Usagef("--limit %d: want 0 (all) or more", limit)
		}
		if follow {
			n := 0
			// Ends, without an error, when SIGINT or SIGTERM cancel ctx.
			for rec, err := range s.Follow(ctx, from) {
				if err != nil {
					return err
				}
				if err := c.emit(func() any { return logView(rec) }, func(w io.Writer) { printLogRecord(w, rec, s.Describe(rec)) }); err != nil {
					return err
				}
				c.flush()
				if n++; limit > 0 && n >= limit {
					break
				}
			}
			return nil
		}
		q := board.FeedQuery{From: from, All: all, Limit: limit, Reverse: reverse, Actors: actors}
		var err error
		if q.Since, err = parseTimeFlag(cmd, "since", since); err != nil {
			return err
		}
		if q.Until, err = parseTimeFlag(cmd, "until", until); err != nil {
			return err
		}
		for _, it := range items {
			q.Items = append(q.Items, strings.TrimSpace(it))
		}
		for _, t := range types {
			q.Types = append(q.Types, strings.TrimSpace(t))
		}
		recs, err := s.FeedRecords(ctx, q)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if err := c.emit(func() any { return logView(rec) }, func(w io.Writer) { printLogRecord(w, rec, s.Describe(rec)) }); err != nil {
				return err
			}
		}
		return nil
	})
	fl := cmd.Flags()
	fl.Int64Var(&from, "from", 1, "first log position to show")
	fl.IntVar(&limit, "limit", 0, "show at most N events: the first N, or with --reverse the last N (0: all)")
	fl.BoolVar(&follow, "follow", false, "show every event and keep showing new ones as they commit")
	fl.StringVar(&since, "since", "", "only events recorded at or after this time")
	fl.StringVar(&until, "until", "", "only events recorded at or before this time")
	fl.StringSliceVar(&items, "item", nil, "only events of these work items or initiatives")
	fl.StringSliceVar(&actors, "by", nil, "only events recorded by these actors")
	fl.StringSliceVar(&types, "type", nil, `only events of these types ("workitem.commented"; "initiative" for all of its)`)
	fl.BoolVar(&all, "all", false, "include bookkeeping: ID counters and dependency reservations")
	fl.BoolVar(&reverse, "reverse", false, "newest first")
	return cmd
}

// parseTimeFlag reads the time flag name, if it was given, as --as-of
// does.
func parseTimeFlag(cmd *cobra.Command, name, v string) (time.Time, error) {
	if !cmd.Flags().Changed(name) {
		return time.Time{}, nil
	}
	t, err := app.ParseTime(v, time.Now())
	if err != nil {
		return t, app.Usagef("--%s: %v", name, err)
	}
	return t, nil
}
