package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A short run measures every cell without an error, and prints the table
// and the ratios (the PostgreSQL ones where JERRY_TEST_POSTGRES is set).
func TestLoadRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds jerry and runs it under load for a few seconds")
	}
	bin := filepath.Join(t.TempDir(), "jerry")
	build := exec.Command("go", "build", "-o", bin, "../jerry")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build jerry: %v\n%s", err, out)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-jerry", bin, "-clients", "2,4", "-duration", "300ms", "-rounds", "1", "-items", "5", "-dir", t.TempDir()}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	table := out.String()
	for _, want := range []string{"server read", "server write", "jerry process write", "server writes x2 / one jerry process"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(errb.String(), "first error") {
		t.Errorf("requests failed:\n%s", errb.String())
	}
	if os.Getenv("JERRY_TEST_POSTGRES") != "" && !strings.Contains(table, "server / raw") {
		t.Errorf("no PostgreSQL ratios:\n%s", table)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-clients", "0"}, {"-clients", "x"}, {"-rounds", "0"}, {"-bogus"}} {
		if code := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
