//go:build unix

package jsonfile_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
)

// readOnlyEnv names the store directory a child process reads without
// write permission; see TestReadOnlyDirectory.
const readOnlyEnv = "JSONFILE_READONLY_CHILD"

// TestReadOnlyDirectory opens a store in a directory the user may read but
// not write (a store shared read-only, a read-only mount): reads must work,
// and appends must fail with an error matching fs.ErrPermission, without
// touching the files. Open used to fail at once, because it opened every
// file for writing.
func TestReadOnlyDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := jsonfile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ev := []es.Event{{Type: "A", Data: []byte(`{"n":1}`)}}
	for _, stream := range []string{"a", "b", "a"} {
		if _, err := s.Append(ctx, stream, es.Any, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveSnapshot(ctx, es.Snapshot{Stream: "a", Version: 2, Type: "T", Schema: 1, State: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before := treeState(t, dir)
	setModes(t, dir, 0o555, 0o444)
	t.Cleanup(func() { setModes(t, dir, 0o755, 0o644) })
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}

	if os.Getuid() == 0 {
		// Root ignores permissions: read as nobody, in a child process.
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), readOnlyEnv+"="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("read-only child: %v\n%s", err, out)
		}
	} else if err := readOnly(dir); err != nil {
		t.Fatal(err)
	}
	if after := treeState(t, dir); after != before {
		t.Fatalf("files changed by a read-only open:\nbefore %s\nafter  %s", before, after)
	}
}

// readOnlyChild drops root and runs readOnly; it returns the exit code.
func readOnlyChild(dir string) int {
	if err := syscall.Setgid(65534); err == nil {
		err = syscall.Setuid(65534)
	}
	if os.Getuid() == 0 {
		fmt.Fprintln(os.Stderr, "cannot drop root")
		return 1
	}
	check := readOnly
	if os.Getenv(readOnlyEnv+"_MISSING_HEAD") != "" {
		check = readOnlyMissingHead
	}
	if err := check(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// readOnlyMissingHead opens a read-only store whose head is gone: Open must
// fail with an error that says what is missing and what to do, matching
// fs.ErrNotExist, not a bare "open …: no such file or directory".
func readOnlyMissingHead(dir string) error {
	_, err := jsonfile.Open(dir)
	if err == nil {
		return errors.New("open of a read-only store without a head succeeded")
	}
	msg := err.Error()
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(msg, "read-only") || !strings.Contains(msg, "head") || !strings.Contains(msg, "Repair") {
		return fmt.Errorf("unclear error: %v", err)
	}
	fmt.Println(msg)
	return nil
}

// TestReadOnlyMissingHead reproduces issue 15's defect 9 (store part): a
// read-only store whose head is missing gave a raw "open …/head: no such
// file or directory".
func TestReadOnlyMissingHead(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if _, err := s.Append(context.Background(), "a", es.Any, []es.Event{{Type: "A", Data: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Remove(filepath.Join(dir, "head")); err != nil {
		t.Fatal(err)
	}
	setModes(t, dir, 0o555, 0o444)
	t.Cleanup(func() { setModes(t, dir, 0o755, 0o644) })
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() != 0 {
		if err := readOnlyMissingHead(dir); err != nil {
			t.Fatal(err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), readOnlyEnv+"="+dir, readOnlyEnv+"_MISSING_HEAD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("read-only child: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

func readOnly(dir string) error {
	ctx := context.Background()
	s, err := jsonfile.Open(dir)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer s.Close()
	recs, err := es.Collect(s.ReadStream(ctx, "a", 1, 0))
	if err != nil || len(recs) != 2 {
		return fmt.Errorf("read stream: %d records, %v", len(recs), err)
	}
	if v, err := s.StreamVersion(ctx, "b"); err != nil || v != 1 {
		return fmt.Errorf("stream version: %d, %v", v, err)
	}
	if recs, err = es.Collect(s.ReadLog(ctx, 1)); err != nil || len(recs) != 3 {
		return fmt.Errorf("read log: %d records, %v", len(recs), err)
	}
	if last, err := s.LastPosition(ctx); err != nil || last != 3 {
		return fmt.Errorf("last position: %d, %v", last, err)
	}
	if sn, err := s.LoadSnapshot(ctx, "a", 0); err != nil || sn.Version != 2 {
		return fmt.Errorf("load snapshot: %+v, %v", sn, err)
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK() {
		return fmt.Errorf("verify: %v %v", rep, err)
	}
	_, err = s.Append(ctx, "a", es.Any, []es.Event{{Type: "A", Data: []byte(`{}`)}})
	if !errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("append to a read-only store: got %v, want an error matching fs.ErrPermission", err)
	}
	return nil
}

func setModes(t *testing.T, dir string, dirMode, fileMode os.FileMode) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(path, dirMode)
		}
		return os.Chmod(path, fileMode)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// treeState describes every file under dir by name, size and content.
func treeState(t *testing.T, dir string) string {
	t.Helper()
	var out string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out += fmt.Sprintf("%s:%d:%x ", path[len(dir):], len(b), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
