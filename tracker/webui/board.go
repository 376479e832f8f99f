package webui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/board"
)

// The board: its filters, its columns and the live stream that tells the
// page to fetch them again.

// boardParams are the query parameters of / and /board.
var boardParams = []string{"status", "assignee", "type", "priority", "label", "initiative", "as_of"}

// values returns the comma-separated or repeated values of parameter name,
// without empty ones (an empty field of the filter bar means any).
func values(v url.Values, name string) []string {
	var out []string
	for _, raw := range v[name] {
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// filter is the board's selection as the page shows it and as the read
// model takes it.
type filter struct {
	// Form holds each parameter's values as typed, for the filter bar.
	Form  map[string]string
	Query board.Query
	AsOf  time.Time
	// Encoded is the selection as a query string, without as_of.
	Encoded string
}

// parseFilter reads the board's query parameters.
func (h *handler) parseFilter(v url.Values) (filter, error) {
	f := filter{Form: map[string]string{}, Query: board.Query{All: true}}
	if err := checkParams(v, boardParams...); err != nil {
		return f, err
	}
	enc := url.Values{}
	for _, name := range boardParams {
		vals := values(v, name)
		f.Form[name] = strings.Join(vals, ",")
		if len(vals) > 0 && name != "as_of" {
			enc.Set(name, f.Form[name])
		}
	}
	f.Encoded = enc.Encode()
	q := &f.Query
	sel := app.Selection{Statuses: values(v, "status"), Assignees: values(v, "assignee"), Types: values(v, "type"),
		Priorities: values(v, "priority"), Labels: values(v, "label"), Initiatives: values(v, "initiative")}
	if err := sel.Narrow(q); err != nil {
		return f, err
	}
	if as := values(v, "as_of"); len(as) > 0 {
		if len(as) > 1 {
			return f, badQueryf("as_of: give one time, not %d", len(as))
		}
		t, err := h.parseTime(as[0])
		if err != nil {
			return f, err
		}
		f.AsOf, q.AsOf = t, t
	}
	return f, nil
}

// parseTime reads an as_of value as app.ParseTime does (a
// datetime-local field sends 2026-11-20T10:00), in the board's location.
func (h *handler) parseTime(s string) (time.Time, error) {
	t, err := app.ParseTime(s, h.opts.Now().In(h.opts.Location))
	if err != nil {
		return t, badQueryf("as_of: %v", err)
	}
	return t, nil
}

// column is one status's cards.
type column struct {
	Status tracker.Status
	Cards  []cardView
	// More counts the cards past the column's limit.
	More int
}

// cardView is what a card shows.
type cardView struct {
	ID, Title, Assignee string
	Type                tracker.ItemType
	Priority            tracker.Priority
	Labels              []string
	// ClaimExpires is when the assignee's claim lapses; ClaimExpired says
	// it has.
	ClaimExpires time.Time
	ClaimExpired bool
	// Blockers are the open blockers.
	Blockers []tracker.BlockerState
}

// boardBody is the board page's data.
type boardBody struct {
	Filter  filter
	Columns []column
	// Total counts the cards on the board.
	Total int
	// Position is the log position the board reflects at least: the page
	// follows the log from the next one.
	Position int64
	// AsOf is the moment shown, zero for now.
	AsOf time.Time
	// SliderMin, SliderMax and SliderValue are Unix seconds: the first
	// event, now, and the moment shown.
	SliderMin, SliderMax, SliderValue int64
	// Statuses lists every status, for the filter bar.
	Statuses []tracker.Status
}

// loadBoard reads the board that the query asks for.
func (h *handler) loadBoard(ctx context.Context, v url.Values) (boardBody, error) {
	f, err := h.parseFilter(v)
	if err != nil {
		return boardBody{}, err
	}
	// The position first: an event committed while the cards are read is
	// then one the page hears of, and it fetches the board again.
	first, pos, _, err := h.svc.LogBounds(ctx)
	if err != nil {
		return boardBody{}, err
	}
	cards, err := h.svc.ListCards(ctx, f.Query)
	if err != nil {
		return boardBody{}, err
	}
	now := h.opts.Now()
	b := boardBody{Filter: f, Position: pos, AsOf: f.AsOf, Total: len(cards), Statuses: tracker.Statuses,
		SliderMax: now.Unix() + 1, SliderMin: now.Unix() - 3600}
	if !first.IsZero() && first.Unix() < b.SliderMin {
		b.SliderMin = first.Unix()
	}
	b.SliderValue = b.SliderMax
	if !f.AsOf.IsZero() {
		b.SliderValue = min(max(f.AsOf.Unix(), b.SliderMin), b.SliderMax)
	}
	b.Columns = h.columns(f, cards)
	return b, nil
}

// columns sorts the cards into a column per status: those the filter
// names, else every status.
func (h *handler) columns(f filter, cards []app.Card) []column {
	statuses := f.Query.Statuses
	if len(statuses) == 0 {
		statuses = tracker.Statuses
	}
	var cols []column
	for _, st := range tracker.Statuses {
		if slices.Contains(statuses, st) {
			cols = append(cols, column{Status: st})
		}
	}
	for _, c := range cards {
		for i := range cols {
			if cols[i].Status != c.Status {
				continue
			}
			if len(cols[i].Cards) >= h.opts.ColumnLimit {
				cols[i].More++
				break
			}
			cols[i].Cards = append(cols[i].Cards, toCardView(c))
			break
		}
	}
	return cols
}

func toCardView(c app.Card) cardView {
	v := cardView{ID: c.ID, Title: c.Title, Assignee: c.Assignee, Type: c.Type, Priority: c.Priority, Labels: c.Labels}
	if c.Claim != nil {
		v.ClaimExpires, v.ClaimExpired = c.Claim.ExpiresAt, c.Claim.Expired
	}
	for _, b := range c.Blockers {
		if b.Open() {
			v.Blockers = append(v.Blockers, b)
		}
	}
	return v
}

func (h *handler) boardPage(w http.ResponseWriter, r *http.Request) {
	b, err := h.loadBoard(r.Context(), r.URL.Query())
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	h.full(w, r, "board.html", "Board", "board", b)
}

func (h *handler) boardFragment(w http.ResponseWriter, r *http.Request) {
	b, err := h.loadBoard(r.Context(), r.URL.Query())
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "columns", b)
}

// live streams a "change" event as soon as events are committed from the
// position asked for on (or after the Last-Event-ID a reconnecting browser
// sends), one per burst: the position of the last event seen. Idle, it
// sends a comment every keepalive interval.
func (h *handler) live(w http.ResponseWriter, r *http.Request) {
	from, err := liveFrom(r)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	// Through any middleware that wraps w: its Flush, and no write
	// deadline (a server's WriteTimeout would cut a stream meant to last).
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		h.failErr(w, r, err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	if h.opts.Done != nil {
		go func() {
			select {
			case <-h.opts.Done:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	positions := make(chan int64, 256)
	failed := make(chan error, 1)
	go func() {
		defer close(positions)
		for rec, err := range h.svc.Follow(ctx, from) {
			if err != nil {
				if ctx.Err() == nil {
					failed <- err // not the stream's own end: tell the page
				}
				return
			}
			select {
			case positions <- rec.Position:
			case <-ctx.Done():
				return
			}
		}
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	// A browser reconnects after a second if the stream breaks.
	fmt.Fprintf(w, "retry: 1000\n: following the log from position %d\n\n", from)
	if err := rc.Flush(); err != nil {
		return // this server cannot stream, or the client has gone
	}
	tick := time.NewTicker(h.opts.Keepalive)
	defer tick.Stop()
	for {
		select {
		case p, ok := <-positions:
			if !ok {
				select {
				case err := <-failed:
					fmt.Fprintf(w, "event: failure\ndata: %s\n\n", strings.ReplaceAll(err.Error(), "\n", " "))
					rc.Flush()
				default:
				}
				return
			}
			p = drain(positions, p)
			fmt.Fprintf(w, "id: %d\nevent: change\ndata: %d\n\n", p, p)
			rc.Flush()
		case <-tick.C:
			fmt.Fprint(w, ": keepalive\n\n")
			rc.Flush()
		case <-ctx.Done():
			return
		}
	}
}

// drain takes every position already waiting, and returns the last: one
// notice stands for a burst of events.
func drain(ch <-chan int64, p int64) int64 {
	for {
		select {
		case q, ok := <-ch:
			if !ok {
				return p
			}
			p = q
		default:
			return p
		}
	}
}

// liveFrom reads where /live starts: after the Last-Event-ID header if a
// browser reconnects, else at ?from= (default 1, the whole log).
func liveFrom(r *http.Request) (int64, error) {
	v := r.URL.Query()
	if err := checkParams(v, "from"); err != nil {
		return 0, err
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n < 0 {
			return 0, badQueryf("Last-Event-ID %q: want a log position", id)
		}
		return n + 1, nil
	}
	if len(v["from"]) > 1 {
		return 0, badQueryf("from: give one position")
	}
	s := v.Get("from")
	if s == "" {
		return 1, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, badQueryf("from: %q is not a log position (1 or more)", s)
	}
	return n, nil
}
