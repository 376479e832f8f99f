package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// docShape is one JSON shape as docs/json.md documents it.
type docShape struct {
	fields   map[string]bool // name -> optional
	nested   map[string]string
	exitCode map[string]int // for the error shape: code -> exit code
}

var (
	docRow  = regexp.MustCompile("^\\| `([a-z_]+)` \\| ([^|]*)\\|")
	docLink = regexp.MustCompile(`\[[a-z ]+\]\(#([a-z-]+)\)`)
)

// readDocShapes parses docs/json.md: a "## name" heading per shape, then a
// table whose first column is "field" (rows: `name` | type | meaning) or,
// for the error shape, "code" (rows: `code` | exit code | meaning).
func readDocShapes(t *testing.T) map[string]*docShape {
	f, err := os.Open(filepath.Join("..", "..", "docs", "json.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	shapes := map[string]*docShape{}
	var cur *docShape
	table := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			cur = &docShape{fields: map[string]bool{}, nested: map[string]string{}, exitCode: map[string]int{}}
			shapes[strings.ReplaceAll(strings.TrimPrefix(line, "## "), " ", "-")] = cur
			table = ""
		case cur != nil && strings.HasPrefix(line, "| field |"):
			table = "field"
		case cur != nil && strings.HasPrefix(line, "| code |"):
			table = "code"
		}
		m := docRow.FindStringSubmatch(line)
		if cur == nil || m == nil {
			continue
		}
		switch table {
		case "field":
			cur.fields[m[1]] = strings.Contains(m[2], "*optional*")
			if l := docLink.FindStringSubmatch(m[2]); l != nil {
				cur.nested[m[1]] = l[1]
			}
		case "code":
			n, err := strconv.Atoi(strings.TrimSpace(m[2]))
			if err != nil {
				t.Fatalf("docs/json.md: exit code of %s: %v", m[1], err)
			}
			cur.exitCode[m[1]] = n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return shapes
}

// checkShape fails the test unless doc is an object with every field the
// shape requires and none it does not document, recursively.
func checkShape(t *testing.T, what string, shapes map[string]*docShape, name string, doc json.RawMessage) {
	t.Helper()
	s := shapes[name]
	if s == nil {
		t.Fatalf("%s: docs/json.md has no shape %q", what, name)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(doc, &obj); err != nil {
		t.Fatalf("%s: %s is not an object: %v", what, doc, err)
	}
	for k, v := range obj {
		if _, ok := s.fields[k]; !ok {
			t.Errorf("%s: field %q is not documented in docs/json.md ## %s", what, k, name)
			continue
		}
		if sub, ok := s.nested[k]; ok {
			var arr []json.RawMessage
			if json.Unmarshal(v, &arr) != nil {
				arr = []json.RawMessage{v}
			}
			for _, el := range arr {
				checkShape(t, what+"."+k, shapes, sub, el)
			}
		}
	}
	for k, optional := range s.fields {
		if _, ok := obj[k]; !ok && !optional {
			t.Errorf("%s: documented field %q (docs/json.md ## %s) is missing", what, k, name)
		}
	}
}

// Every command's --json output has the shape docs/json.md documents, and
// every error the code and exit code it documents.
func TestJSONShapesMatchDocs(t *testing.T) {
	shapes := readDocShapes(t)
	e := newEnv(t)
	e.ok("init", "--json")
	init := e.ok("initiative", "create", "Q4")
	init = strings.TrimSpace(init)
	a := e.create("Alpha", "--initiative", init, "--description", "d")
	b := e.create("Beta")
	export := filepath.Join(e.dir, "export.jsonl")
	type form int
	const (
		object form = iota
		array
		lines
	)
	for _, tc := range []struct {
		args  []string
		shape string
		form  form
	}{
		{[]string{"create", "Gamma"}, "item", object},
		{[]string{"comment", a, "a note"}, "item", object},
		{[]string{"status", a, "ready"}, "item", object},
		{[]string{"edit", a, "--priority", "high"}, "item", object},
		{[]string{"assign", b, "carol"}, "item", object},
		{[]string{"release", b, "--force"}, "item", object},
		{[]string{"block", b, a}, "item", object},
		{[]string{"unblock", b, a}, "item", object},
		{[]string{"claim", a}, "item", object},
		{[]string{"show", a}, "item", object},
		{[]string{"list"}, "item", array},
		{[]string{"ready"}, "item", array},
		{[]string{"ready", "--claim"}, "item", object},
		{[]string{"history", a}, "history-entry", array},
		{[]string{"log"}, "log-record", lines},
		{[]string{"initiative", "add", init, b}, "initiative", object},
		{[]string{"initiative", "remove", init, b}, "initiative", object},
		{[]string{"initiative", "show", init}, "initiative-detail", object},
		{[]string{"initiative", "reopen", init}, "initiative", object},
		{[]string{"heartbeat", a}, "item", object},
		{[]string{"block", b, a}, "item", object},
		{[]string{"blocked"}, "stuck-item", array},
		{[]string{"unblock", b, a}, "item", object},
		{[]string{"initiative", "list"}, "initiative", array},
		{[]string{"initiative", "history", init}, "history-entry", array},
		{[]string{"initiative", "complete", init, "--force"}, "initiative", object},
		{[]string{"token", "create", "--actor", "ci", "--role", "read"}, "token", object},
		{[]string{"token", "list"}, "token", array},
		{[]string{"verify"}, "verify-report", object},
		{[]string{"export", export}, "export-result", object},
		{[]string{"export"}, "export-line", lines},
		{[]string{"rebuild"}, "rebuild-result", object},
		{[]string{"stats"}, "stats", object},
		{[]string{"stats", "--since", "2d"}, "stats", object},
	} {
		what := "jerry " + strings.Join(tc.args, " ") + " --json"
		out := e.ok(append(tc.args, "--json")...)
		var docs []json.RawMessage
		switch tc.form {
		case object:
			docs = []json.RawMessage{json.RawMessage(out)}
		case array:
			if err := json.Unmarshal([]byte(out), &docs); err != nil {
				t.Fatalf("%s: not an array: %v", what, err)
			}
		case lines:
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				docs = append(docs, json.RawMessage(l))
			}
		}
		if len(docs) == 0 {
			t.Errorf("%s: nothing to check", what)
		}
		for _, d := range docs {
			checkShape(t, what, shapes, tc.shape, d)
		}
	}
	imp := newEnv(t)
	out := imp.runIn([]byte(e.ok("export")), "import", "--json")
	checkShape(t, "jerry import --json", shapes, "import-result", json.RawMessage(out.stdout))

	e.ok("block", a, b)
	closed := e.create("Delta")
	e.ok("status", closed, "cancelled")
	codes := map[string]bool{}
	for _, tc := range [][]string{
		{"frobnicate"}, {"status", a, "doing"}, {"show", "J-99"}, {"block", a, a},
		{"comment", a, "late", "--expect-version", "1"}, {"--actor", "dave", "claim", a},
		{"status", closed, "ready"}, {"block", b, a}, {"status", a, "in_progress"},
	} {
		r := e.run(append(tc, "--json")...)
		var doc struct{ Error json.RawMessage }
		if err := json.Unmarshal([]byte(r.stderr), &doc); err != nil || doc.Error == nil {
			t.Fatalf("jerry %v --json: stderr %q is not {\"error\":{...}}", tc, r.stderr)
		}
		what := "error of jerry " + strings.Join(tc, " ")
		checkShape(t, what, shapes, "error", doc.Error)
		var p struct{ Code string }
		json.Unmarshal(doc.Error, &p)
		want, ok := shapes["error"].exitCode[p.Code]
		if !ok {
			t.Errorf("%s: code %q is not in docs/json.md's table", what, p.Code)
		} else if r.code != want {
			t.Errorf("%s: code %q, exit %d; docs/json.md says exit %d", what, p.Code, r.code, want)
		}
		codes[p.Code] = true
	}
	for _, want := range []string{"usage", "invalid_input", "not_found", "conflict", "claimed", "cycle", "invalid_transition", "blocked"} {
		if !codes[want] {
			t.Errorf("no error case gave code %q (got %v)", want, slices.Sorted(func(yield func(string) bool) {
				for c := range codes {
					if !yield(c) {
						return
					}
				}
			}))
		}
	}
}
