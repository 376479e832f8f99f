package webui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/view"
)

// The pictures, drawn on the server: this file turns what tracker/app
// computed (status intervals, statistics per day) into SVG geometry, and
// the templates write the elements. Coordinates are rounded to a tenth of
// a pixel.

func r1(x float64) float64 { return math.Round(x*10) / 10 }

// axisLabel is a piece of text on an axis.
type axisLabel struct {
	X, Y float64
	Text string
	// Anchor is the SVG text-anchor: start, middle or end.
	Anchor string
}

// scale maps times onto [x0, x1].
type scale struct {
	t0, t1 time.Time
	x0, x1 float64
}

func (s scale) x(t time.Time) float64 {
	span := s.t1.Sub(s.t0)
	if span <= 0 {
		return s.x0
	}
	return r1(s.x0 + float64(t.Sub(s.t0))/float64(span)*(s.x1-s.x0))
}

// band is one status interval of an item's timeline.
type band struct {
	X, W   float64
	Status tracker.Status
	// Title says when the interval began and ended.
	Title string
	// Label is shown inside the band when it is wide enough.
	Label string
}

// mark is one event of an item's timeline.
type mark struct {
	X     float64
	Title string
}

// timeline is an item's history drawn along time: a band per status
// interval, a mark per event.
type timeline struct {
	Width, Height int
	Bands         []band
	Marks         []mark
	Labels        []axisLabel
}

const (
	picWidth = 960
	picLeft  = 50
	picRight = 20
)

// drawTimeline lays out an item's intervals and events from its creation to
// now.
func (h *handler) drawTimeline(ivs []app.Interval, hist []app.Entry, now time.Time) timeline {
	tl := timeline{Width: picWidth, Height: 130}
	if len(ivs) == 0 {
		return tl
	}
	end := now
	if last := hist[len(hist)-1].Record.Time; last.After(end) {
		end = last
	}
	sc := scale{t0: ivs[0].From, t1: end, x0: picLeft, x1: picWidth - picRight}
	for _, iv := range ivs {
		to := iv.To
		if to.IsZero() {
			to = end
		}
		b := band{X: sc.x(iv.From), Status: iv.Status,
			Title: fmt.Sprintf("%s from %s to %s", statusLabel(iv.Status), h.when(iv.From), h.when(to))}
		if iv.To.IsZero() {
			b.Title = fmt.Sprintf("%s since %s", statusLabel(iv.Status), h.when(iv.From))
		}
		// A band too short to see is drawn a pixel wide.
		b.W = max(r1(sc.x(to)-b.X), 1)
		if b.W > 8*float64(len(iv.Status)) {
			b.Label = statusLabel(iv.Status)
		}
		tl.Bands = append(tl.Bands, b)
	}
	for _, e := range hist {
		tl.Marks = append(tl.Marks, mark{X: sc.x(e.Record.Time),
			Title: fmt.Sprintf("v%d %s %s: %s", e.Record.Version, h.when(e.Record.Time), e.Record.Metadata.Actor, e.Summary)})
	}
	tl.Labels = []axisLabel{{X: picLeft, Y: 120, Text: h.when(sc.t0), Anchor: "start"}, {X: picWidth - picRight, Y: 120, Text: h.when(end), Anchor: "end"}}
	return tl
}

// area is one status's band of the cumulative flow diagram: a polygon.
type area struct {
	Status tracker.Status
	Points string
	// Title says the status and its count on the last day.
	Title string
}

// cfd is the cumulative flow diagram: a band per status that held any item
// on any day of the window, stacked with done at the bottom.
type cfd struct {
	Width, Height    int
	Bands            []area
	XLabels, YLabels []axisLabel
	// Legend lists the bands top first, as they stand in the picture.
	Legend []tracker.Status
}

// cfdOrder is the stacking order, bottom first: finished work settles at
// the bottom, new work arrives on top.
var cfdOrder = []tracker.Status{tracker.Done, tracker.Cancelled, tracker.Blocked, tracker.InProgress, tracker.Ready, tracker.Backlog}

const (
	chartTop    = 10
	chartBottom = 270
)

// dayX returns the x of day i of n: the days spread across the plot.
func dayX(i, n int) float64 {
	if n <= 1 {
		return picLeft
	}
	return r1(picLeft + float64(i)/float64(n-1)*float64(picWidth-picLeft-picRight))
}

// dayLabels names the first, middle and last days.
func dayLabels(days []app.DayStats, y float64) []axisLabel {
	var out []axisLabel
	n := len(days)
	for k, i := range []int{0, n / 2, n - 1} {
		if i < 0 || (len(out) > 0 && dayX(i, n) == out[len(out)-1].X) {
			continue
		}
		out = append(out, axisLabel{X: dayX(i, n), Y: y, Text: days[i].Day.Format("Jan 2"), Anchor: []string{"start", "middle", "end"}[k]})
	}
	return out
}

// yLabels labels 0, half and top of a count axis.
func yLabels(top float64, unit func(float64) string) []axisLabel {
	out := []axisLabel{{X: picLeft - 6, Y: chartBottom, Text: unit(0), Anchor: "end"}}
	if top > 0 {
		out = append(out, axisLabel{X: picLeft - 6, Y: r1((chartBottom + chartTop) / 2), Text: unit(top / 2), Anchor: "end"},
			axisLabel{X: picLeft - 6, Y: chartTop + 4, Text: unit(top), Anchor: "end"})
	}
	return out
}

func count(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

func (h *handler) drawCFD(st app.Stats) cfd {
	c := cfd{Width: picWidth, Height: 300}
	n := len(st.Days)
	if n == 0 {
		return c
	}
	top := 1
	for _, d := range st.Days {
		total := 0
		for _, v := range d.Counts {
			total += v
		}
		top = max(top, total)
	}
	y := func(v int) float64 {
		return r1(chartBottom - float64(v)/float64(top)*(chartBottom-chartTop))
	}
	present := map[tracker.Status]bool{}
	for _, s := range st.Statuses {
		present[s] = true
	}
	below := make([]int, n)
	// With one day the band spans the plot: two points per edge.
	xs := func(i int) float64 { return dayX(i, n) }
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if n == 1 {
		xs = func(i int) float64 { return []float64{picLeft, picWidth - picRight}[i] }
		idx = []int{0, 1}
		below = make([]int, 2)
	}
	dayOf := func(i int) app.DayStats { return st.Days[min(i, n-1)] }
	for _, s := range cfdOrder {
		if !present[s] {
			continue
		}
		var upper, lower []string
		for _, i := range idx {
			v := dayOf(i).Counts[s]
			upper = append(upper, fmt.Sprintf("%v,%v", xs(i), y(below[i]+v)))
			lower = append(lower, fmt.Sprintf("%v,%v", xs(i), y(below[i])))
			below[i] += v
		}
		for i, j := 0, len(lower)-1; i < j; i, j = i+1, j-1 {
			lower[i], lower[j] = lower[j], lower[i]
		}
		c.Bands = append(c.Bands, area{Status: s, Points: strings.Join(append(upper, lower...), " "),
			Title: fmt.Sprintf("%s: %d at the end", statusLabel(s), st.Days[n-1].Counts[s])})
		c.Legend = append([]tracker.Status{s}, c.Legend...)
	}
	c.XLabels = dayLabels(st.Days, chartBottom+18)
	c.YLabels = yLabels(float64(top), count)
	return c
}

// dot is one completion on the cycle-time chart.
type dot struct {
	X, Y  float64
	ID    string
	Title string
}

// rule is a horizontal line at a percentile.
type rule struct {
	Y, LabelX float64
	Label     string
}

// cycleChart plots each completion's cycle time against the day it was
// done, with the p50, p85 and p95 lines.
type cycleChart struct {
	Width, Height    int
	Dots             []dot
	Rules            []rule
	XLabels, YLabels []axisLabel
}

func (h *handler) drawCycle(st app.Stats) cycleChart {
	c := cycleChart{Width: picWidth, Height: 300}
	var top time.Duration
	for _, cp := range st.Completions {
		top = max(top, cp.CycleTime())
	}
	// Room above the slowest item, so that its dot is not on the edge.
	top = top * 11 / 10
	if top == 0 {
		top = time.Hour
	}
	sc := scale{t0: st.Since, t1: st.Until, x0: picLeft, x1: picWidth - picRight}
	y := func(d time.Duration) float64 {
		return r1(chartBottom - float64(d)/float64(top)*(chartBottom-chartTop))
	}
	for _, cp := range st.Completions {
		if cp.Started.IsZero() {
			continue
		}
		c.Dots = append(c.Dots, dot{X: sc.x(cp.Done), Y: y(cp.CycleTime()), ID: cp.Item,
			Title: fmt.Sprintf("%s: %s, done %s", cp.Item, view.Span(cp.CycleTime()), h.when(cp.Done))})
	}
	if p := st.CycleTime; p.Count > 0 {
		// Labels side by side: percentiles often coincide.
		right := float64(picWidth - picRight)
		c.Rules = []rule{{y(p.P50), right - 220, "p50 " + view.Span(p.P50)}, {y(p.P85), right - 110, "p85 " + view.Span(p.P85)},
			{y(p.P95), right, "p95 " + view.Span(p.P95)}}
	}
	c.XLabels = []axisLabel{{X: picLeft, Y: chartBottom + 18, Text: h.when(st.Since), Anchor: "start"},
		{X: picWidth - picRight, Y: chartBottom + 18, Text: h.when(st.Until), Anchor: "end"}}
	c.YLabels = yLabels(float64(top), func(v float64) string { return view.Span(time.Duration(v)) })
	return c
}

// bar is one day's throughput.
type bar struct {
	X, Y, W, H float64
	Title      string
}

// flowChart shows throughput per day as bars and work in progress at the
// end of each day as a line.
type flowChart struct {
	Width, Height    int
	Bars             []bar
	WIP              string
	XLabels, YLabels []axisLabel
}

func (h *handler) drawFlow(st app.Stats) flowChart {
	c := flowChart{Width: picWidth, Height: 300}
	n := len(st.Days)
	if n == 0 {
		return c
	}
	top := 1
	for _, d := range st.Days {
		top = max(top, d.Throughput, d.WIP)
	}
	y := func(v int) float64 { return r1(chartBottom - float64(v)/float64(top)*(chartBottom-chartTop)) }
	w := r1(max(float64(picWidth-picLeft-picRight)/float64(n)*0.6, 2))
	var pts []string
	for i, d := range st.Days {
		x := dayX(i, n)
		if d.Throughput > 0 {
			c.Bars = append(c.Bars, bar{X: r1(x - w/2), Y: y(d.Throughput), W: w, H: r1(chartBottom - y(d.Throughput)),
				Title: fmt.Sprintf("%s: %d done, %d in progress", d.Day.Format(time.DateOnly), d.Throughput, d.WIP)})
		}
		pts = append(pts, fmt.Sprintf("%v,%v", x, y(d.WIP)))
	}
	c.WIP = strings.Join(pts, " ")
	c.XLabels = dayLabels(st.Days, chartBottom+18)
	c.YLabels = yLabels(float64(top), count)
	return c
}

// progressBar is an initiative's members as a bar: done, cancelled, open.
type progressBar struct {
	Done, Cancelled, Open float64
	// CancelledX and OpenX are where those segments begin.
	CancelledX, OpenX float64
	// Percent is the share of members done or cancelled.
	Percent int
}

const progressWidth = 300

func drawProgress(c app.MemberCounts) progressBar {
	if c.Total == 0 {
		return progressBar{Open: progressWidth}
	}
	wd := func(n int) float64 { return r1(float64(n) / float64(c.Total) * progressWidth) }
	p := progressBar{Done: wd(c.Done), Cancelled: wd(c.Cancelled), Open: wd(c.Open),
		Percent: (c.Done + c.Cancelled) * 100 / c.Total}
	p.CancelledX, p.OpenX = p.Done, r1(p.Done+p.Cancelled)
	return p
}
