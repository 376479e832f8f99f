package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// importSource seeds a store and returns its export, written to a file.
func importSource(t *testing.T, items, events string) (file string, export []byte) {
	src := newEnv(t)
	src.ok("dev", "seed", "--items", items, "--events", events)
	file = filepath.Join(t.TempDir(), "export.jsonl")
	src.ok("export", file)
	export, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return file, export
}

// importState says what a file store holds after an import stopped: "none"
// (no store), "empty", "complete" (exactly the export), or what it is.
func importState(t *testing.T, e *env, export []byte) string {
	dir := strings.TrimPrefix(e.store, "file:")
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return "none"
	}
	r := e.run("export")
	switch {
	case r.code != 0:
		return "unreadable: " + r.stderr
	case r.stdout == "":
		return "empty"
	case r.stdout == string(export):
		return "complete"
	}
	return "partial: " + strconv.Itoa(strings.Count(r.stdout, "\n")) + " events"
}

// leftovers lists what a build leaves beside the store directory.
func leftovers(e *env) []string {
	dir := strings.TrimPrefix(e.store, "file:")
	var out []string
	for _, p := range []string{dir + ".build", dir + ".build.lock", dir + ".replaced"} {
		if _, err := os.Stat(p); err == nil {
			out = append(out, filepath.Base(p))
		}
	}
	return out
}

// Imports into a file store killed with SIGKILL at a random moment until
// thirty were killed before they finished (half of them into a store made
// empty by init, half where there is none): each leaves no store, the
// empty store, or the whole export, never part of it; a retry then imports
// everything and leaves nothing beside the store.
func TestImportKilled(t *testing.T) {
	file, export := importSource(t, "200", "2000")
	// How long a whole import takes, to kill within it.
	ref := newEnv(t)
	start := time.Now()
	ref.ok("import", file)
	whole := time.Since(start)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	outcomes := map[string]int{}
	kills := 0
	for i := 0; kills < 30; i++ {
		if i == 100 {
			t.Fatalf("%d of 100 imports killed before they finished", kills)
		}
		e := newEnv(t)
		if i%2 == 1 {
			e.ok("init")
		}
		cmd := exec.Command(jerryBin, "import", file)
		cmd.Dir = e.dir
		cmd.Env = append(os.Environ(), "JERRY_STORE="+e.store, "JERRY_ACTOR=tester")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(whole) * 9 / 10)))
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		killed := false
		if ee, ok := err.(*exec.ExitError); ok {
			ws, _ := ee.Sys().(syscall.WaitStatus)
			killed = ws.Signaled()
		}
		if err != nil && !killed {
			t.Fatalf("import %d: %v\n%s", i, err, stderr.String())
		}
		state := importState(t, e, export)
		switch {
		case state == "complete", state == "none" && i%2 == 0, state == "empty" && i%2 == 1:
		default:
			t.Fatalf("import %d (killed: %v): the store is %s", i, killed, state)
		}
		if killed {
			kills++
			outcomes["killed, left "+state]++
		} else {
			outcomes["finished"]++
		}
		if state != "complete" {
			if r := e.run("import", file); r.code != 0 {
				t.Fatalf("import %d, retried: exit %d: %s", i, r.code, r.stderr)
			}
			if state := importState(t, e, export); state != "complete" {
				t.Fatalf("import %d, retried: the store is %s", i, state)
			}
		}
		// An import killed after it put the store in place may leave its
		// lock file and the empty store it replaced (never a partial
		// build); any import that finishes leaves nothing.
		l := leftovers(e)
		if killed && state == "complete" {
			l = slices.DeleteFunc(l, func(n string) bool { return n == "store.build.lock" || n == "store.replaced" })
		}
		if len(l) > 0 {
			t.Fatalf("import %d (killed: %v, state %s): left %v beside the store", i, killed, state, l)
		}
		if r := e.run("verify"); r.code != 0 {
			t.Fatalf("import %d: verify: exit %d\n%s%s", i, r.code, r.stdout, r.stderr)
		}
	}
	t.Logf("a whole import of %d events takes %s; %v", bytes.Count(export, []byte("\n")), whole.Round(time.Millisecond), outcomes)
}

// An import that fills the disk (a tmpfs too small for the store) fails,
// leaves no store and nothing beside it, and imports everything once there
// is room. It needs the right to mount a tmpfs (root, as in CI).
func TestImportDiskFull(t *testing.T) {
	file, export := importSource(t, "100", "1000")
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (%v: %s): run as root", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	e := &env{t: t, dir: mnt, store: "file:" + filepath.Join(mnt, "store")}
	r := e.run("import", file)
	if r.code == 0 {
		t.Fatalf("import into 256 KiB succeeded: %s", r.stdout)
	}
	if !strings.Contains(r.stderr, "no space left on device") {
		t.Fatalf("import into 256 KiB: exit %d: %s", r.code, r.stderr)
	}
	if state := importState(t, e, export); state != "none" {
		t.Fatalf("after a full disk the store is %s", state)
	}
	if l := leftovers(e); len(l) > 0 {
		t.Fatalf("after a full disk, %v beside the store", l)
	}
	t.Logf("full disk: exit %d: %s", r.code, strings.TrimSpace(r.stderr))
	if out, err := exec.Command("mount", "-o", "remount,size=16m", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v: %s", err, out)
	}
	e.ok("import", file)
	if state := importState(t, e, export); state != "complete" {
		t.Fatalf("retried with room: the store is %s", state)
	}
}

// Imports into PostgreSQL killed with SIGKILL at random moments: a store
// that cannot be built aside keeps the first events of the export, and a
// retry checks them and imports the rest, event for event.
func TestImportKilledPostgres(t *testing.T) {
	file, export := importSource(t, "50", "500")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	partial := 0
	for i := range 5 {
		e := newPostgresEnv(t)
		start := time.Now()
		cmd := exec.Command(jerryBin, "import", file)
		cmd.Dir = e.dir
		cmd.Env = append(os.Environ(), "JERRY_STORE="+e.store, "JERRY_ACTOR=tester")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300*time.Millisecond + time.Duration(rng.IntN(700))*time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		got := e.ok("export")
		switch {
		case got == string(export):
			continue
		case !strings.HasPrefix(string(export), got):
			t.Fatalf("import %d killed after %s left events that are not the export's first ones", i, time.Since(start))
		}
		partial++
		e.ok("import", file)
		if got := e.ok("export"); got != string(export) {
			t.Fatalf("import %d, retried: the store differs from the export", i)
		}
	}
	t.Logf("5 imports killed: %d left part of the export (or none of it), and a retry completed each", partial)
}
