package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker/httpapi"
)

// sessionMux mounts the API, the sign-in pages and a guarded stand-in for
// the board as jerry serve does.
func sessionMux(f *fixture) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", f.api)
	mux.Handle("/login", f.api.Session())
	mux.Handle("/logout", f.api.Session())
	mux.Handle("/", f.api.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "board for "+es.MetadataFrom(r.Context()).Actor)
	})))
	return mux
}

// remote sends a request to h as a browser on another machine would, with
// the session cookie secret unless it is "", and headers "Name: value".
func remote(h http.Handler, method, path, body, cookie string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.RemoteAddr, r.Host = "203.0.113.9:40000", "board.example"
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: httpapi.CookieName, Value: cookie})
	}
	if strings.HasPrefix(body, "token=") {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// sessionCookie returns the session cookie a response sets, nil if none.
func sessionCookie(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == httpapi.CookieName {
			return c
		}
	}
	return nil
}

// A browser on another machine signs in with a token's secret, and its
// cookie then counts as the token: on the board, on its live stream, on
// the API, with the token's role.
func TestSessionCookie(t *testing.T) {
	f := newFixture(t, "file")
	h := sessionMux(f)

	if w := remote(h, "GET", "/", "", ""); w.Code != http.StatusUnauthorized {
		t.Fatalf("the board without a cookie: %d, want 401", w.Code)
	}
	if w := remote(h, "GET", "/", "", "", "Accept: text/html,*/*"); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), `action="/login"`) {
		t.Fatalf("the board from a browser without a cookie: %d %q, want 401 with the sign-in form", w.Code, w.Body.String())
	}
	if w := remote(h, "GET", "/login", "", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `name="token"`) {
		t.Fatalf("GET /login: %d %q, want the sign-in form", w.Code, w.Body.String())
	}

	// Signing in sets a cookie scripts cannot read and other sites cannot
	// make the browser send.
	w := remote(h, "POST", "/login", "token="+url.QueryEscape(f.read), "")
	c := sessionCookie(w)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" || c == nil {
		t.Fatalf("POST /login with the read token: %d to %q, cookie %v; want 303 to / with a cookie", w.Code, w.Header().Get("Location"), c)
	}
	if c.Value != f.read || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Errorf("session cookie %+v: want the secret, HttpOnly, SameSite=Strict, Path=/", c)
	}
	if w := remote(h, "GET", "/", "", c.Value); w.Code != http.StatusOK || w.Body.String() != "board for reader" {
		t.Errorf("the board with the cookie: %d %q, want 200 for reader", w.Code, w.Body.String())
	}
	if w := remote(h, "GET", "/api/items", "", c.Value); w.Code != http.StatusOK {
		t.Errorf("GET /api/items with the cookie: %d, want 200", w.Code)
	}

	// A read token's cookie cannot write, and writes nothing.
	before := f.export()
	if w := remote(h, "POST", "/api/items", `{"title":"By a reader"}`, c.Value); w.Code != http.StatusForbidden {
		t.Errorf("POST /api/items with a read cookie: %d, want 403", w.Code)
	}
	if w := remote(h, "POST", "/board", "x", c.Value); w.Code != http.StatusForbidden {
		t.Errorf("POST to the board with a read cookie: %d, want 403", w.Code)
	}
	if !bytes.Equal(before, f.export()) {
		t.Error("a refused write changed the store")
	}

	// A forged cookie is no one.
	for _, path := range []string{"/", "/api/items"} {
		if w := remote(h, "GET", path, "", "jerry_forged"+strings.Repeat("A", 37)); w.Code != http.StatusUnauthorized {
			t.Errorf("GET %s with a forged cookie: %d, want 401", path, w.Code)
		}
	}
	// So is a wrong secret at sign-in: no cookie is set.
	if w := remote(h, "POST", "/login", "token=jerry_wrong", ""); w.Code != http.StatusUnauthorized || sessionCookie(w) != nil {
		t.Errorf("POST /login with a wrong secret: %d, cookie %v; want 401 and none", w.Code, sessionCookie(w))
	}

	// Signing out deletes the cookie.
	w = remote(h, "POST", "/logout", "", c.Value)
	if out := sessionCookie(w); w.Code != http.StatusSeeOther || out == nil || out.MaxAge >= 0 || out.Value != "" {
		t.Errorf("POST /logout: %d, cookie %+v; want 303 and the cookie deleted", w.Code, out)
	}
	if w := remote(h, "DELETE", "/login", "", ""); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /login: %d, want 405", w.Code)
	}
}

// A write token's cookie writes as the token's actor, from this server's
// pages only.
func TestSessionCookieWrites(t *testing.T) {
	f := newFixture(t, "file")
	h := sessionMux(f)
	wc := f.write
	if w := remote(h, "POST", "/api/items", `{"title":"By cookie"}`, wc, "Origin: http://board.example", "Sec-Fetch-Site: same-origin"); w.Code != http.StatusCreated {
		t.Fatalf("POST /api/items with a write cookie: %d %s, want 201", w.Code, w.Body.String())
	}
	if h, err := f.svc.History(context.Background(), "J-1"); err != nil || h[0].Record.Metadata.Actor != "agent-7" {
		t.Errorf("the item made with a write cookie: history %v, %v; want it by agent-7", h, err)
	}
	before := f.export()
	for _, hdr := range []string{"Origin: https://evil.example", "Sec-Fetch-Site: cross-site", "Sec-Fetch-Site: same-site"} {
		if w := remote(h, "POST", "/api/items", `{"title":"Forged"}`, wc, hdr); w.Code != http.StatusForbidden {
			t.Errorf("POST /api/items with a write cookie and %s: %d, want 403", hdr, w.Code)
		}
	}
	if w := remote(h, "POST", "/login", "token="+url.QueryEscape(f.write), "", "Origin: https://evil.example"); w.Code != http.StatusForbidden || sessionCookie(w) != nil {
		t.Errorf("POST /login from another site's page: %d, want 403 and no cookie", w.Code)
	}
	if !bytes.Equal(before, f.export()) {
		t.Error("a refused write changed the store")
	}
}

// Revoking a token ends the sessions signed in with it.
func TestSessionCookieRevoked(t *testing.T) {
	f := newFixture(t, "file")
	h := sessionMux(f)
	if w := remote(h, "GET", "/", "", f.write); w.Code != http.StatusOK {
		t.Fatalf("the board with a write cookie: %d, want 200", w.Code)
	}
	toks, err := f.svc.Tokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		if tok.Actor == "agent-7" {
			if _, err := f.svc.RevokeToken(asActor(context.Background(), "alice"), tok.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A server trusts the tokens it read for half a second.
	deadline := time.Now().Add(5 * time.Second)
	for {
		w := remote(h, "GET", "/", "", f.write)
		if w.Code == http.StatusUnauthorized {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the board with a revoked token's cookie: still %d after 5 s, want 401", w.Code)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A request a reverse proxy on this machine forwards is not the local
// user's: without a token it is refused, though it comes from loopback.
func TestLoopbackBehindProxy(t *testing.T) {
	f := newFixture(t, "file")
	h := sessionMux(f)
	for _, hdr := range []string{"", "X-Forwarded-For: 203.0.113.9", "Forwarded: for=203.0.113.9", "X-Real-IP: 203.0.113.9"} {
		r := httptest.NewRequest("GET", "/api/items", nil)
		r.RemoteAddr, r.Host = "127.0.0.1:50000", "127.0.0.1:7070"
		want := http.StatusOK
		if k, v, ok := strings.Cut(hdr, ": "); ok {
			r.Header.Set(k, v)
			want = http.StatusUnauthorized
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("GET /api/items from loopback with %q: %d, want %d", hdr, w.Code, want)
		}
	}
}
