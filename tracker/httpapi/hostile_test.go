package httpapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/jerry-es/jerry/tracker/httpapi"
)

// seed makes the store the hostile requests run against:
//
//	J-1  blocked by J-4          J-2  claimed by alice
//	J-3  cancelled               J-4  open
//	I-1  an initiative
func seed(f *fixture) {
	f.t.Helper()
	for _, title := range []string{"Alpha", "Beta", "Gamma", "Delta"} {
		f.ok(http.StatusCreated, req{method: "POST", path: "/api/items", body: `{"title":"` + title + `"}`})
	}
	f.ok(http.StatusOK, req{method: "POST", path: "/api/items/J-1/blockers", body: `{"blocker":"J-4"}`})
	f.ok(http.StatusOK, req{method: "POST", path: "/api/items/J-2/claim", body: `{"lease":"1h"}`})
	f.ok(http.StatusOK, req{method: "POST", path: "/api/items/J-3/status", body: `{"status":"cancelled"}`})
	f.ok(http.StatusCreated, req{method: "POST", path: "/api/initiatives", body: `{"title":"Q4"}`})
}

// Every hostile request gets a clear JSON error with the right status and
// code, and writes nothing: the store's export is byte-identical before and
// after each.
func TestHostileRequests(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			f := newFixture(t, backend)
			seed(f)
			huge := `{"title":"` + strings.Repeat("x", httpapi.DefaultMaxBody) + `"}`
			cases := []struct {
				name   string
				rq     req
				status int
				code   string
			}{
				{"malformed JSON", req{method: "POST", path: "/api/items", body: `{"title":`}, 400, "usage"},
				{"JSON with a syntax error", req{method: "POST", path: "/api/items", body: `{"title" "x"}`}, 400, "usage"},
				{"wrong type", req{method: "POST", path: "/api/items", body: `{"title":5}`}, 400, "usage"},
				{"array for object", req{method: "POST", path: "/api/items", body: `["Alpha"]`}, 400, "usage"},
				{"two documents", req{method: "POST", path: "/api/items", body: `{"title":"a"}{"title":"b"}`}, 400, "usage"},
				{"unknown field", req{method: "POST", path: "/api/items/J-1/comments", body: `{"text":"x","actor":"mallory"}`}, 400, "usage"},
				{"null where required", req{method: "POST", path: "/api/items/J-1/status", body: `{"status":null}`}, 400, "usage"},
				{"huge body", req{method: "POST", path: "/api/items", body: huge}, 413, "too_large"},
				{"not JSON", req{method: "POST", path: "/api/items/J-1/comments", body: `text=hi`, headers: []string{"Content-Type: application/x-www-form-urlencoded"}}, 415, "unsupported_media_type"},
				{"body on a read", req{method: "GET", path: "/api/items", body: `{"x":1}`}, 400, "usage"},
				{"empty title", req{method: "POST", path: "/api/items", body: `{"title":"  "}`}, 400, "invalid_input"},
				{"invalid status", req{method: "POST", path: "/api/items/J-4/status", body: `{"status":"doing"}`}, 400, "invalid_input"},
				{"invalid label", req{method: "POST", path: "/api/items/J-4/labels", body: `{"labels":["no spaces allowed"]}`}, 400, "invalid_input"},
				{"invalid lease", req{method: "POST", path: "/api/items/J-4/claim", body: `{"lease":"forever"}`}, 400, "usage"},
				{"path traversal, encoded", req{method: "GET", path: "/api/items/..%2F..%2Fetc%2Fpasswd"}, 404, "not_found"},
				{"path traversal in a write", req{method: "POST", path: "/api/items/..%2F..%2Fstore/comments", body: `{"text":"x"}`}, 404, "not_found"},
				{"dot segments", req{method: "GET", path: "/api/items/../../etc/passwd"}, 400, "usage"},
				{"encoded dot segments", req{method: "POST", path: "/api/items/%2e%2e/comments", body: `{"text":"x"}`}, 400, "usage"},
				{"invalid as_of", req{method: "GET", path: "/api/items?as_of=last+blue+moon"}, 400, "usage"},
				{"impossible date", req{method: "GET", path: "/api/items/J-1?as_of=2026-13-45"}, 400, "usage"},
				{"invalid version", req{method: "GET", path: "/api/items/J-1?at=-1"}, 400, "usage"},
				{"invalid since", req{method: "GET", path: "/api/log?since=a+fortnight+hence"}, 400, "usage"},
				{"unknown parameter", req{method: "GET", path: "/api/items?stauts=done"}, 400, "usage"},
				{"negative limit", req{method: "GET", path: "/api/ready?limit=-3"}, 400, "usage"},
				{"overflowing limit", req{method: "GET", path: "/api/log?limit=99999999999999999999999"}, 400, "usage"},
				{"no token off loopback", req{method: "GET", path: "/api/items", remote: "203.0.113.9:5555"}, 401, "unauthorized"},
				{"no token off loopback, writing", req{method: "POST", path: "/api/items", body: `{"title":"x"}`, remote: "[2001:db8::1]:5555"}, 401, "unauthorized"},
				{"forged token", req{method: "POST", path: "/api/items", body: `{"title":"x"}`, headers: []string{bearer("jerry_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")}}, 401, "unauthorized"},
				{"malformed Authorization", req{method: "GET", path: "/api/items", headers: []string{"Authorization: Basic YWxpY2U6cHc="}}, 401, "unauthorized"},
				{"read token writing", req{method: "POST", path: "/api/items/J-4/comments", body: `{"text":"x"}`, headers: []string{bearer(f.read)}}, 403, "forbidden"},
				{"read token claiming ready", req{method: "POST", path: "/api/ready/claim", headers: []string{bearer(f.read)}}, 403, "forbidden"},
				{"write token forcing", req{method: "POST", path: "/api/items/J-2/status?force=true", body: `{"status":"done"}`, headers: []string{bearer(f.write)}}, 403, "forbidden"},
				{"invalid If-Match", req{method: "POST", path: "/api/items/J-4/comments", body: `{"text":"x"}`, headers: []string{`If-Match: "abc"`}}, 400, "usage"},
				{"stale If-Match", req{method: "POST", path: "/api/items/J-4/comments", body: `{"text":"x"}`, headers: []string{`If-Match: "7"`}}, 412, "conflict"},
				{"invalid Idempotency-Key", req{method: "POST", path: "/api/items/J-4/comments", body: `{"text":"x"}`, headers: []string{"Idempotency-Key: " + strings.Repeat("k", 201)}}, 400, "usage"},
				{"claim held by another", req{method: "POST", path: "/api/items/J-2/claim", headers: []string{bearer(f.write)}}, 409, "claimed"},
				{"refused transition", req{method: "POST", path: "/api/items/J-3/status", body: `{"status":"ready"}`}, 422, "invalid_transition"},
				{"open blockers", req{method: "POST", path: "/api/items/J-1/status", body: `{"status":"in_progress"}`}, 422, "blocked"},
				{"dependency cycle", req{method: "POST", path: "/api/items/J-4/blockers", body: `{"blocker":"J-1"}`}, 422, "cycle"},
				{"missing blocker", req{method: "POST", path: "/api/items/J-4/blockers", body: `{"blocker":"J-999"}`}, 404, "not_found"},
				{"missing item", req{method: "POST", path: "/api/items/J-999/comments", body: `{"text":"x"}`}, 404, "not_found"},
				{"method not allowed", req{method: "DELETE", path: "/api/items"}, 405, "method_not_allowed"},
				{"unknown route", req{method: "GET", path: "/api/admin/tokens"}, 404, "not_found"},
				{"unknown parameter on a write", req{method: "POST", path: "/api/items/J-4/comments?actor=mallory", body: `{"text":"x"}`}, 400, "usage"},
				{"cross-site form, empty body", req{method: "POST", path: "/api/ready/claim", headers: []string{"Content-Type: application/x-www-form-urlencoded"}}, 415, "unsupported_media_type"},
				{"cross-origin write without a token", req{method: "POST", path: "/api/ready/claim", headers: []string{"Origin: https://evil.example"}}, 403, "forbidden"},
				{"cross-site fetch without a token", req{method: "DELETE", path: "/api/items/J-1/blockers/J-4", headers: []string{"Sec-Fetch-Site: cross-site"}}, 403, "forbidden"},
				{"DNS rebinding", req{method: "POST", path: "/api/ready/claim", headers: []string{"Host: evil.example:7070"}}, 403, "forbidden"},
				{"force=maybe", req{method: "POST", path: "/api/items/J-4/comments?force=maybe", body: `{"text":"x"}`}, 400, "usage"},
			}
			if len(cases) < 20 {
				t.Fatalf("only %d hostile requests", len(cases))
			}
			for _, tc := range cases {
				before := f.export()
				r := f.do(tc.rq)
				if r.status != tc.status || r.errorCode() != tc.code {
					t.Errorf("%s: %s %s: status %d code %q, want %d %q: %.300s", tc.name, tc.rq.method, tc.rq.path, r.status, r.errorCode(), tc.status, tc.code, r.body)
				}
				if ct := r.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("%s: Content-Type %q", tc.name, ct)
				}
				if after := f.export(); !bytes.Equal(before, after) {
					t.Errorf("%s: the store changed:\n%s", tc.name, after[len(before):])
				}
			}
		})
	}
}

// Past its rate, a client gets 429 with Retry-After, and nothing is
// written; other clients are not held back.
func TestRateLimit(t *testing.T) {
	f := newFixtureWith(t, fixtureOpts{backend: "file", opts: httpapi.Options{Actor: "alice", Rate: rate.Limit(0.001), Burst: 2}})
	f.ok(http.StatusCreated, req{method: "POST", path: "/api/items", body: `{"title":"one"}`})
	f.ok(http.StatusOK, req{method: "GET", path: "/api/items/J-1"})
	before := f.export()
	r := f.do(req{method: "POST", path: "/api/items", body: `{"title":"two"}`})
	if r.status != http.StatusTooManyRequests || r.errorCode() != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("third request: %d %s %v", r.status, r.body, r.header)
	}
	if !bytes.Equal(before, f.export()) {
		t.Error("a rate-limited request wrote")
	}
	// A token is a client of its own.
	f.ok(http.StatusOK, req{method: "GET", path: "/api/items/J-1", headers: []string{bearer(f.write)}})
	// Failed token guesses count against the address.
	var last int
	for range 4 {
		last = f.do(req{method: "GET", path: "/api/items", headers: []string{bearer("jerry_guess")}, remote: "198.51.100.7:1"}).status
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("repeated bad tokens: status %d, want 429", last)
	}
}

// A client that sends its body too slowly gets 408, and nothing is written.
func TestSlowBody(t *testing.T) {
	f := newFixtureWith(t, fixtureOpts{backend: "file", opts: httpapi.Options{Actor: "alice", Rate: rate.Inf, BodyTimeout: 200 * time.Millisecond}})
	before := f.export()
	conn, err := net.Dial("tcp", f.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/items HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"title\":")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), `"timeout"`) {
		t.Fatalf("slow body: %d %s", resp.StatusCode, body)
	}
	if !bytes.Equal(before, f.export()) {
		t.Error("a request whose body never came wrote")
	}
}
