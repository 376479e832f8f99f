package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/time/rate"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/es/postgres"
	"github.com/jerry-es/jerry/internal/pgtest"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/httpapi"
)

// backends are the stores the API is tested on: the file store always,
// PostgreSQL where JERRY_TEST_POSTGRES names a server.
var backends = []string{"file", "postgres"}

// fixture is an API server over a fresh store, and its tokens.
type fixture struct {
	t     testing.TB
	fo    fixtureOpts
	dir   string
	pgURL string
	// closeStore closes the store open now.
	closeStore func()
	svc        *app.Service
	api        *httpapi.Server
	ts         *httptest.Server // the API on a real loopback socket
	read       string           // secrets of tokens with each role
	write      string
	admin      string
}

type fixtureOpts struct {
	backend string
	opts    httpapi.Options
}

func newFixture(t testing.TB, backend string) *fixture {
	return newFixtureWith(t, fixtureOpts{backend: backend, opts: httpapi.Options{Actor: "alice", Rate: rate.Inf}})
}

func newFixtureWith(t testing.TB, fo fixtureOpts) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, fo: fo, dir: t.TempDir()}
	if fo.backend == "postgres" {
		f.pgURL = pgtest.URL(t, pgtest.Schema(t))
	}
	f.open()
	for _, tok := range []struct {
		actor string
		role  app.Role
		into  *string
	}{{"reader", app.RoleRead, &f.read}, {"agent-7", app.RoleWrite, &f.write}, {"root-agent", app.RoleAdmin, &f.admin}} {
		_, secret, err := f.svc.CreateToken(asActor(ctx, "alice"), tok.actor, tok.role)
		if err != nil {
			t.Fatal(err)
		}
		*tok.into = secret
	}
	return f
}

// open opens the store, a service and a server over it, as jerry serve
// does when it starts.
func (f *fixture) open() {
	t := f.t
	t.Helper()
	ctx := context.Background()
	var svc *app.Service
	board := app.WithBoard(filepath.Join(f.dir, "board.db"))
	switch f.fo.backend {
	case "file", "":
		st, err := jsonfile.Open(filepath.Join(f.dir, "store"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f.closeStore = func() { st.Close() }
		svc = app.New(st, st, st, board, app.WithTurns())
	case "postgres":
		st, err := postgres.Open(ctx, f.pgURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f.closeStore = func() { st.Close() }
		svc = app.New(st, st, st, board, app.WithTurns())
	default:
		t.Fatalf("unknown backend %q", f.fo.backend)
	}
	t.Cleanup(func() { svc.Close() })
	f.svc, f.api = svc, httpapi.New(svc, f.fo.opts)
	f.ts = httptest.NewServer(f.api)
	t.Cleanup(f.ts.Close)
	t.Cleanup(f.api.Close)
}

// restart stops the server and opens the store, service and server again:
// all that survives is in the store.
func (f *fixture) restart() {
	f.t.Helper()
	f.api.Close()
	f.ts.Close()
	f.svc.Close()
	f.closeStore()
	f.open()
}

// reply is an answer of the API.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into v, failing the test if it cannot.
func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
}

// errorCode returns the code of an error document, "" if the body is not
// one.
func (r reply) errorCode() string {
	var doc struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(r.body, &doc) != nil || doc.Error.Message == "" {
		return ""
	}
	return doc.Error.Code
}

// req is a request to send: headers as "Name: value" strings.
type req struct {
	method, path string
	body         string
	headers      []string
	remote       string // the client's address; default loopback
}

// do sends rq through the handler, as if from rq.remote.
func (f *fixture) do(rq req) reply {
	f.t.Helper()
	var body io.Reader = http.NoBody
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	r := httptest.NewRequest(rq.method, rq.path, body)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Host = "127.0.0.1:7070"
	if rq.remote != "" {
		r.RemoteAddr = rq.remote
	}
	if rq.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for _, h := range rq.headers {
		k, v, _ := strings.Cut(h, ":")
		switch v = strings.TrimSpace(v); {
		case strings.EqualFold(k, "Host"):
			r.Host = v
		case v == "":
			r.Header.Del(k)
		default:
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	f.api.ServeHTTP(w, r)
	return reply{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// send sends rq over the loopback socket of the test server.
func (f *fixture) send(client *http.Client, rq req) (reply, error) {
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	r, err := http.NewRequest(rq.method, f.ts.URL+rq.path, body)
	if err != nil {
		return reply{}, err
	}
	if rq.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for _, h := range rq.headers {
		k, v, _ := strings.Cut(h, ":")
		r.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := client.Do(r)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// ok sends rq and fails the test unless the status is want.
func (f *fixture) ok(want int, rq req) reply {
	f.t.Helper()
	r := f.do(rq)
	if r.status != want {
		f.t.Fatalf("%s %s: status %d, want %d: %s", rq.method, rq.path, r.status, want, r.body)
	}
	return r
}

// export is the whole store as jerry export writes it.
func (f *fixture) export() []byte {
	f.t.Helper()
	var b bytes.Buffer
	if _, err := f.svc.Export(context.Background(), &b); err != nil {
		f.t.Fatal(err)
	}
	return b.Bytes()
}

func bearer(secret string) string { return "Authorization: Bearer " + secret }

// asActor returns ctx acting as actor.
func asActor(ctx context.Context, actor string) context.Context {
	return es.WithMetadata(ctx, es.Metadata{Actor: actor})
}
