package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jerry-es/jerry/tracker/app"
)

// client is an HTTP client that keeps enough connections open for the
// test's clients.
func client() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

// parallel runs fn(i) for i in [0, n) at once, and returns the first error.
func parallel(n int, fn func(i int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := fn(i); err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	return <-errs
}

// Concurrency over HTTP, on every backend: racing writers lose nothing,
// stale If-Match writes nothing, racing ready/claim hands out different
// items, and a repeated Idempotency-Key writes once, across a restart too.
func TestConcurrency(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Run("16 clients x 50 writes, no If-Match", func(t *testing.T) { racingWriters(t, backend) })
			t.Run("stale If-Match", func(t *testing.T) { staleIfMatch(t, backend) })
			t.Run("8 clients ready/claim", func(t *testing.T) { racingClaims(t, backend) })
			t.Run("repeated Idempotency-Key", func(t *testing.T) { repeatedKey(t, backend) })
		})
	}
}

func racingWriters(t *testing.T, backend string) {
	const clients, writes = 16, 50
	f := newFixture(t, backend)
	f.ok(http.StatusCreated, req{method: "POST", path: "/api/items", body: `{"title":"Hot item"}`})
	hc := client()
	err := parallel(clients, func(c int) error {
		for w := range writes {
			r, err := f.send(hc, req{method: "POST", path: "/api/items/J-1/comments",
				body: fmt.Sprintf(`{"text":"client %d write %d"}`, c, w), headers: []string{bearer(f.write)}})
			if err != nil {
				return err
			}
			if r.status != http.StatusOK {
				return fmt.Errorf("client %d write %d: %d %s", c, w, r.status, r.body)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := f.svc.History(context.Background(), "J-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + clients*writes; len(h) != want {
		t.Fatalf("J-1 has %d events, want %d (created + %d comments)", len(h), want, clients*writes)
	}
	it, err := f.svc.Item(context.Background(), "J-1")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range it.Comments {
		if c.Author != "agent-7" {
			t.Fatalf("comment by %q, want the token's actor agent-7", c.Author)
		}
		seen[c.Text] = true
	}
	if len(seen) != clients*writes {
		t.Fatalf("%d distinct comments, want %d", len(seen), clients*writes)
	}
	t.Logf("%s: %d events on J-1 after %d clients x %d writes", backend, len(h), clients, writes)
}

func staleIfMatch(t *testing.T, backend string) {
	f := newFixture(t, backend)
	r := f.ok(http.StatusCreated, req{method: "POST", path: "/api/items", body: `{"title":"Guarded"}`})
	etag := r.header.Get("ETag")
	if etag != `"1"` {
		t.Fatalf("ETag %q, want \"1\"", etag)
	}
	// Someone else writes: the ETag the clients hold is stale.
	f.ok(http.StatusOK, req{method: "PATCH", path: "/api/items/J-1", body: `{"priority":"high"}`})
	before := f.export()
	hc := client()
	err := parallel(16, func(c int) error {
		r, err := f.send(hc, req{method: "POST", path: "/api/items/J-1/comments", body: `{"text":"late"}`,
			headers: []string{bearer(f.write), "If-Match: " + etag}})
		if err != nil {
			return err
		}
		if r.status != http.StatusPreconditionFailed || r.errorCode() != "conflict" {
			return fmt.Errorf("client %d: %d %s, want 412 conflict", c, r.status, r.body)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, f.export()) {
		t.Fatal("a write with a stale If-Match was stored")
	}
	// With the current ETag, of 16 racing clients exactly one gets through.
	cur := f.ok(http.StatusOK, req{method: "GET", path: "/api/items/J-1"}).header.Get("ETag")
	var mu sync.Mutex
	codes := map[int]int{}
	err = parallel(16, func(c int) error {
		r, err := f.send(hc, req{method: "POST", path: "/api/items/J-1/comments", body: fmt.Sprintf(`{"text":"racer %d"}`, c),
			headers: []string{bearer(f.write), "If-Match: " + cur}})
		mu.Lock()
		codes[r.status]++
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if codes[http.StatusOK] != 1 || codes[http.StatusPreconditionFailed] != 15 {
		t.Fatalf("16 racers with If-Match %s: statuses %v, want one 200 and fifteen 412", cur, codes)
	}
}

func racingClaims(t *testing.T, backend string) {
	const agents = 8
	f := newFixture(t, backend)
	for i := range agents + 2 {
		f.ok(http.StatusCreated, req{method: "POST", path: "/api/items", body: fmt.Sprintf(`{"title":"Task %d","priority":"high"}`, i)})
	}
	tokens := make([]string, agents)
	for i := range tokens {
		_, secret, err := f.svc.CreateToken(asActor(context.Background(), "alice"), fmt.Sprintf("agent-%d", i), app.RoleWrite)
		if err != nil {
			t.Fatal(err)
		}
		tokens[i] = secret
	}
	hc := client()
	got := make([]string, agents)
	err := parallel(agents, func(i int) error {
		r, err := f.send(hc, req{method: "POST", path: "/api/ready/claim", headers: []string{bearer(tokens[i])}})
		if err != nil {
			return err
		}
		if r.status != http.StatusOK {
			return fmt.Errorf("agent %d: %d %s", i, r.status, r.body)
		}
		var it struct{ ID, Assignee, Status string }
		r.json(t, &it)
		if it.Assignee != fmt.Sprintf("agent-%d", i) || it.Status != "in_progress" {
			return fmt.Errorf("agent %d got %+v", i, it)
		}
		got[i] = it.ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("item %s claimed twice: %v", id, got)
		}
		seen[id] = true
	}
	t.Logf("%s: 8 agents claimed %v", backend, got)
}

func repeatedKey(t *testing.T, backend string) {
	f := newFixture(t, backend)
	f.ok(http.StatusCreated, req{method: "POST", path: "/api/items", body: `{"title":"Once"}`})
	hc := client()
	send := func() (reply, error) {
		return f.send(hc, req{method: "POST", path: "/api/items/J-1/comments", body: `{"text":"exactly once"}`,
			headers: []string{bearer(f.write), "Idempotency-Key: 6f1d2c4e-retry"}})
	}
	replies := make([]reply, 8)
	err := parallel(8, func(i int) error {
		r, err := send()
		replies[i] = r
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range replies {
		if r.status != http.StatusOK || !bytes.Equal(r.body, replies[0].body) {
			t.Fatalf("reply %d: %d %s; first: %d %s", i, r.status, r.body, replies[0].status, replies[0].body)
		}
	}
	countComments := func() int {
		it, err := f.svc.Item(context.Background(), "J-1")
		if err != nil {
			t.Fatal(err)
		}
		return len(it.Comments)
	}
	if n := countComments(); n != 1 {
		t.Fatalf("%d comments after 8 requests with one key, want 1", n)
	}
	// After a restart the key still holds, and the reply is the same.
	f.restart()
	r, err := send()
	if err != nil {
		t.Fatal(err)
	}
	if r.status != replies[0].status || !bytes.Equal(r.body, replies[0].body) || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("after a restart: %d %s (replayed %q), want the first reply %s", r.status, r.body, r.header.Get("Idempotent-Replayed"), replies[0].body)
	}
	if n := countComments(); n != 1 {
		t.Fatalf("%d comments after a restart and a retry, want 1", n)
	}
	// The same key with another request is refused; another actor's
	// identical key is its own.
	r, _ = f.send(hc, req{method: "POST", path: "/api/items/J-1/comments", body: `{"text":"something else"}`,
		headers: []string{bearer(f.write), "Idempotency-Key: 6f1d2c4e-retry"}})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "idempotency key") {
		t.Fatalf("key reused for another body: %d %s", r.status, r.body)
	}
	r, _ = f.send(hc, req{method: "POST", path: "/api/items/J-1/comments", body: `{"text":"exactly once"}`,
		headers: []string{bearer(f.admin), "Idempotency-Key: 6f1d2c4e-retry"}})
	if r.status != http.StatusOK || countComments() != 2 {
		t.Fatalf("another actor's key: %d %s, %d comments", r.status, r.body, countComments())
	}
}
