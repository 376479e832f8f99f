package webui_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/webui"
)

var (
	columnRE = regexp.MustCompile(`(?s)<section class="column status-[a-z_]+" data-status="([a-z_]+)">(.*?)</section>`)
	cardRE   = regexp.MustCompile(`<article class="card[^"]*" id="card-(J-\d+)"`)
)

// columns reads the board's columns from a page: status -> card IDs.
func columns(t *testing.T, body string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	ms := columnRE.FindAllStringSubmatch(body, -1)
	if len(ms) == 0 {
		t.Fatalf("no columns in the page:\n%s", body)
	}
	for _, m := range ms {
		out[m[1]] = []string{}
		for _, c := range cardRE.FindAllStringSubmatch(m[2], -1) {
			out[m[1]] = append(out[m[1]], c[1])
		}
	}
	return out
}

func wantColumns(t *testing.T, what string, got, want map[string][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: columns %v, want %v", what, got, want)
		return
	}
	for st, ids := range want {
		if !slices.Equal(got[st], ids) {
			t.Errorf("%s: column %s holds %v, want %v", what, st, got[st], ids)
		}
	}
}

func TestBoardPage(t *testing.T) {
	s := newStory(t)
	srv := s.server(t)
	code, body := get(t, srv, "/")
	if code != http.StatusOK {
		t.Fatalf("GET /: %d\n%s", code, body)
	}
	wantColumns(t, "GET /", columns(t, body), map[string][]string{
		"backlog": {"J-4"}, "ready": {"J-3", "J-5"}, "in_progress": {"J-2"}, "blocked": {}, "done": {"J-1"}, "cancelled": {},
	})
	for _, want := range []string{
		"Write the parser", "Fix login bug", `<span class="label">ui</span>`, // labels
		`blocked by <a href="/item/J-2"`, // J-4's open blocker
		`<title>Board · Test board</title>`, `id="slider"`, `src="/static/board.js"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /: the page lacks %q", want)
		}
	}
	// The page follows the log from the position it was drawn at.
	if !strings.Contains(body, `data-position="25"`) {
		t.Errorf("GET /: the board does not say it reflects position 25")
	}
}

func TestBoardFilters(t *testing.T) {
	s := newStory(t)
	srv := s.server(t)
	for _, tc := range []struct {
		query string
		want  map[string][]string
	}{
		{"status=ready", map[string][]string{"ready": {"J-3", "J-5"}}},
		{"status=ready,in_progress", map[string][]string{"ready": {"J-3", "J-5"}, "in_progress": {"J-2"}}},
		{"status=ready&status=done", map[string][]string{"ready": {"J-3", "J-5"}, "done": {"J-1"}}},
		{"label=ui", map[string][]string{"backlog": {}, "ready": {}, "in_progress": {"J-2"}, "blocked": {}, "done": {}, "cancelled": {}}},
		{"type=spike,chore", map[string][]string{"backlog": {"J-4"}, "ready": {"J-3"}, "in_progress": {}, "blocked": {}, "done": {}, "cancelled": {}}},
		{"priority=critical&status=ready", map[string][]string{"ready": {"J-5"}}},
		{"initiative=I-1&status=", map[string][]string{"backlog": {}, "ready": {}, "in_progress": {"J-2"}, "blocked": {}, "done": {"J-1"}, "cancelled": {}}},
		{"initiative=none&status=ready", map[string][]string{"ready": {"J-3", "J-5"}}},
		{"assignee=none&status=backlog", map[string][]string{"backlog": {"J-4"}}},
		{"assignee=nobody-at-all&status=backlog", map[string][]string{"backlog": {}}},
	} {
		code, body := get(t, srv, "/?"+tc.query)
		if code != http.StatusOK {
			t.Fatalf("GET /?%s: %d\n%s", tc.query, code, body)
		}
		wantColumns(t, "GET /?"+tc.query, columns(t, body), tc.want)
		// The fragment the page's script fetches answers the same.
		code, frag := get(t, srv, "/board?"+tc.query)
		if code != http.StatusOK || strings.Contains(frag, "<html") {
			t.Fatalf("GET /board?%s: %d, a whole page: %v", tc.query, code, strings.Contains(frag, "<html"))
		}
		wantColumns(t, "GET /board?"+tc.query, columns(t, frag), tc.want)
	}
	// The filter bar shows what was asked for.
	_, body := get(t, srv, "/?label=ui&assignee=dave")
	if !strings.Contains(body, `name="label" value="ui"`) || !strings.Contains(body, `name="assignee" value="dave"`) {
		t.Error("the filter bar does not show the filters given")
	}
}

func TestBoardAsOf(t *testing.T) {
	s := newStory(t)
	srv := s.server(t)
	for _, tc := range []struct {
		asOf string
		want map[string][]string
	}{
		// Noon on D-4: J-1 had started, J-2 was ready, J-3 just created.
		{day(4, 12).Format(time.RFC3339), map[string][]string{
			"backlog": {"J-3"}, "ready": {"J-2"}, "in_progress": {"J-1"}, "blocked": {}, "done": {}, "cancelled": {}}},
		// The end of D-3 (a date), in the board's location (UTC here).
		{day(3, 0).Format(time.DateOnly), map[string][]string{
			"backlog": {"J-4"}, "ready": {"J-2", "J-3"}, "in_progress": {}, "blocked": {"J-1"}, "done": {}, "cancelled": {}}},
		// Before the first event: an empty board.
		{"2026-01-01T00:00", map[string][]string{
			"backlog": {}, "ready": {}, "in_progress": {}, "blocked": {}, "done": {}, "cancelled": {}}},
	} {
		q := "/?as_of=" + url.QueryEscape(tc.asOf)
		code, body := get(t, srv, q)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", q, code, body)
		}
		wantColumns(t, "GET "+q, columns(t, body), tc.want)
	}
	// An item's blockers as of then: J-4 waited on J-2, open.
	_, body := get(t, srv, "/board?as_of="+url.QueryEscape(day(3, 18).Format(time.RFC3339)))
	if !strings.Contains(body, `blocked by <a href="/item/J-2"`) {
		t.Error("as of D-3 18h, J-4's card does not show its blocker")
	}
}

func TestItemPage(t *testing.T) {
	s := newStory(t)
	srv := s.server(t)
	code, body := get(t, srv, "/item/J-1")
	if code != http.StatusOK {
		t.Fatalf("GET /item/J-1: %d\n%s", code, body)
	}
	// 5 status intervals: backlog, in_progress, blocked, in_progress, done;
	// 6 events (the comment too).
	if n := strings.Count(body, `<rect class="band `); n != 5 {
		t.Errorf("timeline bands: %d, want 5", n)
	}
	if n := strings.Count(body, `<circle class="mark"`); n != 6 {
		t.Errorf("timeline marks: %d, want 6", n)
	}
	for i, st := range []string{"backlog", "in_progress", "blocked", "in_progress", "done"} {
		if !strings.Contains(body, `data-status="`+st+`"`) {
			t.Errorf("band %d: no %s band", i, st)
		}
	}
	for _, want := range []string{
		"blocked from 2026-11-17 10:00:00 to 2026-11-18 08:00:00", // a band's title
		"bob: status blocked -&gt; in_progress",                   // a mark's: who did what
		"<td>bob</td><td>status in_progress -&gt; done</td>",      // the history table
		"waiting for the grammar",                                 // the comment
		`<a href="/initiative/I-1">I-1</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /item/J-1 lacks %q", want)
		}
	}
	// "42" means J-42, as everywhere.
	if code, body := get(t, srv, "/item/4"); code != http.StatusOK || !strings.Contains(body, "Write the docs") {
		t.Errorf("GET /item/4: %d", code)
	}
}

func TestInitiativePages(t *testing.T) {
	s := newStory(t)
	srv := s.server(t)
	code, body := get(t, srv, "/initiatives")
	if code != http.StatusOK || !strings.Contains(body, `<a href="/initiative/I-1">I-1</a>`) || !strings.Contains(body, "Version 1") {
		t.Fatalf("GET /initiatives: %d\n%s", code, body)
	}
	code, body = get(t, srv, "/initiative/1")
	if code != http.StatusOK {
		t.Fatalf("GET /initiative/1: %d\n%s", code, body)
	}
	for _, want := range []string{"1 done, 0 cancelled, 1 open of 2 (50%)", `<tr data-id="J-1">`, `<tr data-id="J-2">`,
		`<rect class="seg done" x="0" y="0" width="150" height="16"/>`} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /initiative/1 lacks %q", want)
		}
	}
}

func TestChartsPage(t *testing.T) {
	s := newStory(t)
	srv := s.server(t)
	for _, tc := range []struct {
		query string
		bands []string
		days  int
	}{
		{"", []string{"done", "blocked", "in_progress", "ready", "backlog"}, 31},
		{"?days=2", []string{"done", "in_progress", "ready", "backlog"}, 3},
	} {
		code, body := get(t, srv, "/charts"+tc.query)
		if code != http.StatusOK {
			t.Fatalf("GET /charts%s: %d\n%s", tc.query, code, body)
		}
		var got []string
		for _, m := range regexp.MustCompile(`<polygon class="band status-[a-z_]+" data-status="([a-z_]+)"`).FindAllStringSubmatch(body, -1) {
			got = append(got, m[1])
		}
		if !slices.Equal(got, tc.bands) {
			t.Errorf("GET /charts%s: CFD bands %v, want %v", tc.query, got, tc.bands)
		}
		// Each band's polygon has two points per day.
		pts := regexp.MustCompile(`<polygon class="band[^>]* points="([^"]+)"`).FindStringSubmatch(body)
		if n := len(strings.Fields(pts[1])); n != 2*tc.days {
			t.Errorf("GET /charts%s: a band of %d points, want %d", tc.query, n, 2*tc.days)
		}
	}
	_, body := get(t, srv, "/charts?days=7")
	// J-1 is the only item started and done: cycle time D-4 10h to D-2 11h.
	if n := strings.Count(body, `<circle class="dot"`); n != 1 || !strings.Contains(body, "J-1: 2d 1h") {
		t.Errorf("cycle-time dots: %d\n%s", n, body)
	}
	if !strings.Contains(body, "Throughput 1 done.") || !strings.Contains(body, "p50 2d 1h") {
		t.Error("the summary lacks throughput or percentiles")
	}
	if n := strings.Count(body, `<rect class="bar"`); n != 1 {
		t.Errorf("throughput bars: %d, want 1 (D-2)", n)
	}
}

// Every page answers a query it cannot read with a 400 page that names
// the problem, never a 500; what does not exist is a 404 page.
func TestBadRequests(t *testing.T) {
	s := newStory(t)
	srv := s.server(t)
	for _, tc := range []struct {
		path, header string
		code         int
		says         string
	}{
		{"/?status=doing", "", 400, "status"},
		{"/?type=epic", "", 400, "type"},
		{"/?priority=urgent", "", 400, "priority"},
		{"/?label=" + url.QueryEscape("no spaces!"), "", 400, "label"},
		{"/?as_of=last+blue+moon", "", 400, "as_of"},
		{"/?as_of=2026-11-01&as_of=2026-11-02", "", 400, "as_of"},
		{"/?frobnicate=1", "", 400, "frobnicate"},
		{"/board?status=doing", "", 400, "status"},
		{"/board?as_of=tomorrowish", "", 400, "as_of"},
		{"/charts?days=0", "", 400, "days"},
		{"/charts?days=abc", "", 400, "days"},
		{"/charts?days=100000", "", 400, "days"},
		{"/charts?days=1&days=2", "", 400, "days"},
		{"/charts?since=3d", "", 400, "since"},
		{"/item/J-1?as_of=x", "", 400, "as_of"},
		{"/live?from=0", "", 400, "from"},
		{"/live?from=abc", "", 400, "from"},
		{"/live", "Last-Event-ID: twelve", 400, "Last-Event-ID"},
		{"/item/J-99", "", 404, "J-99"},
		{"/item/" + url.PathEscape("../../etc/passwd"), "", 404, ""},
		{"/item/" + url.PathEscape("J-\x01"), "", 400, ""},
		{"/initiative/I-9", "", 404, "I-9"},
		{"/nowhere", "", 404, "/nowhere"},
		{"/static/nothing.js", "", 404, ""},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
		if k, v, ok := strings.Cut(tc.header, ": "); ok {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		bufio.NewReader(resp.Body).WriteTo(&b)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("GET %s: %d, want %d\n%s", tc.path, resp.StatusCode, tc.code, b.String())
			continue
		}
		if tc.path != "/static/nothing.js" && (!strings.Contains(b.String(), `id="error"`) || !strings.Contains(b.String(), tc.says)) {
			t.Errorf("GET %s: the error page does not say %q:\n%s", tc.path, tc.says, b.String())
		}
	}
	resp, err := http.Post(srv.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", resp.StatusCode)
	}
}

func TestStatic(t *testing.T) {
	srv := newStory(t).server(t)
	for path, want := range map[string]string{"/static/board.js": "EventSource", "/static/style.css": ".card"} {
		code, body := get(t, srv, path)
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d", path, code)
		}
	}
}

// /live tells of events committed from the position asked for, with the
// position as the event's id, and resumes after Last-Event-ID.
func TestLive(t *testing.T) {
	s := newStory(t)
	srv := s.server(t)
	events := func(from string, header string) (<-chan string, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/live"+from, nil)
		if header != "" {
			req.Header.Set("Last-Event-ID", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("GET /live%s: %d %s", from, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		ids := make(chan string, 16)
		go func() {
			defer close(ids)
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if id, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
					ids <- id
				}
			}
		}()
		return ids, func() { cancel(); resp.Body.Close() }
	}
	next := func(ids <-chan string) string {
		select {
		case id := <-ids:
			return id
		case <-time.After(10 * time.Second):
			t.Fatal("no event from /live in 10 s")
		}
		return ""
	}
	// From the fixture's last event: it is told at once.
	ids, stop := events("?from=25", "")
	if id := next(ids); id != "25" {
		t.Fatalf("first id %s, want 25", id)
	}
	// A write after: told with its position.
	if _, err := s.svc.Comment(ctxActor("erin"), "J-3", "on it", es.Any); err != nil {
		t.Fatal(err)
	}
	if id := next(ids); id != "26" {
		t.Fatalf("id after a comment %s, want 26", id)
	}
	stop()
	// A browser reconnecting after id 25 hears of 26 again, not of 25.
	ids, stop = events("", "25")
	defer stop()
	if id := next(ids); id != "26" {
		t.Fatalf("resumed at %s, want 26", id)
	}
}

// A card shows its assignee and when the claim expires.
func TestBoardClaim(t *testing.T) {
	s := newStory(t)
	srv := s.server(t)
	r, err := s.svc.Claim(ctxActor("erin"), "J-3", app.ClaimOptions{Lease: time.Hour}, es.Any)
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, srv, "/?status=ready")
	exp := app.ClaimAt(r.State, es.Now()).ExpiresAt.UTC().Format("2006-01-02 15:04:05")
	if !strings.Contains(body, "@erin") || !strings.Contains(body, "claim until "+exp) {
		t.Errorf("J-3's card does not show erin's claim until %s", exp)
	}
	if r.State.Status != tracker.Ready {
		t.Fatalf("status %s", r.State.Status)
	}
}

// wrapped is a middleware's ResponseWriter: it hides Flush, and unwraps.
type wrapped struct{ http.ResponseWriter }

func (w wrapped) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// An idle live stream sends keepalive comments, outlives the server's
// WriteTimeout, streams through a middleware's writer, and ends when the
// handler's Done channel closes (a server shutting down need not wait for
// it).
func TestLiveKeepaliveAndDone(t *testing.T) {
	s := newStory(t)
	done := make(chan struct{})
	h := webui.Handler(s.svc, webui.Options{Keepalive: 20 * time.Millisecond, Done: done})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(wrapped{w}, r)
	}))
	srv.Config.WriteTimeout = 100 * time.Millisecond
	srv.Start()
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/live?from=26")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	keepalives, start := 0, time.Now()
	for time.Since(start) < 300*time.Millisecond && sc.Scan() {
		if sc.Text() == ": keepalive" {
			keepalives++
		}
		if strings.HasPrefix(sc.Text(), "id: ") {
			t.Fatalf("an event past the end of the log: %s", sc.Text())
		}
	}
	if time.Since(start) < 300*time.Millisecond || keepalives < 2 {
		t.Fatalf("the stream ended after %v and %d keepalives: %v", time.Since(start), keepalives, sc.Err())
	}
	close(done)
	ended := make(chan struct{})
	go func() {
		for sc.Scan() {
		}
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end when Done closed")
	}
}

// A column shows at most ColumnLimit cards and counts the rest.
func TestColumnLimit(t *testing.T) {
	s := newStory(t)
	srv := httptest.NewServer(webui.Handler(s.svc, webui.Options{ColumnLimit: 1}))
	defer srv.Close()
	_, body := get(t, srv, "/?status=ready")
	wantColumns(t, "ColumnLimit 1", columns(t, body), map[string][]string{"ready": {"J-3"}})
	if !strings.Contains(body, "and 1 more") || !strings.Contains(body, `<span class="count">1+1</span>`) {
		t.Error("the ready column does not count the card it leaves out")
	}
}
