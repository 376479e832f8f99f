package httpapi_test

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/jerry-es/jerry/tracker/httpapi"
)

// sseEvent is one server-sent event, or a comment.
type sseEvent struct {
	id, event, data, comment string
}

// readEvents reads server-sent events from a response into a channel,
// closed when the stream ends.
func readEvents(resp *http.Response) <-chan sseEvent {
	ch := make(chan sseEvent, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				ch <- ev
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				ev.comment = strings.TrimSpace(line[1:])
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return ch
}

// next returns the next event that is not a comment.
func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.comment == "" {
				return ev
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10 s")
		}
	}
}

func openEvents(t *testing.T, f *fixture, path string, headers ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", f.ts.URL+path, nil)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp
}

// /api/events streams the log live, with positions as IDs; a client that
// reconnects with Last-Event-ID resumes after it; comments keep the
// connection open; the token stream is not shown; Close ends the stream.
func TestEvents(t *testing.T) {
	f := newFixtureWith(t, fixtureOpts{backend: "file", opts: httpapi.Options{Actor: "alice", Rate: rate.Inf, Heartbeat: 20 * time.Millisecond}})
	f.ok(http.StatusCreated, req{method: "POST", path: "/api/items", body: `{"title":"Before"}`})
	live := readEvents(openEvents(t, f, "/api/events"))

	// From the start: the token stream (positions 1-3) is left out.
	all := readEvents(openEvents(t, f, "/api/events?from=1"))
	first := next(t, all)
	if first.id != "4" || first.event != "id.allocated" {
		t.Fatalf("first event from 1: %+v, want position 4 (after the three tokens)", first)
	}
	if ev := next(t, all); ev.id != "5" || ev.event != "workitem.created" || !strings.Contains(ev.data, `"Before"`) {
		t.Fatalf("second event: %+v", ev)
	}

	// Live: a write appears on the stream opened before it.
	f.ok(http.StatusOK, req{method: "POST", path: "/api/items/J-1/comments", body: `{"text":"live"}`})
	ev := next(t, live)
	if ev.event != "workitem.commented" || !strings.Contains(ev.data, `"live"`) {
		t.Fatalf("live event: %+v", ev)
	}
	pos, _ := strconv.Atoi(ev.id)

	// Resume after a position.
	f.ok(http.StatusOK, req{method: "POST", path: "/api/items/J-1/comments", body: `{"text":"missed"}`})
	resumed := readEvents(openEvents(t, f, "/api/events", "Last-Event-ID: "+ev.id))
	if ev := next(t, resumed); ev.id != strconv.Itoa(pos+1) || !strings.Contains(ev.data, `"missed"`) {
		t.Fatalf("resumed after %d: %+v", pos, ev)
	}

	// Heartbeats.
	heartbeat := false
	for deadline := time.After(5 * time.Second); !heartbeat; {
		select {
		case ev := <-live:
			heartbeat = ev.comment == "heartbeat"
		case <-deadline:
			t.Fatal("no heartbeat comment")
		}
	}

	// Shutdown ends every stream.
	f.api.Close()
	for _, ch := range []<-chan sseEvent{live, all, resumed} {
		for ended := false; !ended; {
			select {
			case _, ok := <-ch:
				ended = !ok
			case <-time.After(5 * time.Second):
				t.Fatal("a stream did not end on Close")
			}
		}
	}
	if r := f.do(req{method: "GET", path: "/api/events?from=abc"}); r.status != 400 || r.errorCode() != "usage" {
		t.Fatalf("from=abc: %d %s", r.status, r.body)
	}
}

// Reads: an item at a version and as of a time, list filters, ETag; a write
// with the right If-Match goes through; the events record the token's actor
// and force needs the admin role.
func TestReadsAndWrites(t *testing.T) {
	f := newFixture(t, "file")
	seed(f)
	r := f.ok(http.StatusOK, req{method: "GET", path: "/api/items/J-1"})
	if r.header.Get("ETag") != `"2"` {
		t.Fatalf("ETag of J-1: %q", r.header.Get("ETag"))
	}
	var it struct {
		Version  int64
		Title    string
		Blockers []struct{ ID, Status string }
	}
	r.json(t, &it)
	if it.Version != 2 || len(it.Blockers) != 1 || it.Blockers[0].ID != "J-4" || it.Blockers[0].Status != "backlog" {
		t.Fatalf("J-1: %+v", it)
	}
	mid := time.Now().UTC()
	time.Sleep(2 * time.Millisecond)
	f.ok(http.StatusOK, req{method: "PATCH", path: "/api/items/J-1", body: `{"title":"Alpha prime"}`, headers: []string{`If-Match: "2"`}})

	r = f.ok(http.StatusOK, req{method: "GET", path: "/api/items/J-1?at=1"})
	r.json(t, &it)
	if it.Version != 1 || it.Title != "Alpha" {
		t.Fatalf("J-1 at 1: %+v", it)
	}
	r = f.ok(http.StatusOK, req{method: "GET", path: "/api/items/J-1?as_of=" + mid.Format(time.RFC3339Nano)})
	r.json(t, &it)
	if it.Version != 2 || it.Title != "Alpha" {
		t.Fatalf("J-1 as of before the edit: %+v", it)
	}

	var list []struct{ ID string }
	f.ok(http.StatusOK, req{method: "GET", path: "/api/items?assignee=alice"}).json(t, &list)
	if len(list) != 1 || list[0].ID != "J-2" {
		t.Fatalf("assignee=alice: %+v", list)
	}
	f.ok(http.StatusOK, req{method: "GET", path: "/api/items?status=cancelled"}).json(t, &list)
	if len(list) != 1 || list[0].ID != "J-3" {
		t.Fatalf("status=cancelled: %+v", list)
	}
	f.ok(http.StatusOK, req{method: "GET", path: "/api/items?limit=2&sort=id"}).json(t, &list)
	if len(list) != 2 || list[0].ID != "J-1" {
		t.Fatalf("limit=2: %+v", list)
	}
	f.ok(http.StatusOK, req{method: "GET", path: "/api/items?as_of=" + mid.Format(time.RFC3339Nano) + "&all=true"}).json(t, &list)
	if len(list) != 4 {
		t.Fatalf("as_of: %+v", list)
	}

	// The token's actor, not a field of the request.
	f.ok(http.StatusOK, req{method: "POST", path: "/api/items/J-4/comments", body: `{"text":"hi"}`, headers: []string{bearer(f.write)}})
	h, err := f.svc.History(context.Background(), "J-4")
	if err != nil {
		t.Fatal(err)
	}
	if last := h[len(h)-1].Record.Metadata.Actor; last != "agent-7" {
		t.Fatalf("the comment records actor %q, want agent-7", last)
	}
	// Admin may force past alice's claim.
	f.ok(http.StatusOK, req{method: "POST", path: "/api/items/J-2/status?force=true", body: `{"status":"done"}`, headers: []string{bearer(f.admin)}})
	var hist []struct {
		Actor  string
		Forced bool
	}
	f.ok(http.StatusOK, req{method: "GET", path: "/api/items/J-2/history", headers: []string{bearer(f.read)}}).json(t, &hist)
	if last := hist[len(hist)-1]; last.Actor != "root-agent" || !last.Forced {
		t.Fatalf("forced write: %+v", last)
	}
}

// A stream whose log cannot be read any more ends with an "error" event
// carrying the error document, rather than silently.
func TestEventsEndWithTheirError(t *testing.T) {
	f := newFixture(t, "file")
	live := readEvents(openEvents(t, f, "/api/events?from=1"))
	f.closeStore() // what a failing disk would look like to the reader
	var last sseEvent
	for deadline := time.After(10 * time.Second); ; {
		select {
		case ev, ok := <-live:
			if ok {
				last = ev
				continue
			}
		case <-deadline:
			t.Fatalf("the stream did not end in 10 s after its store closed; last event %+v", last)
		}
		break
	}
	if last.event != "error" || !strings.Contains(last.data, `"error":{"code"`) {
		t.Fatalf("the stream's last event: %+v, want an error event with the error document", last)
	}
}

// Times are read as the jerry command reads --as-of: the item made now is
// not in the list as of yesterday, and is as of an hour from now.
func TestTimesAsTheCommandReadsThem(t *testing.T) {
	f := newFixture(t, "file")
	f.ok(http.StatusCreated, req{method: "POST", path: "/api/items", body: `{"title":"Today"}`})
	var list []map[string]any
	f.ok(http.StatusOK, req{method: "GET", path: "/api/items?as_of=yesterday"}).json(t, &list)
	if len(list) != 0 {
		t.Errorf("as_of=yesterday: %d items, want 0", len(list))
	}
	f.ok(http.StatusOK, req{method: "GET", path: "/api/items?as_of=" + time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04")}).json(t, &list)
	if len(list) != 1 {
		t.Errorf("as_of an hour from now: %d items, want 1", len(list))
	}
	f.ok(http.StatusOK, req{method: "GET", path: "/api/log?since=1h+ago"}).json(t, &list)
	if len(list) == 0 {
		t.Error("log since=1h ago: no records, want the item's")
	}
}
