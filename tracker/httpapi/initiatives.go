package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/view"
)

// The routes of initiatives.

func (s *Server) initiativeRoutes() {
	s.handle("GET", "/api/initiatives", s.listInitiatives)
	s.handle("POST", "/api/initiatives", s.createInitiative)
	s.handle("GET", "/api/initiatives/{id}", s.showInitiative)
	s.handle("GET", "/api/initiatives/{id}/history", s.initiativeHistory)
	s.handle("POST", "/api/initiatives/{id}/members", s.addMember)
	s.handle("DELETE", "/api/initiatives/{id}/members/{item}", s.removeMember)
	s.handle("POST", "/api/initiatives/{id}/status", s.initiativeStatus)
}

func initiativeResult(status int, r app.Result[tracker.InitiativeState], err error, c *call) (result, error) {
	if err != nil {
		if c.ifMatch && errors.Is(err, es.ErrConcurrency) {
			err = preconditionError{err}
		}
		return result{}, err
	}
	return result{status: status, body: view.InitiativeOf(r.State)}, nil
}

func (s *Server) listInitiatives(ctx context.Context, c *call) (result, error) {
	q := c.r.URL.Query()
	if err := onlyParams(q, "as_of"); err != nil {
		return result{}, err
	}
	var all []tracker.InitiativeState
	var err error
	if q.Has("as_of") {
		t, perr := parseTime("as_of", q.Get("as_of"))
		if perr != nil {
			return result{}, perr
		}
		all, err = s.svc.InitiativesAsOf(ctx, t)
	} else {
		all, err = s.svc.Initiatives(ctx)
	}
	if err != nil {
		return result{}, err
	}
	return result{body: view.Initiatives(all)}, nil
}

type initiativeBody struct {
	Title       string `json:"title"`
	Description string `json:"description"`
}

func (s *Server) createInitiative(ctx context.Context, c *call) (result, error) {
	var b initiativeBody
	if err := c.decode(&b); err != nil {
		return result{}, err
	}
	if c.ifMatch {
		return result{}, app.Usagef("If-Match does not apply to a new initiative")
	}
	ctx, err := c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.CreateInitiative(ctx, b.Title, b.Description)
	return initiativeResult(http.StatusCreated, r, err, c)
}

func (s *Server) showInitiative(ctx context.Context, c *call) (result, error) {
	q := c.r.URL.Query()
	if err := onlyParams(q, "as_of"); err != nil {
		return result{}, err
	}
	var t time.Time
	var in tracker.InitiativeState
	var err error
	if q.Has("as_of") {
		if t, err = parseTime("as_of", q.Get("as_of")); err != nil {
			return result{}, err
		}
		in, err = s.svc.InitiativeAsOf(ctx, c.r.PathValue("id"), t)
	} else {
		in, err = s.svc.Initiative(ctx, c.r.PathValue("id"))
	}
	if err != nil {
		return result{}, err
	}
	return result{body: view.InitiativeDetailOf(in, s.svc.Members(ctx, in, t))}, nil
}

func (s *Server) initiativeHistory(ctx context.Context, c *call) (result, error) {
	if err := onlyParams(c.r.URL.Query()); err != nil {
		return result{}, err
	}
	h, err := s.svc.InitiativeHistory(ctx, c.r.PathValue("id"))
	if err != nil {
		return result{}, err
	}
	return result{body: view.History(h)}, nil
}

type memberBody struct {
	Item string `json:"item"`
}

func (s *Server) addMember(ctx context.Context, c *call) (result, error) {
	var b memberBody
	if err := c.decode(&b); err != nil {
		return result{}, err
	}
	if strings.TrimSpace(b.Item) == "" {
		return result{}, app.Usagef("request body: item is required")
	}
	ctx, err := c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.AddToInitiative(ctx, c.r.PathValue("id"), b.Item, c.exp)
	return initiativeResult(0, r, err, c)
}

func (s *Server) removeMember(ctx context.Context, c *call) (result, error) {
	ctx, err := c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	r, err := s.svc.RemoveFromInitiative(ctx, c.r.PathValue("id"), c.r.PathValue("item"), c.exp)
	return initiativeResult(0, r, err, c)
}

type initiativeStatusBody struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// initiativeStatus completes, cancels or reopens (status active) an
// initiative.
func (s *Server) initiativeStatus(ctx context.Context, c *call) (result, error) {
	var b initiativeStatusBody
	if err := c.decode(&b); err != nil {
		return result{}, err
	}
	id := c.r.PathValue("id")
	to := strings.ToLower(strings.TrimSpace(b.Status))
	if to != "completed" && to != "cancelled" && to != "active" {
		return result{}, app.Usagef("status %q: want completed, cancelled or active", b.Status)
	}
	ctx, err := c.begin(ctx)
	if err != nil {
		return result{}, err
	}
	var r app.Result[tracker.InitiativeState]
	switch to {
	case "completed":
		r, err = s.svc.CompleteInitiative(ctx, id, b.Reason, c.exp)
	case "cancelled":
		r, err = s.svc.CancelInitiative(ctx, id, b.Reason, c.exp)
	default:
		r, err = s.svc.ReopenInitiative(ctx, id, b.Reason, c.exp)
	}
	return initiativeResult(0, r, err, c)
}
