package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jerry-es/jerry/es"
)

// A face behind Guard sees who acts, and gets only the requests the API's
// rules let through.
func TestGuard(t *testing.T) {
	f := newFixture(t, "file")
	h := f.api.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, es.MetadataFrom(r.Context()).Actor+" "+string(b))
	}))
	for _, tc := range []struct {
		method, remote, host, token, body string
		status                            int
		answer                            string
	}{
		{"GET", "127.0.0.1:1", "127.0.0.1:7070", "", "", 200, "alice "},
		{"GET", "203.0.113.9:1", "board.example", "", "", 401, ""},
		{"GET", "203.0.113.9:1", "board.example", f.read, "", 200, "reader "},
		{"POST", "203.0.113.9:1", "board.example", f.read, "x", 403, ""},
		{"POST", "203.0.113.9:1", "board.example", f.write, "x", 200, "agent-7 x"},
		{"POST", "127.0.0.1:1", "evil.example", "", "x", 403, ""},
		{"POST", "127.0.0.1:1", "localhost:7070", "", strings.Repeat("x", 2<<20), 200, ""}, // the handler reads no more than the limit
	} {
		r := httptest.NewRequest(tc.method, "/board", strings.NewReader(tc.body))
		r.RemoteAddr, r.Host = tc.remote, tc.host
		if tc.token != "" {
			r.Header.Set("Authorization", "Bearer "+tc.token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.status || (tc.answer != "" && w.Body.String() != tc.answer) {
			t.Errorf("%s from %s to %s: %d %q, want %d %q", tc.method, tc.remote, tc.host, w.Code, w.Body.String(), tc.status, tc.answer)
		}
		if tc.status == 200 && len(tc.body) > 1<<20 && w.Body.Len() > len("alice ")+1<<20 {
			t.Errorf("the handler read %d bytes past the limit", w.Body.Len()-len("alice ")-1<<20)
		}
	}
}
