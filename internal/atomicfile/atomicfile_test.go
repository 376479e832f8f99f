package atomicfile_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jerry-es/jerry/internal/atomicfile"
)

func TestWriteFileReplaces(t *testing.T) {
	for _, opts := range [][]atomicfile.Option{nil, {atomicfile.NoSync()}} {
		dir := t.TempDir()
		path := filepath.Join(dir, "f")
		for _, content := range []string{"one\n", "two, longer\n", ""} {
			if err := atomicfile.WriteFile(path, []byte(content), opts...); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil || string(b) != content {
				t.Fatalf("read %q, %v; want %q", b, err, content)
			}
		}
		des, _ := os.ReadDir(dir)
		if len(des) != 1 {
			t.Fatalf("temporary files left: %v", des)
		}
	}
}

func TestWriteFilePermAndPrefix(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := atomicfile.WriteFile(path, []byte("x"), atomicfile.Perm(0o600), atomicfile.TempPrefix(".mine-")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	// The prefix names the temporary file: one that cannot name a file in
	// the directory fails the write, which the default would not.
	if err := atomicfile.WriteFile(path, []byte("y"), atomicfile.TempPrefix("no/such/dir-")); err == nil {
		t.Fatal("a temporary file was made without the prefix given")
	}
	if b, _ := os.ReadFile(path); string(b) != "x" {
		t.Fatalf("a failed write changed the file: %q", b)
	}
}

// TestWriteFileFailureLeavesTarget makes the rename fail (the target is a
// non-empty directory) and checks that nothing is left behind.
func TestWriteFileFailureLeavesTarget(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d")
	os.MkdirAll(filepath.Join(path, "x"), 0o755)
	if err := atomicfile.WriteFile(path, []byte("x")); err == nil {
		t.Fatal("replacing a non-empty directory succeeded")
	}
	// Only the target is there: no temporary file of any name is left.
	if des, _ := os.ReadDir(dir); len(des) != 1 || des[0].Name() != "d" {
		t.Fatalf("left in the directory: %v", des)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "missing", "f"), nil); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}

// TestConcurrentWriters has writers replace one file at once: every read
// sees one writer's whole content.
func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	atomicfile.WriteFile(path, []byte(strings.Repeat("a", 4096)), atomicfile.NoSync())
	var wg sync.WaitGroup
	for _, c := range "bcde" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if err := atomicfile.WriteFile(path, []byte(strings.Repeat(string(c), 4096)), atomicfile.NoSync()); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 200 {
		b, err := os.ReadFile(path)
		if err != nil || len(b) != 4096 || strings.Count(string(b), string(b[:1])) != 4096 {
			t.Fatalf("read a mixed or partial file (%d bytes, %v)", len(b), err)
		}
	}
	wg.Wait()
}

func TestSyncDir(t *testing.T) {
	if err := atomicfile.SyncDir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.SyncDir(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("syncing a missing directory succeeded")
	}
}
