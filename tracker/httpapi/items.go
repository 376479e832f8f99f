package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/view"
)

// The routes of work items.

func (s *Server) routes() {
	s.handle("GET", "/api/items", s.listItems)
	s.handle("POST", "/api/items", s.createItem)
	s.handle("GET", "/api/items/{id}", s.showItem)
	s.handle("PATCH", "/api/items/{id}", s.editItem)
	s.handle("GET", "/api/items/{id}/history", s.itemHistory)
	s.handle("POST", "/api/items/{id}/status", s.changeStatus)
	s.handle("POST", "/api/items/{id}/reopen", s.reopen)
	s.handle("POST", "/api/items/{id}/assign", s.assign)
	s.handle("POST", "/api/items/{id}/claim", s.claim)
	s.handle("POST", "/api/items/{id}/release", s.release)
	s.handle("POST", "/api/items/{id}/heartbeat", s.heartbeat)
	s.handle("POST", "/api/items/{id}/comments", s.comment)
	s.handle("POST", "/api/items/{id}/blockers", s.block)
	s.handle("DELETE", "/api/items/{id}/blockers/{blocker}", s.unblock)
	s.handle("POST", "/api/items/{id}/labels", s.addLabels)
	s.handle("DELETE", "/api/items/{id}/labels/{label}", s.removeLabel)
	s.handle("GET", "/api/ready", s.ready)
	s.handle("POST", "/api/ready/claim", s.claimReady)
	s.handle("GET", "/api/blocked", s.blocked)
	s.handle("GET", "/api/search", s.search)
	s.initiativeRoutes()
	s.handle("GET", "/api/log", s.log)
	s.handle("GET", "/api/events", s.events)
	s.handle("GET", "/api/whoami", s.whoami)
	s.mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, apiErr(http.StatusNotFound, "not_found", "no route %s %s (see docs/http.md)", r.Method, r.URL.Path))
	}))
}

// card answers a write of a work item: the item after it, with its
// blockers' states now.
func (s *Server) card(ctx context.Context, status int, r app.Result[tracker.Item], err error, c *call) (result, error) {
	if err != nil {
		if c.ifMatch && errors.Is(err, es.ErrConcurrency) {
			err = preconditionError{err}
		}
		return result{}, err
	}
	// As the jerry command answers a write: the blockers' states now, read
	// from their streams, without bringing a read model up to date (so
	// blocks is empty; show, list and ready fill it).
	card, err := s.svc.Card(ctx, r.State, es.Now())
	if err != nil {
		return result{}, err
	}
	return result{status: status, body: view.CardItem(card)}, nil
}

// cardNow answers with an item's card now, from the indexed read model.
func (s *Server) cardNow(ctx context.Context, status int, it tracker.Item) (result, error) {
	cards, err := s.svc.CardsNow(ctx, []tracker.Item{it})
	if err != nil {
		return result{}, err
	}
	return result{status: status, body: view.CardItem(cards[0])}, nil
}

type createBody struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Type        string   `json:"type"`
	Priority    string   `json:"priority"`
	Initiative  string   `json:"initiative"`
	Labels      []string `json:"labels"`
}

func (s *Server) createItem(ctx context.Context, c *call) (result, error) {
	var b createBody
	if err := c.decode(&b); err != nil {
		return result{}, err
	}
	if v, ok := c.exp.Version(); ok && v != 0 {
		return result{}, preconditionError{&es.ConcurrencyError{Stream: "new item", Expected: c.exp, Actual: 0}}
	}
	n := tracker.NewItem{Title: b.Title, Description: b.Description, Initiative: b.Initiative, Labels: b.Labels}
	var err error
	if b.Type != "" {
		if n.Type, err = tracker.ParseType(b.Type); err != nil {
			return result{}, err
		}
	}
	if b.Priority != "" {
		if n.Priority, err = tracker.ParsePriority(b.Priority); err != nil {
			return result{}, err
		}
	}
	ctx, err = c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.Create(ctx, n)
	return s.card(ctx, http.StatusCreated, r, err, c)
}

func (s *Server) showItem(ctx context.Context, c *call) (result, error) {
	id := c.r.PathValue("id")
	q := c.r.URL.Query()
	if err := onlyParams(q, "at", "as_of"); err != nil {
		return result{}, err
	}
	var it tracker.Item
	var when time.Time
	var err error
	switch {
	case q.Has("at") && q.Has("as_of"):
		return result{}, app.Usagef("give at or as_of, not both")
	case q.Has("at"):
		v, perr := strconv.ParseInt(q.Get("at"), 10, 64)
		if perr != nil || v < 1 {
			return result{}, app.Usagef("at=%q: want a version, 1 or more", q.Get("at"))
		}
		it, err = s.svc.ItemAt(ctx, id, v)
		when = it.UpdatedAt
	case q.Has("as_of"):
		if when, err = parseTime("as_of", q.Get("as_of")); err != nil {
			return result{}, err
		}
		it, err = s.svc.ItemAsOf(ctx, id, when)
	default:
		it, err = s.svc.Item(ctx, id)
	}
	if err != nil {
		return result{}, err
	}
	if when.IsZero() {
		return s.cardNow(ctx, 0, it)
	}
	card, err := s.svc.Card(ctx, it, when)
	if err != nil {
		return result{}, err
	}
	return result{body: view.CardItem(card)}, nil
}

type editBody struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Type        *string `json:"type"`
	Priority    *string `json:"priority"`
}

func (s *Server) editItem(ctx context.Context, c *call) (result, error) {
	var b editBody
	if err := c.decode(&b); err != nil {
		return result{}, err
	}
	e := tracker.Edit{Title: b.Title, Description: b.Description}
	if b.Type != nil {
		t, err := tracker.ParseType(*b.Type)
		if err != nil {
			return result{}, err
		}
		e.Type = &t
	}
	if b.Priority != nil {
		p, err := tracker.ParsePriority(*b.Priority)
		if err != nil {
			return result{}, err
		}
		e.Priority = &p
	}
	ctx, err := c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.Edit(ctx, c.r.PathValue("id"), e, c.exp)
	return s.card(ctx, 0, r, err, c)
}

func (s *Server) itemHistory(ctx context.Context, c *call) (result, error) {
	if err := onlyParams(c.r.URL.Query()); err != nil {
		return result{}, err
	}
	h, err := s.svc.History(ctx, c.r.PathValue("id"))
	if err != nil {
		return result{}, err
	}
	return result{body: view.History(h)}, nil
}

type statusBody struct {
	Status *string `json:"status"`
	Reason string  `json:"reason"`
}

func (s *Server) changeStatus(ctx context.Context, c *call) (result, error) {
	var b statusBody
	if err := c.decode(&b); err != nil {
		return result{}, err
	}
	if b.Status == nil {
		return result{}, app.Usagef("request body: status is required")
	}
	st, err := tracker.ParseStatus(*b.Status)
	if err != nil {
		return result{}, err
	}
	ctx, err = c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.ChangeStatus(ctx, c.r.PathValue("id"), st, b.Reason, c.exp)
	return s.card(ctx, 0, r, err, c)
}

type reasonBody struct {
	Reason string `json:"reason"`
}

func (s *Server) reopen(ctx context.Context, c *call) (result, error) {
	var b reasonBody
	if err := c.decode(&b); err != nil {
		return result{}, err
	}
	ctx, err := c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.Reopen(ctx, c.r.PathValue("id"), b.Reason, c.exp)
	return s.card(ctx, 0, r, err, c)
}

func (s *Server) release(ctx context.Context, c *call) (result, error) {
	var b reasonBody
	if err := c.decode(&b); err != nil {
		return result{}, err
	}
	ctx, err := c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.Release(ctx, c.r.PathValue("id"), b.Reason, c.exp)
	return s.card(ctx, 0, r, err, c)
}

type assignBody struct {
	Assignee *string `json:"assignee"`
}

func (s *Server) assign(ctx context.Context, c *call) (result, error) {
	var b assignBody
	if err := c.decode(&b); err != nil {
		return result{}, err
	}
	if b.Assignee == nil {
		return result{}, app.Usagef(`request body: assignee is required ("" unassigns)`)
	}
	ctx, err := c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.Assign(ctx, c.r.PathValue("id"), *b.Assignee, c.exp)
	return s.card(ctx, 0, r, err, c)
}

// leaseBody is a claim's or a heartbeat's lease, a Go duration ("30m").
type leaseBody struct {
	Lease string `json:"lease"`
	Start bool   `json:"start"`
}

func (b leaseBody) lease() (time.Duration, error) {
	if b.Lease == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(b.Lease)
	if err != nil || d <= 0 {
		return 0, app.Usagef("lease %q: want a duration such as 30m or 2h", b.Lease)
	}
	return d, nil
}

func (s *Server) claim(ctx context.Context, c *call) (result, error) {
	var b leaseBody
	if err := c.decode(&b); err != nil {
		return result{}, err
	}
	d, err := b.lease()
	if err != nil {
		return result{}, err
	}
	ctx, err = c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.Claim(ctx, c.r.PathValue("id"), app.ClaimOptions{Lease: d, Start: b.Start}, c.exp)
	return s.card(ctx, 0, r, err, c)
}

type heartbeatBody struct {
	Lease string `json:"lease"`
}

func (s *Server) heartbeat(ctx context.Context, c *call) (result, error) {
	var b heartbeatBody
	if err := c.decode(&b); err != nil {
		return result{}, err
	}
	d, err := leaseBody{Lease: b.Lease}.lease()
	if err != nil {
		return result{}, err
	}
	ctx, err = c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.Heartbeat(ctx, c.r.PathValue("id"), d, c.exp)
	return s.card(ctx, 0, r, err, c)
}

type commentBody struct {
	Text *string `json:"text"`
}

func (s *Server) comment(ctx context.Context, c *call) (result, error) {
	var b commentBody
	if err := c.decode(&b); err != nil {
		return result{}, err
	}
	if b.Text == nil {
		return result{}, app.Usagef("request body: text is required")
	}
	ctx, err := c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.Comment(ctx, c.r.PathValue("id"), *b.Text, c.exp)
	return s.card(ctx, 0, r, err, c)
}

type blockBody struct {
	Blocker string `json:"blocker"`
}

func (s *Server) block(ctx context.Context, c *call) (result, error) {
	var b blockBody
	if err := c.decode(&b); err != nil {
		return result{}, err
	}
	if strings.TrimSpace(b.Blocker) == "" {
		return result{}, app.Usagef("request body: blocker is required")
	}
	ctx, err := c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.Block(ctx, c.r.PathValue("id"), b.Blocker, c.exp)
	return s.card(ctx, 0, r, err, c)
}

func (s *Server) unblock(ctx context.Context, c *call) (result, error) {
	ctx, err := c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.Unblock(ctx, c.r.PathValue("id"), c.r.PathValue("blocker"), c.exp)
	return s.card(ctx, 0, r, err, c)
}

type labelsBody struct {
	Labels []string `json:"labels"`
}

func (s *Server) addLabels(ctx context.Context, c *call) (result, error) {
	var b labelsBody
	if err := c.decode(&b); err != nil {
		return result{}, err
	}
	if len(b.Labels) == 0 {
		return result{}, app.Usagef("request body: labels is required: one or more")
	}
	ctx, err := c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.Label(ctx, c.r.PathValue("id"), true, b.Labels, c.exp)
	return s.card(ctx, 0, r, err, c)
}

func (s *Server) removeLabel(ctx context.Context, c *call) (result, error) {
	ctx, err := c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.Label(ctx, c.r.PathValue("id"), false, []string{c.r.PathValue("label")}, c.exp)
	return s.card(ctx, 0, r, err, c)
}

func (s *Server) whoami(ctx context.Context, c *call) (result, error) {
	via := "loopback"
	if c.who.token != "" {
		via = "token " + c.who.token
	}
	return result{body: map[string]string{"actor": c.who.actor, "role": string(c.who.role), "via": via}}, nil
}
