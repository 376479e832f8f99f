// Package webui is Jerry's web board for people: server-rendered HTML pages
// (html/template) over the use cases of tracker/app, with the pictures the
// event log makes cheap drawn as SVG on the server.
//
// # Pages
//
//	GET /                     the board: a column per status, a card per item,
//	                          a filter bar (status, assignee, type, priority,
//	                          label, initiative: comma-separated or repeated,
//	                          as jerry list takes them) and a time slider;
//	                          ?as_of=TIME shows the board as it stood then
//	GET /board                the board's columns alone, for the page's script
//	GET /live?from=POSITION   server-sent events: one "change" event (id: the
//	                          log position) as soon as events are committed
//	                          at or after POSITION; the page then fetches
//	                          /board again
//	GET /item/{id}            an item, its history as an SVG timeline (a band
//	                          per status interval, a mark per event) and who
//	                          did what
//	GET /initiatives          every initiative with its progress
//	GET /initiative/{id}      one initiative: progress and members
//	GET /charts?days=N        the cumulative flow diagram, cycle times,
//	                          throughput and work in progress of the last N
//	                          days (default 30)
//	GET /static/...           the stylesheet and the one small script
//
// The handler is meant to be mounted at "/": its links are absolute.
//
// # Errors
//
// A query parameter the page does not take, or a value it cannot read, is a
// 400 page naming it; an item or initiative that does not exist is a 404
// page; other failures a 500 page. Errors are presented as app.Explain
// presents them to every face.
//
// Every number and rule comes from tracker/app (lists as of a time, cards,
// statistics, status intervals); this package only parses, calls and draws.
package webui

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/view"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the web board. The zero value is usable.
type Options struct {
	// Title names the board in every page's heading; "" means "Jerry".
	Title string
	// Now is the clock, for tests; nil means time.Now.
	Now func() time.Time
	// Location is where times are shown and days begin; nil means
	// time.Local.
	Location *time.Location
	// Keepalive is how often an idle /live stream sends a comment, so that
	// proxies keep it open; 0 means 15 s.
	Keepalive time.Duration
	// Days is the charts' default window; 0 means 30.
	Days int
	// ColumnLimit is the most cards a column shows (the others are
	// counted); 0 means 200.
	ColumnLimit int
	// Done, when closed, ends every /live stream (a server shutting down
	// closes it, so that it need not wait for them).
	Done <-chan struct{}
}

// handler serves the pages.
type handler struct {
	svc  *app.Service
	opts Options
	tmpl *template.Template
	mux  *http.ServeMux
}

// Handler returns the web board over svc.
func Handler(svc *app.Service, opts Options) http.Handler {
	if opts.Title == "" {
		opts.Title = "Jerry"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Keepalive <= 0 {
		opts.Keepalive = 15 * time.Second
	}
	if opts.Days <= 0 {
		opts.Days = 30
	}
	if opts.ColumnLimit <= 0 {
		opts.ColumnLimit = 200
	}
	h := &handler{svc: svc, opts: opts, mux: http.NewServeMux()}
	h.tmpl = template.Must(template.New("").Funcs(template.FuncMap{
		"when":  h.when,
		"label": statusLabel,
		"span":  view.Span,
		"list":  func(s ...string) []string { return s },
	}).ParseFS(templateFS, "templates/*.html"))
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	h.mux.HandleFunc("GET /{$}", h.boardPage)
	h.mux.HandleFunc("GET /board", h.boardFragment)
	h.mux.HandleFunc("GET /live", h.live)
	h.mux.HandleFunc("GET /item/{id}", h.itemPage)
	h.mux.HandleFunc("GET /initiatives", h.initiativesPage)
	h.mux.HandleFunc("GET /initiative/{id}", h.initiativePage)
	h.mux.HandleFunc("GET /charts", h.chartsPage)
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.fail(w, r, http.StatusMethodNotAllowed, "method not allowed", r.Method+" is not served here: the board only reads")
			return
		}
		h.fail(w, r, http.StatusNotFound, "not found", "no page at "+r.URL.Path)
	})
	return h
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h.mux.ServeHTTP(w, r)
}

// page is what every full page's layout shows around its own content.
type page struct {
	Title string
	// Heading names the page.
	Heading string
	// Nav is the current section: board, initiatives, charts.
	Nav string
	// Body holds the page's own data.
	Body any
}

// render executes template name with data into a buffer, then writes it:
// a template that fails yields a 500 page, never half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		if name != "error.html" {
			h.fail(w, r, http.StatusInternalServerError, "error", "the page could not be drawn: "+err.Error())
			return
		}
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (h *handler) full(w http.ResponseWriter, r *http.Request, name, heading, nav string, body any) {
	h.render(w, r, http.StatusOK, name, page{Title: h.opts.Title, Heading: heading, Nav: nav, Body: body})
}

// errorBody is what the error page shows.
type errorBody struct {
	Status  int
	Code    string
	Message string
}

// fail writes an error page.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	h.render(w, r, status, "error.html", page{Title: h.opts.Title, Heading: http.StatusText(status),
		Body: errorBody{Status: status, Code: code, Message: msg}})
}

// failErr writes the error page for err from the use cases, with the status
// its class calls for.
func (h *handler) failErr(w http.ResponseWriter, r *http.Request, err error) {
	var bad badQuery
	if errors.As(err, &bad) {
		h.fail(w, r, http.StatusBadRequest, "invalid_input", bad.Error())
		return
	}
	p := app.Explain(err)
	status := http.StatusInternalServerError
	switch p.Class {
	case app.Invalid:
		status = http.StatusBadRequest
	case app.NotFound:
		status = http.StatusNotFound
	case app.Conflict:
		status = http.StatusConflict
	}
	h.fail(w, r, status, p.Code, p.Message)
}

// badQuery is a query parameter the page cannot read.
type badQuery struct{ msg string }

func (e badQuery) Error() string { return e.msg }

func badQueryf(format string, args ...any) error { return badQuery{fmt.Sprintf(format, args...)} }

// checkParams refuses parameters the page does not take.
func checkParams(v url.Values, allowed ...string) error {
	for k := range v {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return badQueryf("unknown query parameter %q: this page takes none", k)
			}
			return badQueryf("unknown query parameter %q (this page takes %s)", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// when formats a time for people, in the board's location.
func (h *handler) when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(h.opts.Location).Format("2006-01-02 15:04:05")
}

// statusLabel names a status for people: "in progress".
func statusLabel(s any) string { return strings.ReplaceAll(fmt.Sprint(s), "_", " ") }
