package app_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// day0 is the start of the first day of the windows below, in UTC.
var day0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// at returns day0 plus d days and h hours.
func at(d, h int) time.Time { return day0.Add(time.Duration(d*24+h) * time.Hour) }

func move(item string, t time.Time, to tracker.Status) app.Transition {
	return app.Transition{Item: item, Time: t, To: to, Actor: "ann"}
}

func TestStatusIntervals(t *testing.T) {
	ts := []app.Transition{
		move("J-1", at(0, 1), tracker.Backlog),
		move("J-1", at(0, 5), tracker.InProgress),
		move("J-1", at(0, 3), tracker.Blocked), // time goes backwards: taken as 5h
		move("J-1", at(1, 0), tracker.InProgress),
		move("J-1", at(2, 0), tracker.Done),
		{Item: "J-1", Time: at(3, 0), To: tracker.Backlog, Reopen: true},
	}
	got := app.StatusIntervals(ts)
	want := []app.Interval{
		{tracker.Backlog, at(0, 1), at(0, 5)},
		{tracker.InProgress, at(0, 5), at(0, 5)},
		{tracker.Blocked, at(0, 5), at(1, 0)},
		{tracker.InProgress, at(1, 0), at(2, 0)},
		{tracker.Done, at(2, 0), at(3, 0)},
		{tracker.Backlog, at(3, 0), time.Time{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("intervals\n got %v\nwant %v", got, want)
	}
	if app.StatusIntervals(nil) != nil {
		t.Fatal("no transitions, yet intervals")
	}
}

func TestComputeStats(t *testing.T) {
	ts := []app.Transition{
		// J-1: started day 0 at 10h, done day 2 at 10h: cycle 48h.
		move("J-1", at(0, 9), tracker.Backlog),
		move("J-1", at(0, 10), tracker.InProgress),
		move("J-1", at(2, 10), tracker.Done),
		// J-2: started day 1, blocked day 1, still blocked.
		move("J-2", at(0, 9), tracker.Backlog),
		move("J-2", at(1, 8), tracker.InProgress),
		move("J-2", at(1, 12), tracker.Blocked),
		// J-3: done without being started: throughput, no cycle time.
		move("J-3", at(1, 1), tracker.Backlog),
		move("J-3", at(1, 2), tracker.Done),
		// J-4: done before the window (day -2), reopened day 1, started
		// day 2 at 0h, done day 2 at 12h: cycle 12h, counted once.
		move("J-4", at(-3, 0), tracker.Backlog),
		move("J-4", at(-3, 1), tracker.InProgress),
		move("J-4", at(-2, 0), tracker.Done),
		{Item: "J-4", Time: at(1, 0), To: tracker.Backlog, Reopen: true},
		move("J-4", at(2, 0), tracker.InProgress),
		move("J-4", at(2, 12), tracker.Done),
		// J-5: created after the window ends: ignored.
		move("J-5", at(3, 1), tracker.Backlog),
	}
	st, err := app.ComputeStats(ts, app.StatsQuery{Since: at(0, 6), Until: at(2, 20), Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Days) != 3 || !st.Days[0].Day.Equal(day0) || !st.Days[2].Day.Equal(at(2, 0)) {
		t.Fatalf("days %v", st.Days)
	}
	type day struct {
		through, wip int
		counts       map[tracker.Status]int
	}
	want := []day{
		{0, 1, map[tracker.Status]int{tracker.InProgress: 1, tracker.Backlog: 1, tracker.Done: 1}},
		{1, 2, map[tracker.Status]int{tracker.InProgress: 1, tracker.Blocked: 1, tracker.Done: 1, tracker.Backlog: 1}},
		{2, 1, map[tracker.Status]int{tracker.Done: 3, tracker.Blocked: 1}},
	}
	for i, w := range want {
		d := st.Days[i]
		if d.Throughput != w.through || d.WIP != w.wip || !reflect.DeepEqual(d.Counts, w.counts) {
			t.Errorf("day %d: throughput %d wip %d counts %v; want %d %d %v", i, d.Throughput, d.WIP, d.Counts, w.through, w.wip, w.counts)
		}
	}
	if st.Throughput() != 3 {
		t.Errorf("throughput %d, want 3", st.Throughput())
	}
	wantC := []app.Completion{
		{Item: "J-3", Done: at(1, 2)},
		{Item: "J-1", Started: at(0, 10), Done: at(2, 10)},
		{Item: "J-4", Started: at(2, 0), Done: at(2, 12)},
	}
	if !reflect.DeepEqual(st.Completions, wantC) {
		t.Errorf("completions\n got %v\nwant %v", st.Completions, wantC)
	}
	if p := st.CycleTime; p.Count != 2 || p.P50 != 12*time.Hour || p.P85 != 48*time.Hour || p.P95 != 48*time.Hour {
		t.Errorf("cycle time %+v", p)
	}
	if !reflect.DeepEqual(st.Statuses, []tracker.Status{tracker.Backlog, tracker.InProgress, tracker.Blocked, tracker.Done}) {
		t.Errorf("statuses %v", st.Statuses)
	}
}

func TestPercentilesNearestRank(t *testing.T) {
	var ts []app.Transition
	// Twenty items with cycle times of 1h to 20h.
	for i := 1; i <= 20; i++ {
		id := app.ItemID(string(rune('0'+i/10)) + string(rune('0'+i%10)))
		ts = append(ts, move(id, at(0, 0), tracker.Backlog), move(id, at(0, 1), tracker.InProgress),
			move(id, at(0, 1+i), tracker.Done))
	}
	st, err := app.ComputeStats(ts, app.StatsQuery{Since: day0, Until: at(2, 0), Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	// Nearest rank: ceil(0.5*20)=10th, ceil(0.85*20)=17th, ceil(0.95*20)=19th.
	if p := st.CycleTime; p.Count != 20 || p.P50 != 10*time.Hour || p.P85 != 17*time.Hour || p.P95 != 19*time.Hour {
		t.Fatalf("percentiles %+v", p)
	}
}

func TestComputeStatsDaysInLocation(t *testing.T) {
	// In UTC+10 the window's first day began at 14:00 UTC the day before.
	loc := time.FixedZone("plus10", 10*3600)
	ts := []app.Transition{move("J-1", at(0, 15), tracker.Backlog), move("J-1", at(0, 16), tracker.Done)}
	st, err := app.ComputeStats(ts, app.StatsQuery{Since: at(0, 1), Until: at(0, 20), Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	// 01h UTC is 11h on Nov 1 there; 16h UTC is 02h on Nov 2 there.
	if len(st.Days) != 2 || st.Days[0].Throughput != 0 || st.Days[1].Throughput != 1 {
		t.Fatalf("days %+v", st.Days)
	}
	if _, err := app.ComputeStats(ts, app.StatsQuery{Since: at(1, 0), Until: at(0, 0)}); !errors.Is(err, es.ErrInvalidInput) {
		t.Fatalf("a window that ends before it starts: %v", err)
	}
}

// The service's statistics and intervals come from what the log records.
func TestServiceStats(t *testing.T) {
	s, _ := newService(t)
	start := es.Now()
	a := create(t, s, "a")
	b := create(t, s, "b")
	ctx := as("ann")
	for _, to := range []tracker.Status{tracker.InProgress, tracker.Done} {
		if _, err := s.ChangeStatus(ctx, a.ID, to, "", es.Any); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ChangeStatus(ctx, b.ID, tracker.InProgress, "", es.Any); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(context.Background(), app.StatsQuery{Since: start.Add(-time.Hour), Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	last := st.Days[len(st.Days)-1]
	if st.Throughput() != 1 || st.CycleTime.Count != 1 || last.WIP != 1 ||
		last.Counts[tracker.Done] != 1 || last.Counts[tracker.InProgress] != 1 {
		t.Fatalf("stats %+v", st)
	}
	ivs, h, err := s.ItemIntervals(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ivs) != 3 || ivs[2].Status != tracker.Done || !ivs[2].To.IsZero() || len(h) != 3 {
		t.Fatalf("intervals %v of %d events", ivs, len(h))
	}
	if _, _, err := s.ItemIntervals(context.Background(), "J-99"); !errors.Is(err, es.ErrNotFound) {
		t.Fatalf("unknown item: %v", err)
	}
	first, pos, lastT, err := s.LogBounds(context.Background())
	if err != nil || pos < 6 || first.After(lastT) || first.Before(start) {
		t.Fatalf("bounds %v %d %v %v", first, pos, lastT, err)
	}
}
