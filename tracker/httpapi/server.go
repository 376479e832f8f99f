// Package httpapi is jerry's HTTP JSON API: the use cases of tracker/app
// over HTTP, for agents on other machines. It is a face: it parses a
// request, calls app.Service and writes the answer, in the JSON shapes of
// package view (the same documents as `jerry --json`); no rule of the
// tracker is written here. docs/http.md documents every route.
//
// # Who acts
//
// A request carries a bearer token (`Authorization: Bearer jerry_...`,
// made with `jerry token create`); every event it writes records the
// token's actor, never a field of the request. A request without one is
// served only from a loopback address, as Options.Actor (the local OS
// user), with the admin role; one that a proxy forwarded (Forwarded,
// X-Forwarded-For, X-Real-IP) is not a loopback client's. A browser signs
// in through Session, which keeps the token's secret in a cookie that
// counts as the header. Roles: read (GET), write (the writes), admin
// (writes with force=true, past claims, blockers and open members).
//
// # Concurrency
//
// ETag is an item's (or initiative's) version. A write with If-Match is
// exact: it fails with 412 unless the item is at that version. A write
// without retries on a lost race as the jerry command does. A write with
// an Idempotency-Key runs once per key and token actor (app.Service.Once):
// repeats get the first status and body, and nothing is written twice,
// across restarts too.
//
// # Limits
//
// Each client (its token, else its address) has a token bucket
// (Options.Rate, Options.Burst); failed token attempts count against the
// address. Bodies are limited to Options.MaxBody bytes and must arrive
// within Options.BodyTimeout; an answer must be taken within two minutes
// (the event stream excepted). A write without a token must not come from
// another site's page (Origin, Sec-Fetch-Site, a loopback Host). Guard puts
// another face, the web board, behind the same rules.
//
// # Errors
//
// Every failure is `{"error":{"code":..., "message":..., fields...}}`,
// app.Explain's problem (the jerry command's --json error) with an HTTP
// status: usage and invalid_input 400, not_found 404, conflict and claimed
// 409 (conflict 412 when If-Match was given), cycle, blocked and
// invalid_transition 422, corrupt and error 500; and the API's own:
// unauthorized 401, forbidden 403, method_not_allowed 405, timeout 408,
// too_large 413, unsupported_media_type 415, rate_limited 429.
package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/jerry-es/jerry/tracker/app"
)

// Options configure a Server.
type Options struct {
	// Actor is who a request without a token acts as (only loopback
	// clients may send one): the local OS user.
	Actor string
	// MaxBody is the most bytes a request body may have; 0 means
	// DefaultMaxBody.
	MaxBody int64
	// Rate is how many requests per second each client (token, else
	// address) may make on average, Burst how many at once; zero values
	// mean DefaultRate and DefaultBurst, rate.Inf no limit.
	Rate  rate.Limit
	Burst int
	// Heartbeat is how often /api/events sends a comment to keep the
	// connection open; 0 means 15 s.
	Heartbeat time.Duration
	// BodyTimeout is how long a client may take to send a request's
	// body; 0 means 30 s.
	BodyTimeout time.Duration
}

// Defaults of Options.
const (
	DefaultMaxBody = 1 << 20
	DefaultRate    = 100
	DefaultBurst   = 200
)

// Server serves the API under /api/. Mount it on a mux with
// mux.Handle("/api/", srv). It is safe for concurrent use.
type Server struct {
	svc  *app.Service
	opts Options
	mux  *http.ServeMux
	// routeTable holds each path's handlers by method.
	routeTable map[string]*route
	lim        *limiters

	// done is closed by Close: server-sent event streams end.
	done      chan struct{}
	closeOnce sync.Once
}

// New returns a server over svc.
func New(svc *app.Service, opts Options) *Server {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Rate == 0 {
		opts.Rate = DefaultRate
	}
	if opts.Burst <= 0 {
		opts.Burst = DefaultBurst
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 15 * time.Second
	}
	if opts.BodyTimeout <= 0 {
		opts.BodyTimeout = 30 * time.Second
	}
	if opts.Actor == "" {
		opts.Actor = "local"
	}
	s := &Server{svc: svc, opts: opts, mux: http.NewServeMux(), routeTable: map[string]*route{}, lim: newLimiters(opts.Rate, opts.Burst), done: make(chan struct{})}
	s.routes()
	return s
}

// ServeHTTP implements http.Handler. A path with dot segments or empty
// ones is refused rather than redirected, as the mux would: an ID is never
// "..".
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, seg := range strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/") {
		if seg == "" || seg == "." || seg == ".." || strings.EqualFold(seg, "%2e%2e") || strings.EqualFold(seg, "%2e") {
			if seg == "" && strings.HasSuffix(r.URL.EscapedPath(), "/") && strings.Count(r.URL.EscapedPath(), "//") == 0 {
				continue // a trailing slash: the mux answers it
			}
			writeError(w, app.Usagef("invalid path %q: no empty, . or .. segments", r.URL.EscapedPath()))
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// Close ends the streams of /api/events, so that an http.Server's
// Shutdown does not wait for them; register it with
// http.Server.RegisterOnShutdown. Other requests finish as they would.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.done) }) }

// closing returns a context that ends with ctx or when the server closes.
func (s *Server) closing(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// Routes returns every route the server answers, as "METHOD PATH" (a
// ServeMux pattern), sorted: docs/http.md documents each.
func (s *Server) Routes() []string {
	var out []string
	for path, rt := range s.routeTable {
		for m := range rt.methods {
			out = append(out, m+" "+path)
		}
	}
	slices.Sort(out)
	return out
}
