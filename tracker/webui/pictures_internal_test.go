package webui

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

func testHandler() *handler {
	return &handler{opts: Options{Location: time.UTC}}
}

// points reads an SVG points attribute.
func points(t *testing.T, s string) [][2]float64 {
	t.Helper()
	var out [][2]float64
	for _, p := range strings.Fields(s) {
		x, y, _ := strings.Cut(p, ",")
		fx, err1 := strconv.ParseFloat(x, 64)
		fy, err2 := strconv.ParseFloat(y, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("point %q", p)
		}
		out = append(out, [2]float64{fx, fy})
	}
	return out
}

// The bands of the cumulative flow diagram stack: each starts where the one
// below ends, the lowest on the axis, and the top of the highest is the day's
// total.
func TestCFDStacks(t *testing.T) {
	d0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	st := app.Stats{Since: d0, Until: d0.AddDate(0, 0, 3),
		Statuses: []tracker.Status{tracker.Backlog, tracker.InProgress, tracker.Done}}
	counts := []map[tracker.Status]int{
		{tracker.Backlog: 4},
		{tracker.Backlog: 2, tracker.InProgress: 2},
		{tracker.Backlog: 1, tracker.InProgress: 1, tracker.Done: 6},
	}
	for i, c := range counts {
		st.Days = append(st.Days, app.DayStats{Day: d0.AddDate(0, 0, i), Counts: c})
	}
	c := testHandler().drawCFD(st)
	if len(c.Bands) != 3 || c.Bands[0].Status != tracker.Done || c.Bands[2].Status != tracker.Backlog {
		t.Fatalf("bands %+v", c.Bands)
	}
	y := func(v int) float64 { return chartBottom - float64(v)/8*(chartBottom-chartTop) }
	var below [3]float64
	for i := range below {
		below[i] = chartBottom
	}
	totals := [3]int{}
	for _, b := range c.Bands {
		pts := points(t, b.Points)
		if len(pts) != 6 {
			t.Fatalf("%s: %d points, want 6", b.Status, len(pts))
		}
		for day := range 3 {
			upper, lower := pts[day], pts[5-day]
			if upper[0] != lower[0] || upper[0] != dayX(day, 3) {
				t.Errorf("%s day %d: x %v and %v", b.Status, day, upper[0], lower[0])
			}
			if math.Abs(lower[1]-below[day]) > 0.1 {
				t.Errorf("%s day %d: starts at %v, the band below ends at %v", b.Status, day, lower[1], below[day])
			}
			totals[day] += counts[day][b.Status]
			if math.Abs(upper[1]-y(totals[day])) > 0.1 {
				t.Errorf("%s day %d: ends at %v, want %v", b.Status, day, upper[1], y(totals[day]))
			}
			below[day] = upper[1]
		}
	}
}

// A timeline's bands tile the time from the item's creation to now, in
// order, and each event has its mark.
func TestTimelineTiles(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ivs := []app.Interval{
		{Status: tracker.Backlog, From: t0, To: t0.Add(time.Hour)},
		{Status: tracker.InProgress, From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour)},
		{Status: tracker.Done, From: t0.Add(3 * time.Hour)},
	}
	var hist []app.Entry
	for _, at := range []time.Duration{0, time.Hour, 2 * time.Hour, 3 * time.Hour} {
		hist = append(hist, app.Entry{Record: es.Record{Time: t0.Add(at), Metadata: es.Metadata{Actor: "ann"}}, Summary: "x"})
	}
	tl := testHandler().drawTimeline(ivs, hist, t0.Add(4*time.Hour))
	if len(tl.Bands) != 3 || len(tl.Marks) != 4 {
		t.Fatalf("%d bands, %d marks", len(tl.Bands), len(tl.Marks))
	}
	width := float64(picWidth - picLeft - picRight)
	want := []struct{ x, w float64 }{{picLeft, width / 4}, {picLeft + width/4, width / 2}, {picLeft + 3*width/4, width / 4}}
	for i, b := range tl.Bands {
		if math.Abs(b.X-want[i].x) > 0.1 || math.Abs(b.W-want[i].w) > 0.1 {
			t.Errorf("band %d (%s): x %v w %v, want %v %v", i, b.Status, b.X, b.W, want[i].x, want[i].w)
		}
	}
	if tl.Marks[2].X != picLeft+width/2 || !strings.Contains(tl.Marks[2].Title, "ann: x") {
		t.Errorf("the third mark: %+v", tl.Marks[2])
	}
	if !strings.HasPrefix(tl.Bands[2].Title, "done since 2026-11-01 03:00:00") {
		t.Errorf("the open band's title %q", tl.Bands[2].Title)
	}
}
