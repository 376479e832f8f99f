package webui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/webui"
)

// The fixture: a store whose history spans days, made by importing events
// with chosen times (an import keeps them), so that the board as of a past
// moment, the timelines and the charts have known answers.

// now is the clock of the handlers under test: the fixture's last day, at
// noon UTC.
var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// day returns now's day minus back days, at hour h.
func day(back, h int) time.Time {
	return time.Date(2026, 11, 20-back, h, 0, 0, 0, time.UTC)
}

// fixture writes export lines.
type fixture struct {
	buf      bytes.Buffer
	pos      int64
	versions map[string]int64
}

func (f *fixture) add(stream, typ string, t time.Time, actor string, data any) {
	if f.versions == nil {
		f.versions = map[string]int64{}
	}
	f.pos++
	f.versions[stream]++
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	line, err := json.Marshal(app.Line{Position: f.pos, Stream: stream, Version: f.versions[stream], Type: typ, Schema: 1,
		Time: t, ID: uuid.New(), Data: raw, Metadata: es.Metadata{Actor: actor}})
	if err != nil {
		panic(err)
	}
	f.buf.Write(line)
	f.buf.WriteByte('\n')
}

// item creates a work item, taking the next ID as jerry create does.
func (f *fixture) item(id string, t time.Time, actor string, c tracker.ItemCreated) {
	f.add("jerry-ids-workitem", tracker.EvIDAllocated, t, actor, tracker.IDAllocated{Kind: tracker.WorkItemType})
	if c.Type == "" {
		c.Type = tracker.Task
	}
	if c.Priority == "" {
		c.Priority = tracker.Medium
	}
	f.add("workitem-"+id, tracker.EvItemCreated, t, actor, c)
}

func (f *fixture) move(id string, t time.Time, actor string, from, to tracker.Status) {
	f.add("workitem-"+id, tracker.EvStatusChanged, t, actor, tracker.StatusChanged{From: from, To: to})
}

// The fixture's story, day by day (D is now's day, D-5 the first):
//
//	J-1 Write the parser   backlog D-5 09h, in_progress D-4 10h, blocked D-3 10h,
//	                       in_progress D-2 08h, done D-2 11h; a comment D-3 11h
//	                       (5 status intervals, 6 events); in I-1
//	J-2 Fix login bug      backlog D-5 10h, ready D-4 09h, in_progress D-1 09h;
//	                       label ui; in I-1
//	J-3 Spike caching      backlog D-4 11h, ready D-3 09h
//	J-4 Write the docs     backlog D-3 12h; blocked by J-2
//	J-5 Release 1.0        backlog D-1 10h, ready D-1 12h
//
// No item is ever cancelled: the cumulative flow diagram of the last 30
// days has 5 bands (backlog, ready, in_progress, blocked, done); that of the
// last 2 days has 4 (no item is blocked at the end of D-2, D-1 or D).
func storyExport() []byte {
	var f fixture
	f.add("jerry-ids-initiative", tracker.EvIDAllocated, day(5, 8), "lead", tracker.IDAllocated{Kind: tracker.InitiativeType})
	f.add("initiative-I-1", tracker.EvInitiativeCreated, day(5, 8), "lead", tracker.InitiativeCreated{Title: "Version 1"})
	f.item("J-1", day(5, 9), "ann", tracker.ItemCreated{Title: "Write the parser", Initiative: "I-1"})
	f.add("initiative-I-1", tracker.EvItemAdded, day(5, 9), "ann", tracker.ItemAdded{Item: "J-1"})
	f.item("J-2", day(5, 10), "ann", tracker.ItemCreated{Title: "Fix login bug", Type: tracker.Bug, Priority: tracker.High, Initiative: "I-1"})
	f.add("initiative-I-1", tracker.EvItemAdded, day(5, 10), "ann", tracker.ItemAdded{Item: "J-2"})
	f.add("workitem-J-2", tracker.EvLabeled, day(5, 10).Add(time.Minute), "ann", tracker.Labeled{Labels: []string{"ui"}})
	f.move("J-2", day(4, 9), "bob", tracker.Backlog, tracker.Ready)
	f.move("J-1", day(4, 10), "bob", tracker.Backlog, tracker.InProgress)
	f.item("J-3", day(4, 11), "carol", tracker.ItemCreated{Title: "Spike caching", Type: tracker.Spike})
	f.move("J-3", day(3, 9), "carol", tracker.Backlog, tracker.Ready)
	f.move("J-1", day(3, 10), "bob", tracker.InProgress, tracker.Blocked)
	f.add("workitem-J-1", tracker.EvCommented, day(3, 11), "bob", tracker.Commented{Author: "bob", Text: "waiting for the grammar"})
	f.item("J-4", day(3, 12), "ann", tracker.ItemCreated{Title: "Write the docs", Type: tracker.Chore})
	f.add("workitem-J-4", tracker.EvBlockerAdded, day(3, 12).Add(time.Minute), "ann", tracker.BlockerAdded{Blocker: "J-2"})
	f.move("J-1", day(2, 8), "bob", tracker.Blocked, tracker.InProgress)
	f.move("J-1", day(2, 11), "bob", tracker.InProgress, tracker.Done)
	f.move("J-2", day(1, 9), "dave", tracker.Ready, tracker.InProgress)
	f.item("J-5", day(1, 10), "ann", tracker.ItemCreated{Title: "Release 1.0", Priority: tracker.Critical})
	f.move("J-5", day(1, 12), "ann", tracker.Backlog, tracker.Ready)
	return f.buf.Bytes()
}

// story is a file store in a temporary directory holding the fixture, and
// a service over it as jerry's command opens one.
type story struct {
	dir string
	svc *app.Service
}

func openService(t testing.TB, dir string) *app.Service {
	t.Helper()
	st, err := jsonfile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	svc := app.New(st, st, st, app.WithBoard(filepath.Join(dir, "readmodels", app.BoardFile)))
	t.Cleanup(func() {
		svc.Close()
		st.Close()
	})
	return svc
}

func newStory(t testing.TB) story {
	t.Helper()
	dir := filepath.Join(t.TempDir(), ".jerry")
	svc := openService(t, dir)
	if _, err := svc.Import(context.Background(), bytes.NewReader(storyExport())); err != nil {
		t.Fatal(err)
	}
	return story{dir: dir, svc: svc}
}

// server serves the board over the story's service, with the fixed clock.
func (s story) server(t testing.TB) *httptest.Server {
	t.Helper()
	done := make(chan struct{})
	h := webui.Handler(s.svc, webui.Options{Title: "Test board", Now: func() time.Time { return now },
		Location: time.UTC, Done: done})
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		close(done) // ends the live streams, so that Close does not wait for them
		srv.Close()
	})
	return srv
}

// get fetches path from srv and returns the status and body.
func get(t testing.TB, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b.String()
}

func ctxActor(who string) context.Context {
	return es.WithMetadata(context.Background(), es.Metadata{Actor: who})
}
