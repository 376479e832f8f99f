package httpapi

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/board"
	"github.com/jerry-es/jerry/tracker/view"
)

// The reading routes' parameters: the jerry command's filters as query
// parameters, and the reads that take them.

// onlyParams refuses a parameter the route does not take, so that a typo
// is not silently ignored.
func onlyParams(q url.Values, known ...string) error {
	for k := range q {
		if k != "force" && !slices.Contains(known, k) {
			if len(known) == 0 {
				return app.Usagef("unknown parameter %q: this route takes none", k)
			}
			return app.Usagef("unknown parameter %q: want one of %s", k, strings.Join(known, ", "))
		}
	}
	return nil
}

// values returns a list parameter: repeated, comma-separated, or both.
func values(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, s := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(s))
		}
	}
	return out
}

// parseTime reads a time parameter as app.ParseTime does; dates and times
// without an offset are UTC.
func parseTime(name, v string) (time.Time, error) {
	t, err := app.ParseTime(v, time.Now().UTC())
	if err != nil {
		return t, app.Usagef("%s=%q: %v", name, v, err)
	}
	return t, nil
}

func boolParam(q url.Values, name string) (bool, error) {
	if !q.Has(name) {
		return false, nil
	}
	b, err := strconv.ParseBool(q.Get(name))
	if err != nil {
		return false, app.Usagef("%s=%q: want true or false", name, q.Get(name))
	}
	return b, nil
}

func intParam(q url.Values, name string, def int64) (int64, error) {
	if !q.Has(name) {
		return def, nil
	}
	n, err := strconv.ParseInt(q.Get(name), 10, 64)
	if err != nil || n < 0 {
		return 0, app.Usagef("%s=%q: want a whole number, 0 or more", name, q.Get(name))
	}
	return n, nil
}

var filterParams = []string{"status", "assignee", "type", "priority", "label", "initiative", "sort", "limit", "all", "as_of"}

// query reads the filters list, ready and search share (jerry list's flags).
func query(q url.Values, sortDefault string) (board.Query, error) {
	var bq board.Query
	sel := app.Selection{Statuses: values(q, "status"), Assignees: values(q, "assignee"), Types: values(q, "type"),
		Priorities: values(q, "priority"), Labels: values(q, "label"), Initiatives: values(q, "initiative")}
	if err := sel.Narrow(&bq); err != nil {
		return bq, err
	}
	var err error
	sort := sortDefault
	if q.Has("sort") {
		sort = q.Get("sort")
	}
	if bq.Sort, err = board.ParseSort(sort); err != nil {
		return bq, err
	}
	limit, err := intParam(q, "limit", 0)
	if err != nil {
		return bq, err
	}
	bq.Limit = int(min(limit, 1<<30))
	if bq.All, err = boolParam(q, "all"); err != nil {
		return bq, err
	}
	if q.Has("as_of") {
		if bq.AsOf, err = parseTime("as_of", q.Get("as_of")); err != nil {
			return bq, err
		}
	}
	bq.Comments = bq.AsOf.IsZero()
	return bq, nil
}

func (s *Server) listItems(ctx context.Context, c *call) (result, error) {
	q := c.r.URL.Query()
	if err := onlyParams(q, filterParams...); err != nil {
		return result{}, err
	}
	bq, err := query(q, "id")
	if err != nil {
		return result{}, err
	}
	cards, err := s.svc.ListCards(ctx, bq)
	if err != nil {
		return result{}, err
	}
	return result{body: view.CardItems(cards)}, nil
}

func (s *Server) ready(ctx context.Context, c *call) (result, error) {
	q := c.r.URL.Query()
	if err := onlyParams(q, filterParams...); err != nil {
		return result{}, err
	}
	bq, err := query(q, "priority")
	if err != nil {
		return result{}, err
	}
	cards, err := s.svc.ReadyCards(ctx, bq)
	if err != nil {
		return result{}, err
	}
	return result{body: view.CardItems(cards)}, nil
}

func (s *Server) claimReady(ctx context.Context, c *call) (result, error) {
	var b heartbeatBody
	if err := c.decode(&b); err != nil {
		return result{}, err
	}
	if c.ifMatch {
		return result{}, app.Usagef("If-Match does not apply to ready/claim: it claims whichever item is first")
	}
	d, err := leaseBody{Lease: b.Lease}.lease()
	if err != nil {
		return result{}, err
	}
	ctx, err = c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.ClaimReady(ctx, d)
	return s.card(ctx, 0, r, err, c)
}

func (s *Server) blocked(ctx context.Context, c *call) (result, error) {
	if err := onlyParams(c.r.URL.Query()); err != nil {
		return result{}, err
	}
	stuck, err := s.svc.Blocked(ctx)
	if err != nil {
		return result{}, err
	}
	return result{body: view.StuckItems(stuck)}, nil
}

func (s *Server) search(ctx context.Context, c *call) (result, error) {
	q := c.r.URL.Query()
	if err := onlyParams(q, append([]string{"q"}, filterParams...)...); err != nil {
		return result{}, err
	}
	text := strings.TrimSpace(q.Get("q"))
	if text == "" {
		return result{}, app.Usagef("q is required: the words to find")
	}
	if q.Has("as_of") || q.Has("sort") {
		return result{}, app.Usagef("search takes neither as_of nor sort: it answers now, best match first")
	}
	bq, err := query(q, "id")
	if err != nil {
		return result{}, err
	}
	hits, err := s.svc.Search(ctx, text, bq)
	if err != nil {
		return result{}, err
	}
	items := make([]tracker.Item, len(hits))
	for i, h := range hits {
		items[i] = h.Item
	}
	cards, err := s.svc.CardsNow(ctx, items)
	if err != nil {
		return result{}, err
	}
	return result{body: view.CardItems(cards)}, nil
}

// log answers the activity feed with jerry log's filters.
func (s *Server) log(ctx context.Context, c *call) (result, error) {
	q := c.r.URL.Query()
	if err := onlyParams(q, "from", "limit", "since", "until", "item", "by", "type", "all", "reverse"); err != nil {
		return result{}, err
	}
	from, err := intParam(q, "from", 1)
	if err != nil {
		return result{}, err
	}
	if from < 1 {
		return result{}, app.Usagef("from=%d: positions start at 1", from)
	}
	limit, err := intParam(q, "limit", 0)
	if err != nil {
		return result{}, err
	}
	fq := board.FeedQuery{From: from, Limit: int(min(limit, 1<<30)), Actors: values(q, "by"), Items: values(q, "item"), Types: values(q, "type")}
	if fq.All, err = boolParam(q, "all"); err != nil {
		return result{}, err
	}
	if fq.Reverse, err = boolParam(q, "reverse"); err != nil {
		return result{}, err
	}
	for name, t := range map[string]*time.Time{"since": &fq.Since, "until": &fq.Until} {
		if q.Has(name) {
			if *t, err = parseTime(name, q.Get(name)); err != nil {
				return result{}, err
			}
		}
	}
	recs, err := s.svc.FeedRecords(ctx, fq)
	if err != nil {
		return result{}, err
	}
	out := make([]view.LogRecord, 0, len(recs))
	for _, r := range recs {
		if r.Stream != app.TokenStream { // who holds which token is not for every reader
			out = append(out, view.LogRecordOf(r))
		}
	}
	return result{body: out}, nil
}
