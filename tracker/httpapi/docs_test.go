package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the answers in docs/http.md from the server's")

const docsPath = "../../docs/http.md"

// docBlock is a fenced ```http block of docs/http.md: lines [start, end)
// of the file, fences included.
type docBlock struct {
	start, end int
	text       []string // between the fences
}

func (b docBlock) isRequest() bool { return len(b.text) > 0 && docRequestLine.MatchString(b.text[0]) }
func (b docBlock) isResponse() bool {
	return len(b.text) > 0 && strings.HasPrefix(b.text[0], "HTTP/1.1 ")
}

var (
	docRequestLine = regexp.MustCompile(`^(GET|POST|PATCH|PUT|DELETE) /\S*$`)
	docRouteHead   = regexp.MustCompile(`^### ([A-Z]+) (/api/\S+)$`)
	// What varies from run to run, and the examples cannot fix.
	docTime  = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z`)
	docUUID  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	docToken = regexp.MustCompile(`T-[0-9a-f]{12}`)
)

// shownHeaders are the response headers the examples show (and the test
// checks) when the server sends them.
var shownHeaders = []string{"Content-Type", "ETag", "Location", "Idempotent-Replayed", "Allow", "Retry-After"}

func readDoc(t *testing.T) ([]string, []docBlock) {
	raw, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	var blocks []docBlock
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```http" {
			continue
		}
		b := docBlock{start: i}
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			b.text = append(b.text, lines[i])
		}
		b.end = i + 1
		blocks = append(blocks, b)
	}
	return lines, blocks
}

// docRequest is an example request.
type docRequest struct {
	method, path string
	headers      []string
	body         string
}

func parseDocRequest(f *fixture, text []string) docRequest {
	var r docRequest
	r.method, r.path, _ = strings.Cut(text[0], " ")
	i := 1
	for ; i < len(text) && text[i] != ""; i++ {
		h := strings.NewReplacer("$READ_TOKEN", f.read, "$WRITE_TOKEN", f.write, "$ADMIN_TOKEN", f.admin).Replace(text[i])
		r.headers = append(r.headers, h)
	}
	if i < len(text) {
		r.body = strings.Join(text[i+1:], "\n")
	}
	return r
}

// answer renders a reply as an example shows it.
func answer(r reply) []string {
	out := []string{fmt.Sprintf("HTTP/1.1 %d %s", r.status, http.StatusText(r.status))}
	for _, h := range shownHeaders {
		if v := r.header.Get(h); v != "" && (h != "Content-Type" || v != "application/json") {
			out = append(out, h+": "+v)
		}
	}
	body := bytes.TrimSpace(r.body)
	if len(body) == 0 {
		return out
	}
	var ind bytes.Buffer
	if json.Indent(&ind, body, "", "  ") == nil {
		body = ind.Bytes()
	}
	return append(append(out, ""), strings.Split(string(body), "\n")...)
}

// normal hides what varies between runs.
func normal(s string) string {
	s = docTime.ReplaceAllString(s, "TIME")
	s = docUUID.ReplaceAllString(s, "UUID")
	return docToken.ReplaceAllString(s, "T-ID")
}

// sameAnswer compares an example's answer with the server's: status line,
// headers and body (as JSON where it is JSON), what varies aside.
func sameAnswer(want, got []string) bool {
	split := func(a []string) (head []string, body string) {
		for i, l := range a {
			if l == "" {
				return a[:i], strings.Join(a[i+1:], "\n")
			}
		}
		return a, ""
	}
	wh, wb := split(want)
	gh, gb := split(got)
	if !slices.Equal(wh, gh) && normal(strings.Join(wh, "\n")) != normal(strings.Join(gh, "\n")) {
		return false
	}
	wb, gb = normal(wb), normal(gb)
	var wj, gj any
	if json.Unmarshal([]byte(wb), &wj) == nil && json.Unmarshal([]byte(gb), &gj) == nil {
		return reflect.DeepEqual(wj, gj)
	}
	return strings.TrimSpace(wb) == strings.TrimSpace(gb)
}

// events reads the first n events of /api/events for an example.
func (f *fixture) eventsExample(t *testing.T, rq docRequest, n int) reply {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, rq.method, f.ts.URL+rq.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for seen := 0; sc.Scan(); {
		line := sc.Text()
		if line == "" && seen >= n {
			break
		}
		b.WriteString(line + "\n")
		if strings.HasPrefix(line, "id: ") {
			seen++
		}
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b.Bytes()}
}

// Every example of docs/http.md, sent in order to a server over an empty
// store, gets the answer shown; every route has a section.
func TestHTTPDocs(t *testing.T) {
	f := newFixture(t, "file")
	lines, blocks := readDoc(t)
	var out []string // the file rewritten, for -update
	next := 0
	hc := client()
	// Which route each example calls, and whether one succeeded.
	routes := http.NewServeMux()
	for _, r := range f.api.Routes() {
		routes.Handle(r, http.NotFoundHandler())
	}
	succeeded := map[string]bool{}
	for i := 0; i < len(blocks); i++ {
		b := blocks[i]
		if !b.isRequest() {
			continue
		}
		var shown *docBlock
		if i+1 < len(blocks) && blocks[i+1].isResponse() && strings.TrimSpace(strings.Join(lines[b.end:blocks[i+1].start], "")) == "" {
			shown = &blocks[i+1]
			i++
		}
		rq := parseDocRequest(f, b.text)
		var got reply
		if strings.HasPrefix(rq.path, "/api/events") {
			n := 2
			if shown != nil {
				n = strings.Count(strings.Join(shown.text, "\n"), "\nid: ")
			}
			got = f.eventsExample(t, rq, n)
		} else {
			var err error
			if got, err = f.send(hc, req{method: rq.method, path: rq.path, body: rq.body, headers: rq.headers}); err != nil {
				t.Fatal(err)
			}
		}
		if r, err := http.NewRequest(rq.method, rq.path, nil); err == nil {
			if _, pattern := routes.Handler(r); got.status < 300 {
				succeeded[pattern] = true
			}
		}
		ans := answer(got)
		out = append(out, lines[next:b.end]...)
		next = b.end
		if shown != nil {
			next = shown.end
			if !*update && !sameAnswer(shown.text, ans) {
				t.Errorf("docs/http.md:%d: %s %s: the server answers\n%s\nthe example shows\n%s", b.start+1, rq.method, rq.path,
					strings.Join(ans, "\n"), strings.Join(shown.text, "\n"))
			}
		} else if !*update {
			t.Errorf("docs/http.md:%d: %s %s has no answer shown (run with -update)", b.start+1, rq.method, rq.path)
		}
		out = append(out, "", "```http")
		out = append(out, ans...)
		out = append(out, "```")
	}
	out = append(out, lines[next:]...)
	if *update {
		if err := os.WriteFile(filepath.Clean(docsPath), []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	var documented []string
	for _, l := range lines {
		if m := docRouteHead.FindStringSubmatch(l); m != nil {
			documented = append(documented, m[1]+" "+m[2])
		}
	}
	slices.Sort(documented)
	if routes := f.api.Routes(); !slices.Equal(routes, documented) {
		t.Errorf("routes and docs/http.md's sections differ:\nserved     %v\ndocumented %v", routes, documented)
	}
	for _, r := range f.api.Routes() {
		if !succeeded[r] {
			t.Errorf("docs/http.md has no example of %s that succeeds", r)
		}
	}
}
