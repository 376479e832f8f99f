package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A read in a directory with no store finds nothing, and leaves no .jerry
// behind; the first write creates it, as ever.
func TestReadsCreateNoStore(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) result {
		cmd := exec.Command(jerryBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "JERRY_STORE=", "JERRY_ACTOR=ann")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return result{code, out.String(), errb.String()}
	}
	noStore := func(when string) {
		t.Helper()
		for _, p := range []string{filepath.Join(dir, ".jerry"), filepath.Join(dir, "elsewhere")} {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("after %s: %s exists (%v)", when, p, err)
			}
		}
	}
	for _, c := range []struct {
		args   []string
		code   int
		stdout string
	}{
		{[]string{"list"}, 0, "no work items\n"},
		{[]string{"list", "--json"}, 0, "[]\n"},
		{[]string{"show", "J-1"}, exitNotFound, ""},
		{[]string{"history", "J-1"}, exitNotFound, ""},
		{[]string{"ready"}, 0, "nothing ready\n"},
		{[]string{"log"}, 0, ""},
		{[]string{"export"}, 0, ""},
		{[]string{"verify"}, 0, "ok: 0 events in 0 streams; the store has no integrity check of its own\n"},
		{[]string{"initiative", "list"}, 0, "no initiatives\n"},
		{[]string{"initiative", "show", "I-1"}, exitNotFound, ""},
		{[]string{"initiative", "history", "I-1"}, exitNotFound, ""},
		{[]string{"list", "--store", "file:elsewhere"}, 0, "no work items\n"},
	} {
		r := run(c.args...)
		if r.code != c.code || r.stdout != c.stdout {
			t.Errorf("jerry %s: exit %d, stdout %q, stderr %q; want exit %d, stdout %q",
				strings.Join(c.args, " "), r.code, r.stdout, r.stderr, c.code, c.stdout)
		}
		noStore("jerry " + strings.Join(c.args, " "))
	}
	// Writes create the store, with no setup.
	if r := run("create", "first"); r.code != 0 || strings.TrimSpace(r.stdout) != "J-1" {
		t.Fatalf("create: exit %d, %q %s", r.code, r.stdout, r.stderr)
	}
	if fi, err := os.Stat(filepath.Join(dir, ".jerry")); err != nil || !fi.IsDir() {
		t.Fatalf("the first write made no ./.jerry: %v", err)
	}
	if r := run("list"); r.code != 0 || !strings.Contains(r.stdout, "first") {
		t.Fatalf("list after create: exit %d, %q %s", r.code, r.stdout, r.stderr)
	}
}

// An import that is refused, for invalid input or an input file that is
// not there, writes nothing: not even an empty store.
func TestRefusedImportCreatesNoStore(t *testing.T) {
	e := newEnv(t)
	path := strings.TrimPrefix(e.store, "file:")
	for _, c := range []struct {
		name  string
		stdin string
		args  []string
	}{
		{"invalid input", "not json\n", []string{"import"}},
		{"truncated last line", `{"position":1,"stream":"workitem-J-1"`, []string{"import"}},
		{"missing file", "", []string{"import", filepath.Join(e.dir, "no-such-export.jsonl")}},
	} {
		if r := e.runIn([]byte(c.stdin), c.args...); r.code != exitUsage {
			t.Errorf("%s: exit %d, want %d: %s", c.name, r.code, exitUsage, r.stderr)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: a refused import created the store %s (%v)", c.name, path, err)
		}
	}
}

// init creates the store every other command uses: --store, else
// $JERRY_STORE, else ./.jerry.
func TestInitUsesJerryStore(t *testing.T) {
	e := newEnv(t) // runs jerry with JERRY_STORE set
	if r := e.run("init"); r.code != 0 {
		t.Fatalf("init: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(strings.TrimPrefix(e.store, "file:")); err != nil {
		t.Errorf("init did not create $JERRY_STORE (%s): %v", e.store, err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, ".jerry")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("init created ./.jerry although JERRY_STORE names another store (%v)", err)
	}
}
