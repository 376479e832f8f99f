package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// These tests start the real jerry binary as "jerry mcp" and talk to it
// over stdio through the SDK's command transport, as an MCP client does.

// mcpAgent is one "jerry mcp" process and a client session with it.
type mcpAgent struct {
	t      *testing.T
	cs     *mcp.ClientSession
	stderr *bytes.Buffer
}

// startMCP starts "jerry mcp" on the env's store as actor and connects to it.
func (e *env) startMCP(actor string) *mcpAgent {
	e.t.Helper()
	cmd := exec.Command(jerryBin, "mcp", "--actor", actor)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), "JERRY_STORE="+e.store, "TZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "jerry-e2e", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		e.t.Fatalf("start jerry mcp: %v\n%s", err, stderr.String())
	}
	a := &mcpAgent{t: e.t, cs: cs, stderr: &stderr}
	e.t.Cleanup(func() {
		// Closing stdin ends the server; it must exit cleanly.
		if err := cs.Close(); err != nil {
			e.t.Errorf("jerry mcp as %s: %v\nstderr: %s", actor, err, stderr.String())
		}
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			e.t.Errorf("jerry mcp as %s exited %d\nstderr: %s", actor, code, stderr.String())
		}
	})
	return a
}

// call calls a tool and decodes its structured result into out; it fails
// the test on any error.
func (a *mcpAgent) call(name string, args map[string]any, out any) {
	a.t.Helper()
	res, err := a.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		a.t.Fatalf("%s: %v\nstderr: %s", name, err, a.stderr.String())
	}
	if res.IsError {
		a.t.Fatalf("%s %v: %s", name, args, res.Content[0].(*mcp.TextContent).Text)
	}
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, out); err != nil {
		a.t.Fatalf("%s: %v\n%s", name, err, b)
	}
}

type mcpItem struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Assignee string `json:"assignee"`
	Version  int64  `json:"version"`
}

func TestMCPAgentLoop(t *testing.T) {
	e := newEnv(t)
	e.create("Fix the login timeout", "--priority", "high")
	e.create("Write the guide")
	a := e.startMCP("agent-7")

	var who struct{ Actor string }
	a.call("whoami", nil, &who)
	if who.Actor != "agent-7" {
		t.Fatalf("whoami: %+v", who)
	}
	var ready struct{ Claimed *mcpItem }
	a.call("ready", map[string]any{"claim": true}, &ready)
	if ready.Claimed == nil || ready.Claimed.ID != "J-1" || ready.Claimed.Assignee != "agent-7" {
		t.Fatalf("ready claim: %+v", ready)
	}
	var w struct{ Item mcpItem }
	a.call("heartbeat", map[string]any{"id": "J-1", "lease": "1h"}, &w)
	a.call("comment", map[string]any{"id": "J-1", "text": "the timeout was 5 s; made it 30 s"}, &w)
	a.call("status", map[string]any{"id": "J-1", "status": "done", "reason": "fixed", "expect_version": w.Item.Version}, &w)
	if w.Item.Status != "done" {
		t.Fatalf("after done: %+v", w)
	}

	// The CLI sees what the agent did, recorded as the agent.
	var it item
	e.okJSON(&it, "show", "J-1")
	if it.Status != "done" || it.Assignee != "agent-7" || len(it.Comments) != 1 || it.Comments[0].Author != "agent-7" {
		t.Fatalf("jerry show J-1: %+v", it)
	}
	var h []entry
	e.okJSON(&h, "history", "J-1")
	var types []string
	for _, en := range h {
		if en.Actor != "agent-7" && en.Version > 1 {
			t.Errorf("event %d by %s, want agent-7", en.Version, en.Actor)
		}
		types = append(types, en.Type)
	}
	want := []string{"workitem.created", "workitem.claimed", "workitem.status_changed", "workitem.heartbeat", "workitem.commented", "workitem.status_changed"}
	if !slices.Equal(types, want) {
		t.Fatalf("history %q, want %q", types, want)
	}
	// And the agent sees the CLI's writes.
	var feed struct {
		Changes []struct{ Item, Actor, Change string }
		Next    int64 `json:"next_position"`
	}
	a.call("changes_since", map[string]any{"limit": 100}, &feed)
	e.ok("comment", "J-2", "from the CLI")
	a.call("changes_since", map[string]any{"position": feed.Next}, &feed)
	if len(feed.Changes) != 1 || feed.Changes[0].Item != "J-2" || feed.Changes[0].Actor != "tester" {
		t.Fatalf("changes since the agent's last write: %+v", feed)
	}
}

// TestMCPEightAgentsClaimAtOnce starts 8 jerry mcp processes on one file
// store and has them all call ready with claim at the same moment: each
// must get a different item.
func TestMCPEightAgentsClaimAtOnce(t *testing.T) {
	const n = 8
	e := newEnv(t)
	for i := range n + 2 {
		e.create(fmt.Sprint("task ", i))
	}
	agents := make([]*mcpAgent, n)
	var wg sync.WaitGroup
	for i := range agents {
		wg.Go(func() { agents[i] = e.startMCP(fmt.Sprint("agent-", i)) })
	}
	wg.Wait()
	// Every server is up (initialized); release all calls at once.
	start := make(chan struct{})
	got := make([]string, n)
	for i, a := range agents {
		wg.Go(func() {
			<-start
			res, err := a.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "ready", Arguments: map[string]any{"claim": true}})
			if err != nil || res.IsError {
				t.Errorf("agent-%d: %v %+v", i, err, res)
				return
			}
			var r struct{ Claimed mcpItem }
			b, _ := json.Marshal(res.StructuredContent)
			json.Unmarshal(b, &r)
			if r.Claimed.Assignee != fmt.Sprint("agent-", i) {
				t.Errorf("agent-%d got %+v", i, r.Claimed)
			}
			got[i] = r.Claimed.ID
		})
	}
	close(start)
	wg.Wait()
	seen := map[string]bool{}
	for i, id := range got {
		if id == "" || seen[id] {
			t.Fatalf("agent-%d got %q; all got %q", i, id, got)
		}
		seen[id] = true
	}
	// The store agrees: 8 items held and started, by 8 different agents.
	var items []item
	e.okJSON(&items, "list")
	holders := map[string]string{}
	for _, it := range items {
		if it.Assignee != "" {
			holders[it.Assignee] = it.ID
		}
	}
	if len(holders) != n || strings.TrimSpace(e.ok("ready", "--limit", "0")) == "nothing ready" {
		t.Fatalf("holders %v", holders)
	}
	e.ok("verify")
}
