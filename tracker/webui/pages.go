package webui

import (
	"net/http"
	"strconv"
	"time"

	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// The item, initiative and chart pages.

// historyRow is one event of an item's history, as the page lists it.
type historyRow struct {
	Version int64
	Time    time.Time
	Actor   string
	Summary string
}

// itemBody is the item page's data.
type itemBody struct {
	Card     app.Card
	Blockers []tracker.BlockerState
	Timeline timeline
	History  []historyRow
}

func (h *handler) itemPage(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r.URL.Query()); err != nil {
		h.failErr(w, r, err)
		return
	}
	ctx := r.Context()
	id := app.ItemID(r.PathValue("id"))
	ivs, hist, err := h.svc.ItemIntervals(ctx, id)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	it, err := h.svc.Item(ctx, id)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	cards, err := h.svc.CardsNow(ctx, []tracker.Item{it})
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	b := itemBody{Card: cards[0], Timeline: h.drawTimeline(ivs, hist, h.opts.Now())}
	for _, e := range hist {
		b.History = append(b.History, historyRow{Version: e.Record.Version, Time: e.Record.Time,
			Actor: e.Record.Metadata.Actor, Summary: e.Summary})
	}
	h.full(w, r, "item.html", it.ID+" "+it.Title, "board", b)
}

// initiativeView is an initiative with its members and progress.
type initiativeView struct {
	State    tracker.InitiativeState
	Members  []app.Member
	Counts   app.MemberCounts
	Progress progressBar
}

func (h *handler) initiativeView(r *http.Request, in tracker.InitiativeState) initiativeView {
	members := h.svc.Members(r.Context(), in, time.Time{})
	counts := app.CountMembers(members)
	return initiativeView{State: in, Members: members, Counts: counts, Progress: drawProgress(counts)}
}

func (h *handler) initiativesPage(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r.URL.Query()); err != nil {
		h.failErr(w, r, err)
		return
	}
	ins, err := h.svc.InitiativesAsOf(r.Context(), time.Time{})
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	var views []initiativeView
	for _, in := range ins {
		views = append(views, h.initiativeView(r, in))
	}
	h.full(w, r, "initiatives.html", "Initiatives", "initiatives", views)
}

func (h *handler) initiativePage(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r.URL.Query()); err != nil {
		h.failErr(w, r, err)
		return
	}
	in, err := h.svc.Initiative(r.Context(), app.InitiativeID(r.PathValue("id")))
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	h.full(w, r, "initiative.html", in.ID+" "+in.Title, "initiatives", h.initiativeView(r, in))
}

// chartsBody is the charts page's data.
type chartsBody struct {
	Days  int
	Stats app.Stats
	CFD   cfd
	Cycle cycleChart
	Flow  flowChart
}

// maxDays bounds the charts' window.
const maxDays = 365

func (h *handler) chartsPage(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	if err := checkParams(v, "days"); err != nil {
		h.failErr(w, r, err)
		return
	}
	days := h.opts.Days
	if len(v["days"]) > 1 {
		h.failErr(w, r, badQueryf("days: give one number"))
		return
	}
	if s := v.Get("days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxDays {
			h.failErr(w, r, badQueryf("days: %q is not a number of days from 1 to %d", s, maxDays))
			return
		}
		days = n
	}
	now := h.opts.Now()
	st, err := h.svc.Stats(r.Context(), app.StatsQuery{Since: now.AddDate(0, 0, -days), Until: now, Location: h.opts.Location})
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	b := chartsBody{Days: days, Stats: st, CFD: h.drawCFD(st), Cycle: h.drawCycle(st), Flow: h.drawFlow(st)}
	h.full(w, r, "charts.html", "Flow of the last "+strconv.Itoa(days)+" days", "charts", b)
}
