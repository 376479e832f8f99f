package mcpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/mcpserver"
)

// fixture is a server on an in-memory store and a client connected to it
// through the SDK's in-memory transports.
type fixture struct {
	t   *testing.T
	svc *app.Service
	cs  *mcp.ClientSession
}

func newFixture(t *testing.T, actor string) *fixture {
	t.Helper()
	st := memstore.New()
	svc := app.New(st, st, st)
	t.Cleanup(func() { svc.Close() }) // removes its temporary read model
	return connect(t, svc, actor)
}

func connect(t *testing.T, svc *app.Service, actor string) *fixture {
	t.Helper()
	ctx := context.Background()
	srv := mcpserver.New(svc, mcpserver.Options{Actor: actor, Store: "memory", Version: "test", Limit: 3})
	ct, st := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); ss.Wait() })
	return &fixture{t: t, svc: svc, cs: cs}
}

// call calls a tool and returns its result, failing the test on a protocol
// error.
func (f *fixture) call(name string, args any) *mcp.CallToolResult {
	f.t.Helper()
	res, err := f.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		f.t.Fatalf("%s: protocol error: %v", name, err)
	}
	return res
}

// ok calls a tool that must succeed and decodes its structured output.
func ok[Out any](f *fixture, name string, args any) Out {
	f.t.Helper()
	res := f.call(name, args)
	if res.IsError {
		f.t.Fatalf("%s %v: tool error %s", name, args, text(res))
	}
	var out Out
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		f.t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		f.t.Fatalf("%s: decode %s: %v", name, b, err)
	}
	// The text content says the same, for clients that read only text.
	if text(res) != string(b) {
		var a, c any
		json.Unmarshal(b, &a)
		json.Unmarshal([]byte(text(res)), &c)
		if fmt.Sprint(a) != fmt.Sprint(c) {
			f.t.Fatalf("%s: text %s differs from structured %s", name, text(res), b)
		}
	}
	return out
}

// problem is a failed call's error, as jerry --json prints it.
type problem struct {
	Code            string    `json:"code"`
	Message         string    `json:"message"`
	Holder          string    `json:"holder"`
	ExpiresAt       time.Time `json:"expires_at"`
	ExpectedVersion *int64    `json:"expected_version"`
	ActualVersion   *int64    `json:"actual_version"`
	Blockers        []struct {
		ID string `json:"id"`
	} `json:"blockers"`
}

// fail calls a tool that must fail and returns its error.
func (f *fixture) fail(name string, args any) problem {
	f.t.Helper()
	res := f.call(name, args)
	if !res.IsError {
		f.t.Fatalf("%s %v: succeeded, want a tool error: %s", name, args, text(res))
	}
	var body struct {
		Error problem `json:"error"`
	}
	if err := json.Unmarshal([]byte(text(res)), &body); err != nil || body.Error.Code == "" || body.Error.Message == "" {
		f.t.Fatalf("%s: error text %q is not jerry's error shape (%v)", name, text(res), err)
	}
	return body.Error
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// export returns every event in the store, to compare before and after.
func (f *fixture) export() string {
	f.t.Helper()
	var b bytes.Buffer
	if _, err := f.svc.Export(context.Background(), &b); err != nil {
		f.t.Fatal(err)
	}
	return b.String()
}

var allTools = []string{"block", "blocked", "changes_since", "claim", "comment", "create", "heartbeat", "history", "list",
	"ready", "release", "show", "status", "unblock", "whoami"}

func TestToolsHaveDescribedSchemas(t *testing.T) {
	f := newFixture(t, "ann")
	var names []string
	for tool, err := range f.cs.Tools(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tool.Name)
		if tool.Description == "" {
			t.Errorf("%s: no description", tool.Name)
		}
		in, out := asMap(t, tool.InputSchema), asMap(t, tool.OutputSchema)
		if in["type"] != "object" || in["additionalProperties"] != false {
			t.Errorf("%s: input schema %v: want an object that refuses unknown fields", tool.Name, in)
		}
		if out == nil || out["type"] != "object" {
			t.Errorf("%s: output schema %v: want an object", tool.Name, out)
		}
		checkDescribed(t, tool.Name+" input", in)
		checkDescribed(t, tool.Name+" output", out)
		if _, ok := asMap(t, in["properties"])["actor"]; ok {
			t.Errorf("%s takes an actor: it must be fixed when the server starts", tool.Name)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, allTools) {
		t.Fatalf("tools %q, want %q", names, allTools)
	}
}

func asMap(t *testing.T, v any) map[string]any {
	t.Helper()
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkDescribed checks that every property of schema, nested ones
// included, has a description.
func checkDescribed(t *testing.T, where string, schema map[string]any) {
	t.Helper()
	props, _ := schema["properties"].(map[string]any)
	for name, p := range props {
		ps, _ := p.(map[string]any)
		if d, _ := ps["description"].(string); strings.TrimSpace(d) == "" {
			t.Errorf("%s: field %s has no description", where, name)
		}
		checkDescribed(t, where+"."+name, ps)
		if items, ok := ps["items"].(map[string]any); ok {
			checkDescribed(t, where+"."+name+"[]", items)
		}
	}
}

func TestEveryTool(t *testing.T) {
	f := newFixture(t, "agent-1")

	who := ok[mcpserver.Who](f, "whoami", nil)
	if who.Actor != "agent-1" || who.Store != "memory" {
		t.Fatalf("whoami %+v", who)
	}

	a := ok[mcpserver.Written](f, "create", map[string]any{"title": "Fix the login timeout", "type": "bug", "priority": "high"})
	if a.Item.ID != "J-1" || a.Item.Type != "bug" || a.Item.Priority != "high" || a.Item.Status != "backlog" || len(a.Changes) != 1 {
		t.Fatalf("create: %+v", a)
	}
	b := ok[mcpserver.Written](f, "create", map[string]any{"title": "Write the guide", "description": "for users"})
	for i := range 3 {
		ok[mcpserver.Written](f, "create", map[string]any{"title": fmt.Sprint("filler ", i), "priority": "low"})
	}

	blk := ok[mcpserver.Written](f, "block", map[string]any{"id": b.Item.ID, "blocker": a.Item.ID})
	if !slices.Equal(blk.Item.Blockers, []string{"J-1"}) {
		t.Fatalf("block: %+v", blk)
	}
	// show says what each blocker is at, and what waits on the item.
	if sh := ok[mcpserver.Item](f, "show", map[string]any{"id": "J-2"}); len(sh.WaitingOn) != 1 || sh.WaitingOn[0].Status != "backlog" {
		t.Fatalf("show J-2: %+v", sh)
	}
	if sh := ok[mcpserver.Item](f, "show", map[string]any{"id": "J-1"}); len(sh.Blocks) != 1 || sh.Blocks[0].ID != "J-2" {
		t.Fatalf("show J-1: %+v", sh)
	}
	waiting := ok[mcpserver.WaitingItems](f, "blocked", nil)
	if waiting.Total != 1 || waiting.Items[0].ID != "J-2" || len(waiting.Items[0].WaitingOn) != 1 ||
		waiting.Items[0].WaitingOn[0].ID != "J-1" || waiting.Items[0].WaitingOn[0].Status != "backlog" {
		t.Fatalf("blocked: %+v", waiting)
	}

	// ready lists the most urgent first, cut to the server's limit of 3.
	r := ok[mcpserver.Ready](f, "ready", nil)
	if r.Total != 4 || !r.Truncated || len(r.Items) != 3 || r.Items[0].ID != "J-1" || r.Claimed != nil {
		t.Fatalf("ready: %+v", r)
	}
	if r := ok[mcpserver.Ready](f, "ready", map[string]any{"limit": 1}); len(r.Items) != 1 || r.Total != 4 {
		t.Fatalf("ready limit 1: %+v", r)
	}
	// ready with claim takes the first and starts it, for the lease asked.
	claimed := ok[mcpserver.Ready](f, "ready", map[string]any{"claim": true, "lease": "30m"})
	c1 := claimed.Claimed
	if c1 == nil || c1.ID != "J-1" || c1.Assignee != "agent-1" || c1.Status != "in_progress" || c1.Claim == nil ||
		c1.Claim.Holder != "agent-1" || c1.Claim.Expired || c1.Claim.ExpiresAt.Sub(c1.Claim.Since).Round(time.Second) != 30*time.Minute {
		t.Fatalf("ready claim: %+v, claim %+v", c1, c1.Claim)
	}
	hb := ok[mcpserver.Written](f, "heartbeat", map[string]any{"id": "J-1", "lease": "1h"})
	if hb.Item.Claim == nil || !hb.Item.Claim.ExpiresAt.After(c1.Claim.ExpiresAt) || len(hb.Changes) != 1 {
		t.Fatalf("heartbeat: %+v", hb)
	}

	st := ok[mcpserver.Written](f, "status", map[string]any{"id": "J-1", "status": "in_progress", "reason": "picked up"})
	if st.Item.Status != "in_progress" || len(st.Changes) != 0 {
		t.Fatalf("status in_progress again: %+v", st)
	}
	c := ok[mcpserver.Written](f, "comment", map[string]any{"id": "1", "text": "found it", "expect_version": st.Item.Version})
	if c.Item.Version != st.Item.Version+1 || c.Changes[0] != `comment: "found it"` {
		t.Fatalf("comment: %+v", c)
	}
	done := ok[mcpserver.Written](f, "status", map[string]any{"id": "J-1", "status": "done"})
	if done.Item.Status != "done" {
		t.Fatalf("done: %+v", done)
	}
	if w := ok[mcpserver.WaitingItems](f, "blocked", nil); w.Total != 0 || len(w.Items) != 0 {
		t.Fatalf("blocked after J-1 done: %+v", w)
	}

	// Claim and release, and unblock.
	cl := ok[mcpserver.Written](f, "claim", map[string]any{"id": "J-3", "start": true})
	if cl.Item.Assignee != "agent-1" || cl.Item.Status != "in_progress" || cl.Item.Claim == nil {
		t.Fatalf("claim: %+v", cl)
	}
	if again := ok[mcpserver.Written](f, "claim", map[string]any{"id": "J-3"}); len(again.Changes) != 0 {
		t.Fatalf("claiming a held item again recorded %q", again.Changes)
	}
	rel := ok[mcpserver.Written](f, "release", map[string]any{"id": "J-3", "reason": "lunch"})
	if rel.Item.Assignee != "" || rel.Item.Claim != nil || rel.Item.Status != "backlog" || len(rel.Changes) == 0 {
		t.Fatalf("release: %+v", rel)
	}
	ub := ok[mcpserver.Written](f, "unblock", map[string]any{"id": "J-2", "blocker": "J-1"})
	if len(ub.Item.Blockers) != 0 {
		t.Fatalf("unblock: %+v", ub)
	}

	// show: now, at a version, as of a time.
	sh := ok[mcpserver.Item](f, "show", map[string]any{"id": "J-1"})
	if sh.Status != "done" || len(sh.Comments) != 1 || sh.Comments[0].Author != "agent-1" || sh.Version != done.Item.Version {
		t.Fatalf("show: %+v", sh)
	}
	// show gives the latest comments, up to the limit, and their number.
	for i := range 4 {
		ok[mcpserver.Written](f, "comment", map[string]any{"id": "J-4", "text": fmt.Sprint("note ", i)})
	}
	if sh := ok[mcpserver.Item](f, "show", map[string]any{"id": "J-4", "limit": 2}); sh.CommentsAll != 4 || len(sh.Comments) != 2 || sh.Comments[1].Text != "note 3" {
		t.Fatalf("show limit 2: %+v", sh)
	}
	if at := ok[mcpserver.Item](f, "show", map[string]any{"id": "J-1", "at": 1}); at.Status != "backlog" || at.Version != 1 {
		t.Fatalf("show at 1: %+v", at)
	}
	asOf := sh.CreatedAt.Add(-time.Second).Format(time.RFC3339Nano)
	if e := f.fail("show", map[string]any{"id": "J-1", "as_of": asOf}); e.Code != "not_found" {
		t.Fatalf("show before creation: %+v", e)
	}
	if now := ok[mcpserver.Item](f, "show", map[string]any{"id": "J-1", "as_of": time.Now().Add(time.Hour).Format(time.RFC3339)}); now.Status != "done" {
		t.Fatalf("show as of later: %+v", now)
	}

	// list with each filter.
	if l := ok[mcpserver.Items](f, "list", nil); l.Total != 5 || len(l.Items) != 3 || !l.Truncated {
		t.Fatalf("list: %+v", l)
	}
	if l := ok[mcpserver.Items](f, "list", map[string]any{"status": "done"}); l.Total != 1 || l.Items[0].ID != "J-1" {
		t.Fatalf("list done: %+v", l)
	}
	if l := ok[mcpserver.Items](f, "list", map[string]any{"type": "bug", "assignee": "agent-1"}); l.Total != 1 {
		t.Fatalf("list bug agent-1: %+v", l)
	}
	if l := ok[mcpserver.Items](f, "list", map[string]any{"initiative": "I-1"}); l.Total != 0 || l.Items == nil && l.Truncated {
		t.Fatalf("list initiative: %+v", l)
	}
	if l := ok[mcpserver.Items](f, "list", map[string]any{"as_of": sh.CreatedAt.Format(time.RFC3339Nano), "limit": 10}); l.Total != 1 || l.Items[0].Status != "backlog" {
		t.Fatalf("list as of J-1's creation: %+v", l)
	}

	// history: every event (created, claimed, started, heartbeat, comment,
	// done), cut to the limit; from_version pages on.
	h := ok[mcpserver.History](f, "history", map[string]any{"id": "J-1"})
	if h.Total != 6 || len(h.Events) != 3 || !h.Truncated || h.Events[0].Type != "workitem.created" || h.Events[0].Actor != "agent-1" {
		t.Fatalf("history: %+v", h)
	}
	if h := ok[mcpserver.History](f, "history", map[string]any{"id": "J-1", "from_version": 5}); len(h.Events) != 2 || h.Truncated || h.Events[1].Change != "status in_progress -> done" {
		t.Fatalf("history from 4: %+v", h)
	}

	// changes_since: the feed of item changes, paged by next_position.
	var feed []mcpserver.Event
	pos := int64(0)
	for range 20 {
		page := ok[mcpserver.Feed](f, "changes_since", map[string]any{"position": pos})
		feed = append(feed, page.Changes...)
		pos = page.Next
		if !page.Truncated {
			break
		}
	}
	log := f.export()
	if want := strings.Count(log, `"stream":"workitem-`); len(feed) != want || want < 10 {
		t.Fatalf("feed has %d changes, the log %d item events", len(feed), want)
	}
	if empty := ok[mcpserver.Feed](f, "changes_since", map[string]any{"position": pos}); len(empty.Changes) != 0 || empty.Next != pos {
		t.Fatalf("feed after its end: %+v", empty)
	}
	since := ok[mcpserver.Feed](f, "changes_since", map[string]any{"since": feed[len(feed)-2].Time.Format(time.RFC3339Nano), "limit": 100})
	for _, c := range since.Changes {
		if !c.Time.After(feed[len(feed)-2].Time) {
			t.Fatalf("since: change %+v is not later", c)
		}
	}

	// Every event carries the server's actor.
	for rec, err := range f.svc.Log(context.Background(), 1) {
		if err != nil {
			t.Fatal(err)
		}
		if rec.Metadata.Actor != "agent-1" || rec.Metadata.CorrelationID == "" {
			t.Fatalf("event %d: metadata %+v", rec.Position, rec.Metadata)
		}
	}
}

func TestWorkflowResourceAndPrompt(t *testing.T) {
	f := newFixture(t, "ann")
	ctx := context.Background()
	if got := f.cs.InitializeResult().Instructions; got != mcpserver.Workflow {
		t.Fatalf("instructions %q", got)
	}
	res, err := f.cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: mcpserver.WorkflowURI})
	if err != nil || len(res.Contents) != 1 || res.Contents[0].Text != mcpserver.Workflow {
		t.Fatalf("resource: %+v, %v", res, err)
	}
	p, err := f.cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "workflow"})
	if err != nil || len(p.Messages) != 1 || p.Messages[0].Content.(*mcp.TextContent).Text != mcpserver.Workflow {
		t.Fatalf("prompt: %+v, %v", p, err)
	}
	for _, word := range []string{"ready", "claim", "heartbeat", "comment", "done", "claimed", "blocked", "release"} {
		if !strings.Contains(mcpserver.Workflow, word) {
			t.Errorf("the workflow does not mention %s", word)
		}
	}
}

func TestBadArgumentsFailWithCodesAndWriteNothing(t *testing.T) {
	f := newFixture(t, "ann")
	ok[mcpserver.Written](f, "create", map[string]any{"title": "a"})
	ok[mcpserver.Written](f, "create", map[string]any{"title": "b"})
	ok[mcpserver.Written](f, "block", map[string]any{"id": "J-2", "blocker": "J-1"})
	other := connect(t, f.svc, "bob")
	ok[mcpserver.Written](other, "claim", map[string]any{"id": "J-1"})
	before := f.export()

	for _, c := range []struct {
		tool string
		args map[string]any
		code string
	}{
		// Arguments that do not fit the schema, or that the tool refuses.
		{"create", map[string]any{}, "usage"},                                 // missing title
		{"create", map[string]any{"title": 7}, "usage"},                       // wrong type
		{"create", map[string]any{"title": "x", "actor": "mallory"}, "usage"}, // no actor argument
		{"status", map[string]any{"id": "J-1"}, "usage"},                      // missing status
		{"comment", map[string]any{"id": "J-1", "text": "x", "expect_version": "1"}, "usage"},
		{"ready", map[string]any{"claim": "yes"}, "usage"},
		{"list", map[string]any{"limit": 1.5}, "usage"},
		// Values the use cases refuse.
		{"create", map[string]any{"title": "  "}, "invalid_input"},
		{"create", map[string]any{"title": "x", "type": "epic"}, "invalid_input"},
		{"create", map[string]any{"title": "x", "priority": "urgent"}, "invalid_input"},
		{"create", map[string]any{"title": "x", "initiative": "I-9"}, "not_found"},
		{"status", map[string]any{"id": "J-1", "status": "finished"}, "invalid_input"},
		{"status", map[string]any{"id": "J-2", "status": "in_progress"}, "blocked"},
		{"list", map[string]any{"status": "nope"}, "invalid_input"},
		{"list", map[string]any{"as_of": "last tuesday"}, "usage"},
		{"list", map[string]any{"limit": -1}, "usage"},
		{"show", map[string]any{"id": "J-1", "at": 1, "as_of": "2026-01-01T00:00:00Z"}, "usage"},
		{"comment", map[string]any{"id": "J-1", "text": ""}, "invalid_input"},
		{"comment", map[string]any{"id": "J-1", "text": "x", "expect_version": -2}, "usage"},
		{"block", map[string]any{"id": "J-1", "blocker": "J-2"}, "cycle"},
		{"block", map[string]any{"id": "J-1", "blocker": "J-1"}, "invalid_input"},
		{"changes_since", map[string]any{"position": -1}, "invalid_input"},
		// Unknown items.
		{"show", map[string]any{"id": "J-99"}, "not_found"},
		{"history", map[string]any{"id": "J-99"}, "not_found"},
		{"comment", map[string]any{"id": "J-99", "text": "x"}, "not_found"},
		{"status", map[string]any{"id": "J-99", "status": "done"}, "not_found"},
		{"claim", map[string]any{"id": "J-99"}, "not_found"},
		{"block", map[string]any{"id": "J-1", "blocker": "J-99"}, "not_found"},
		{"unblock", map[string]any{"id": "J-99", "blocker": "J-2"}, "not_found"},
		{"heartbeat", map[string]any{"id": "J-99"}, "not_found"},
		{"ready", map[string]any{"claim": true, "lease": "forever"}, "usage"},
		{"claim", map[string]any{"id": "J-2", "lease": "-1h"}, "usage"},
		{"ready", map[string]any{"lease": "1h"}, "usage"}, // a lease without claim
		// Conflicts.
		{"comment", map[string]any{"id": "J-1", "text": "x", "expect_version": 1}, "conflict"},
		{"release", map[string]any{"id": "J-1"}, "claimed"},
		{"status", map[string]any{"id": "J-1", "status": "ready"}, "claimed"},
	} {
		e := f.fail(c.tool, c.args)
		if e.Code != c.code {
			t.Errorf("%s %v: code %s (%s), want %s", c.tool, c.args, e.Code, e.Message, c.code)
		}
	}

	// A claim conflict names the holder; a version conflict both versions.
	e := f.fail("claim", map[string]any{"id": "J-1"})
	if e.Code != "claimed" || e.Holder != "bob" || e.ExpiresAt.IsZero() {
		t.Fatalf("claim conflict: %+v", e)
	}
	e = f.fail("status", map[string]any{"id": "J-1", "status": "ready", "expect_version": 1})
	if e.Code != "conflict" || e.ExpectedVersion == nil || *e.ExpectedVersion != 1 || e.ActualVersion == nil || *e.ActualVersion != 2 {
		t.Fatalf("version conflict: %+v", e)
	}
	if after := f.export(); after != before {
		t.Fatalf("failed calls wrote:\n%s", strings.TrimPrefix(after, before))
	}

	// Nothing ready to claim is not_found, and writes nothing either.
	ok[mcpserver.Written](f, "claim", map[string]any{"id": "J-2"})
	before = f.export()
	if e := f.fail("ready", map[string]any{"claim": true}); e.Code != "not_found" {
		t.Fatalf("ready claim with nothing ready: %+v", e)
	}
	if f.export() != before {
		t.Fatal("ready claim with nothing ready wrote")
	}
}

func TestUnknownToolIsAProtocolError(t *testing.T) {
	f := newFixture(t, "ann")
	if _, err := f.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_everything"}); err == nil {
		t.Fatal("an unknown tool was called")
	}
}

// show as of a past moment tells the claim as it stood then, as the CLI
// does: held inside its lease, though it has expired since.
func TestShowAsOfTellsThePastClaim(t *testing.T) {
	f := newFixture(t, "agent-7")
	created := ok[mcpserver.Written](f, "create", map[string]any{"title": "Short lease"})
	claimed := ok[mcpserver.Written](f, "claim", map[string]any{"id": created.Item.ID, "lease": "1s"})
	c := claimed.Item.Claim
	if c == nil || c.Expired {
		t.Fatalf("claim: %+v", c)
	}
	for time.Now().Before(c.ExpiresAt.Add(100 * time.Millisecond)) {
		time.Sleep(50 * time.Millisecond)
	}
	inside := c.Since.Add(300 * time.Millisecond).Format(time.RFC3339Nano)
	then := ok[mcpserver.Item](f, "show", map[string]any{"id": created.Item.ID, "as_of": inside})
	now := ok[mcpserver.Item](f, "show", map[string]any{"id": created.Item.ID})
	if then.Claim == nil || then.Claim.Expired || now.Claim == nil || !now.Claim.Expired {
		t.Fatalf("as of %s: %+v; now: %+v; want held then, expired now", inside, then.Claim, now.Claim)
	}
}
