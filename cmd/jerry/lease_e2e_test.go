package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The claim and dependency rules of issue 14, run as agents run them.

type cardJSON struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Assignee string `json:"assignee"`
	Version  int64  `json:"version"`
	Blockers []struct {
		ID, Status, Assignee string
	} `json:"blockers"`
	Claim *struct {
		Holder    string    `json:"holder"`
		Since     time.Time `json:"since"`
		ExpiresAt time.Time `json:"expires_at"`
		Expired   bool      `json:"expired"`
	} `json:"claim"`
}

type leaseErrorJSON struct {
	Error struct {
		Code      string    `json:"code"`
		Holder    string    `json:"holder"`
		ExpiresAt time.Time `json:"expires_at"`
		Blockers  []struct {
			ID, Status, Assignee string
		} `json:"blockers"`
	} `json:"error"`
}

func (e *env) fails(code int, args ...string) leaseErrorJSON {
	e.t.Helper()
	r := e.run(append(args, "--json")...)
	if r.code != code {
		e.t.Fatalf("jerry %s: exit %d, want %d\nstderr: %s", strings.Join(args, " "), r.code, code, r.stderr)
	}
	var ej leaseErrorJSON
	if err := json.Unmarshal([]byte(r.stderr), &ej); err != nil {
		e.t.Fatalf("jerry %s: stderr is not an error document: %v\n%s", strings.Join(args, " "), err, r.stderr)
	}
	return ej
}

func TestClaimsBind(t *testing.T) { eachStore(t, testClaimsBind) }

func testClaimsBind(t *testing.T, e *env) {
	id := e.create("Held work")
	e.ok("claim", id, "--actor", "alice")
	before := e.ok("export")
	for _, args := range [][]string{
		{"status", id, "in_progress"}, {"edit", id, "--title", "mine now"}, {"assign", id, "bob"}, {"release", id},
	} {
		ej := e.fails(exitConflict, append(args, "--actor", "bob")...)
		if ej.Error.Code != "claimed" || ej.Error.Holder != "alice" || ej.Error.ExpiresAt.IsZero() {
			t.Fatalf("jerry %v by bob: error %+v, want claimed by alice with its expiry", args, ej.Error)
		}
	}
	if after := e.ok("export"); after != before {
		t.Fatal("a refused write wrote")
	}
	// Comments and blocks stay open to everyone.
	e.ok("comment", id, "any news?", "--actor", "bob")
	// Forced, each goes through, and history says who forced it.
	for _, args := range [][]string{
		{"status", id, "ready"}, {"edit", id, "--title", "mine now"}, {"release", id},
	} {
		e.ok(append(args, "--actor", "bob", "--force")...)
	}
	var hist []struct {
		Type   string `json:"type"`
		Actor  string `json:"actor"`
		Forced bool   `json:"forced"`
	}
	e.okJSON(&hist, "history", id)
	forced := 0
	for _, h := range hist {
		if h.Forced {
			forced++
			if h.Actor != "bob" {
				t.Fatalf("forced by %q, want bob", h.Actor)
			}
		}
	}
	if forced != 3 {
		t.Fatalf("history shows %d forced events, want 3: %+v", forced, hist)
	}
	if text := e.ok("history", id); !strings.Contains(text, "[forced by bob]") {
		t.Fatalf("history does not show the force:\n%s", text)
	}
}

func TestBlockersBind(t *testing.T) { eachStore(t, testBlockersBind) }

func testBlockersBind(t *testing.T, e *env) {
	blocker := e.create("Schema first")
	item := e.create("Then the API")
	e.ok("block", item, blocker)
	e.ok("claim", blocker, "--actor", "alice", "--start")
	before := e.ok("export")
	for _, to := range []string{"in_progress", "ready", "done"} {
		ej := e.fails(exitUsage, "status", item, to)
		if ej.Error.Code != "blocked" || len(ej.Error.Blockers) != 1 || ej.Error.Blockers[0].ID != blocker ||
			ej.Error.Blockers[0].Status != "in_progress" || ej.Error.Blockers[0].Assignee != "alice" {
			t.Fatalf("status %s: error %+v, want blocked by %s (in_progress, alice)", to, ej.Error, blocker)
		}
	}
	if after := e.ok("export"); after != before {
		t.Fatal("a refused move wrote")
	}
	// ready never offers it; blocked explains it.
	var ready []cardJSON
	e.okJSON(&ready, "ready")
	if len(ready) != 0 {
		t.Fatalf("ready offers %+v", ready)
	}
	var stuck []struct {
		ID  string `json:"id"`
		Why struct {
			Blockers []struct{ ID string } `json:"blockers"`
			Manual   bool                  `json:"manual"`
			Reason   string                `json:"reason"`
		} `json:"why"`
	}
	e.ok("status", blocker, "blocked", "--reason", "waiting for the vendor", "--actor", "alice")
	e.okJSON(&stuck, "blocked")
	if len(stuck) != 2 || stuck[0].ID != blocker || !stuck[0].Why.Manual || stuck[0].Why.Reason != "waiting for the vendor" ||
		stuck[1].ID != item || len(stuck[1].Why.Blockers) != 1 {
		t.Fatalf("blocked = %+v", stuck)
	}
	var c cardJSON
	e.okJSON(&c, "show", item)
	if len(c.Blockers) != 1 || c.Blockers[0].Status != "blocked" {
		t.Fatalf("show: blockers %+v", c.Blockers)
	}
	// Repeating a change in effect exits 0 and says so.
	e.ok("unblock", item, blocker)
	if out := e.ok("unblock", item, blocker); !strings.Contains(out, "nothing to change") {
		t.Fatalf("unblock twice says %q", out)
	}
	e.ok("status", item, "in_progress")
}

// show --as-of a time inside a lease and after it tell the claim held and
// expired: expiry comes from event times.
func TestLeaseAsOf(t *testing.T) { eachStore(t, testLeaseAsOf) }

func testLeaseAsOf(t *testing.T, e *env) {
	id := e.create("Short lease")
	var c cardJSON
	e.okJSON(&c, "claim", id, "--lease", "1s", "--actor", "alice")
	if c.Claim == nil || c.Claim.Holder != "alice" || c.Claim.Expired {
		t.Fatalf("claim: %+v", c.Claim)
	}
	inside := c.Claim.Since.Add(500 * time.Millisecond)
	for time.Now().Before(c.Claim.ExpiresAt.Add(200 * time.Millisecond)) {
		time.Sleep(100 * time.Millisecond)
	}
	var then, after cardJSON
	e.okJSON(&then, "show", id, "--as-of", inside.Format(time.RFC3339Nano))
	e.okJSON(&after, "show", id, "--as-of", c.Claim.ExpiresAt.Format(time.RFC3339Nano))
	if then.Claim == nil || then.Claim.Expired || after.Claim == nil || !after.Claim.Expired {
		t.Fatalf("inside the lease %+v, at its end %+v: want held, then expired", then.Claim, after.Claim)
	}
	// Now it is back in the pool: bob takes it over.
	var taken cardJSON
	e.okJSON(&taken, "ready", "--claim", "--actor", "bob")
	if taken.ID != id || taken.Assignee != "bob" || taken.Status != "in_progress" {
		t.Fatalf("take-over: %+v", taken)
	}
	if h := e.ok("history", id); !strings.Contains(h, "taken over from alice") {
		t.Fatalf("history does not record the take-over:\n%s", h)
	}
}

// ready --claim claims and starts in one append: two events at
// consecutive positions, one correlation.
func TestReadyClaimIsOneAppend(t *testing.T) {
	e := newEnv(t)
	id := e.create("Pick me")
	before := strings.Count(e.ok("log", "--json"), "\n")
	e.ok("ready", "--claim")
	out := strings.Split(strings.TrimSpace(e.ok("log", "--json")), "\n")
	if len(out)-before != 2 {
		t.Fatalf("ready --claim wrote %d events, want 2 (claim and start)", len(out)-before)
	}
	var a, b struct {
		Stream   string `json:"stream"`
		Type     string `json:"type"`
		Metadata struct {
			CorrelationID string `json:"correlation_id"`
		} `json:"metadata"`
	}
	json.Unmarshal([]byte(out[len(out)-2]), &a)
	json.Unmarshal([]byte(out[len(out)-1]), &b)
	if a.Stream != "workitem-"+id || a.Type != "workitem.claimed" || b.Type != "workitem.status_changed" ||
		a.Metadata.CorrelationID != b.Metadata.CorrelationID {
		t.Fatalf("ready --claim wrote %+v then %+v", a, b)
	}
}

// Eight agents work through 20 items with ready --claim --lease 2s; two of
// them are killed (SIGKILL) after their first claim. Every item ends done
// exactly once, the dead agents' items are taken over after their lease,
// and no item is ever held by two unexpired claims.
func TestAgentsWithLeases(t *testing.T) { eachStore(t, testAgentsWithLeases) }

func testAgentsWithLeases(t *testing.T, e *env) {
	const items, agents = 20, 8
	for i := range items {
		e.create(fmt.Sprintf("Task %d", i+1))
	}
	var mu sync.Mutex
	firstClaims := map[string]string{} // dead agent -> its item
	var done atomic.Int64              // items the live agents finished
	deadline := time.Now().Add(3 * time.Minute)
	var wg sync.WaitGroup
	for a := range agents {
		who := fmt.Sprintf("agent-%d", a)
		dies := a < 2
		wg.Go(func() {
			for done.Load() < items {
				if time.Now().After(deadline) {
					t.Errorf("%s: %d of %d items done after 3 minutes", who, done.Load(), items)
					return
				}
				r := e.run("ready", "--claim", "--lease", "2s", "--json", "--actor", who)
				if r.code == exitNotFound {
					// Nothing ready now: a dead agent's item comes back
					// when its lease ends.
					time.Sleep(200 * time.Millisecond)
					continue
				}
				if r.code != 0 {
					t.Errorf("%s: ready --claim: exit %d: %s", who, r.code, r.stderr)
					return
				}
				var c cardJSON
				json.Unmarshal([]byte(r.stdout), &c)
				if dies {
					mu.Lock()
					firstClaims[who] = c.ID
					mu.Unlock()
					// Its next command dies mid-flight, as a killed agent.
					killMidway(t, e, who)
					return
				}
				if r := e.run("status", c.ID, "done", "--actor", who); r.code != 0 {
					t.Errorf("%s: status %s done: exit %d: %s", who, c.ID, r.code, r.stderr)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var all []cardJSON
	e.okJSON(&all, "list", "--all", "--json") // done items are hidden without --all
	if len(all) != items {
		t.Fatalf("%d items listed", len(all))
	}
	for _, c := range all {
		if c.Status != "done" {
			t.Errorf("%s is %s", c.ID, c.Status)
		}
		checkClaimHistory(t, e, c.ID)
	}
	for who, id := range firstClaims {
		if h := e.ok("history", id); !strings.Contains(h, "taken over from "+who) {
			t.Errorf("%s's item %s was not taken over:\n%s", who, id, h)
		}
	}
}

// killMidway starts who's next ready --claim and kills it with SIGKILL at
// once, as an agent that dies.
func killMidway(t *testing.T, e *env, who string) {
	cmd := exec.Command(jerryBin, "ready", "--claim", "--lease", "2s", "--actor", who)
	cmd.Dir = e.dir
	cmd.Env = append(cmd.Environ(), "JERRY_STORE="+e.store)
	if err := cmd.Start(); err != nil {
		t.Error(err)
		return
	}
	time.Sleep(time.Duration(len(who)) * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
}

// checkClaimHistory replays the item's history: no claim is taken while
// another agent's claim holds, and the item is done exactly once.
func checkClaimHistory(t *testing.T, e *env, id string) {
	var hist []struct {
		Type   string    `json:"type"`
		Time   time.Time `json:"time"`
		Actor  string    `json:"actor"`
		Forced bool      `json:"forced"`
		Data   struct {
			Assignee string `json:"assignee"`
			Lease    string `json:"lease"`
			To       string `json:"to"`
		} `json:"data"`
	}
	e.okJSON(&hist, "history", id)
	var holder string
	var expires time.Time
	var lease time.Duration
	dones := 0
	for _, h := range hist {
		if h.Type == "workitem.claimed" {
			if holder != "" && holder != h.Data.Assignee && h.Time.Before(expires) && !h.Forced {
				t.Errorf("%s: %s claimed at %s while %s held it until %s", id, h.Data.Assignee, h.Time, holder, expires)
			}
			holder = h.Data.Assignee
			lease, _ = time.ParseDuration(h.Data.Lease)
			expires = h.Time.Add(lease)
			continue
		}
		if h.Actor == holder {
			expires = h.Time.Add(lease) // the holder's write renews
		}
		if h.Type == "workitem.status_changed" && h.Data.To == "done" {
			dones++
		}
	}
	if dones != 1 {
		t.Errorf("%s went to done %d times", id, dones)
	}
}

// Knowing where you are: .jerry/config names the project's store for
// every agent below it, whoami says what jerry uses and why, errors that
// depend on the store name it, and a write to an item that does not exist
// creates no store.
func TestWhereYouAre(t *testing.T) {
	e := newEnv(t)
	// Writes to missing items on a missing store create nothing.
	for _, args := range [][]string{{"status", "J-1", "done"}, {"claim", "J-1"}, {"comment", "J-1", "hi"}} {
		ej := e.fails(exitNotFound, args...)
		if ej.Error.Code != "not_found" {
			t.Fatalf("%v: %+v", args, ej.Error)
		}
		if _, err := os.Stat(strings.TrimPrefix(e.store, "file:")); !os.IsNotExist(err) {
			t.Fatalf("%v created the store: %v", args, err)
		}
	}
	r := e.run("show", "J-1")
	if !strings.Contains(r.stderr, strings.TrimPrefix(e.store, "file:")) {
		t.Fatalf("a not-found error does not name the store: %s", r.stderr)
	}
	// A project config names the store for the whole checkout.
	project := t.TempDir()
	shared := filepath.Join(t.TempDir(), "shared")
	run := func(dir string, args ...string) result {
		cmd := exec.Command(jerryBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "JERRY_STORE=", "JERRY_ACTOR=tester")
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{code: code, stdout: string(out)}
	}
	if r := run(project, "init", "--store", "file:"+shared); r.code != 0 {
		t.Fatalf("init: exit %d", r.code)
	}
	os.MkdirAll(filepath.Join(project, ".jerry"), 0o755)
	if err := os.WriteFile(filepath.Join(project, ".jerry", "config"), []byte("store = file:"+shared+"\nlease = 45m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(project, "a", "b")
	os.MkdirAll(sub, 0o755)
	if r := run(sub, "create", "From below"); r.code != 0 {
		t.Fatalf("create: exit %d", r.code)
	}
	var who map[string]string
	json.Unmarshal([]byte(run(sub, "whoami", "--json").stdout), &who)
	if who["store"] != "file:"+shared || !strings.HasSuffix(who["store_from"], filepath.Join(".jerry", "config")) || who["actor"] != "tester" {
		t.Fatalf("whoami = %v", who)
	}
	var c cardJSON
	json.Unmarshal([]byte(run(sub, "claim", "J-1", "--json").stdout), &c)
	if c.Claim == nil || c.Claim.ExpiresAt.Sub(c.Claim.Since) != 45*time.Minute {
		t.Fatalf("the config's lease is not used: %+v", c.Claim)
	}
	if got := run(t.TempDir(), "--store", "file:"+shared, "show", "J-1", "--json"); got.code != 0 {
		t.Fatal("the item is not in the store the config names")
	}
	// A config jerry cannot read is a usage error naming the file and line.
	os.WriteFile(filepath.Join(project, ".jerry", "config"), []byte("stor = x\n"), 0o644)
	if r := run(sub, "list"); r.code != exitUsage {
		t.Fatalf("a bad config: exit %d", r.code)
	}
	if r := run(sub, "--version"); r.code != 0 || !strings.HasPrefix(r.stdout, "jerry ") {
		t.Fatalf("--version: %d %q", r.code, r.stdout)
	}
}
