package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// On SIGINT or SIGTERM, serve stops taking connections but lets a request
// in flight finish, and ends streams through onShutdown.
func TestServeShutsDownGracefully(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inside, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inside)
		<-release
		io.WriteString(w, "finished")
	})
	ctx, stop := context.WithCancel(context.Background())
	streamsEnded := make(chan struct{})
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln, h, func() { close(streamsEnded) }) }()
	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			answer <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answer <- string(b)
	}()
	<-inside
	stop() // the signal
	<-streamsEnded
	select {
	case err := <-served:
		t.Fatalf("serve returned (%v) with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("a new connection was accepted after the signal")
	}
	close(release)
	if got := <-answer; got != "finished" {
		t.Fatalf("the request in flight got %q", got)
	}
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

func TestLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:7070": true, "localhost:80": true, "[::1]:7070": true, "127.0.0.2:1": true,
		"0.0.0.0:7070": false, ":7070": false, "[::]:7070": false, "192.168.1.5:7070": false, "example.com:80": false, "nonsense": false,
	} {
		if got := loopbackAddr(addr); got != want {
			t.Errorf("loopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

// jerry serve as a user runs it: it refuses a public address without
// tokens, serves the API with them, records the token's actor, sees a
// revoked token stop working, and exits 0 on SIGTERM, ending a live
// event stream.
func TestServeE2E(t *testing.T) {
	e := newEnv(t)
	if r := e.run("serve", "--addr", "0.0.0.0:0"); r.code != exitUsage || !strings.Contains(r.stderr, "token") {
		t.Fatalf("serve on 0.0.0.0 without tokens: exit %d, %s", r.code, r.stderr)
	}
	var tok struct{ ID, Actor, Role, Secret string }
	e.okJSON(&tok, "token", "create", "--actor", "ci-agent", "--role", "write")
	if !strings.HasPrefix(tok.Secret, "jerry_") || tok.Actor != "ci-agent" || tok.Role != "write" {
		t.Fatalf("token create: %+v", tok)
	}
	list := e.ok("token", "list", "--json")
	if strings.Contains(list, tok.Secret) || !strings.Contains(list, tok.ID) {
		t.Fatalf("token list shows the secret or lacks the token: %s", list)
	}

	cmd := exec.Command(jerryBin, "serve", "--addr", "127.0.0.1:0")
	cmd.Dir = e.dir
	cmd.Env = append(cmd.Environ(), "JERRY_STORE="+e.store, "JERRY_ACTOR=tester")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	base := line[strings.Index(line, "http://"):strings.Index(line, " (")]

	do := func(method, path, secret, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if secret != "" {
			req.Header.Set("Authorization", "Bearer "+secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc map[string]any
		json.NewDecoder(resp.Body).Decode(&doc)
		return resp.StatusCode, doc
	}
	// The server and the jerry command share the store: an item created by
	// one is seen by the other.
	if code, doc := do("POST", "/api/items", tok.Secret, `{"title":"First"}`); code != 201 {
		t.Fatalf("create with a token: %d %v", code, doc)
	}
	e.ok("show", "J-1")
	if code, doc := do("POST", "/api/items/J-1/comments", tok.Secret, `{"text":"from afar"}`); code != 200 {
		t.Fatalf("comment with a token: %d %v", code, doc)
	}
	if code, doc := do("GET", "/api/whoami", "", ""); code != 200 || doc["actor"] != "tester" {
		t.Fatalf("whoami from loopback without a token: %d %v", code, doc)
	}
	hist := e.ok("history", "J-1", "--json")
	if !strings.Contains(hist, `"actor":"ci-agent"`) {
		t.Fatalf("the comment is not recorded as the token's actor: %s", hist)
	}

	// The web board is served at "/" by the same process, with the item on it.
	page, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != 200 || !strings.Contains(string(html), "J-1") || !strings.Contains(page.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / is not the board with J-1: %d %s\n%.300s", page.StatusCode, page.Header.Get("Content-Type"), html)
	}
	// The board's live stream ends on shutdown too.
	live, err := http.Get(base + "/live")
	if err != nil {
		t.Fatal(err)
	}
	liveEnded := make(chan struct{})
	go func() { io.Copy(io.Discard, live.Body); close(liveEnded) }()

	// A live stream, ended by the shutdown.
	resp, err := http.Get(base + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	streamEnded := make(chan struct{})
	go func() { io.Copy(io.Discard, resp.Body); close(streamEnded) }()

	e.ok("token", "revoke", tok.ID)
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _ := do("GET", "/api/items", tok.Secret, "")
		if code == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a revoked token still works (status %d)", code)
		}
		time.Sleep(50 * time.Millisecond)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-streamEnded:
	case <-time.After(10 * time.Second):
		t.Fatal("the event stream did not end on SIGTERM")
	}
	select {
	case <-liveEnded:
	case <-time.After(10 * time.Second):
		t.Fatal("the board's live stream did not end on SIGTERM")
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("jerry serve after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("jerry serve did not exit on SIGTERM")
	}
}
