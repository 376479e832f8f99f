package jsonfile_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/estest"
	"github.com/jerry-es/jerry/es/jsonfile"
)

func TestModels(t *testing.T) {
	estest.TestModelStore(t, estest.ModelConfig{
		New: func(t testing.TB) es.ModelStore { return jsonfile.NewModels(filepath.Join(t.TempDir(), "models")) },
		Reopen: func(_ testing.TB, st es.ModelStore) es.ModelStore {
			return jsonfile.NewModels(filepath.Dir(st.(*jsonfile.Models).Path("x")))
		},
	})
}

// The file format is the one jerry has always written, so existing stores
// keep their read model: DIR/readmodels/jerry.model, the position and its
// CRC-32C, then the state.
func TestModelFileFormat(t *testing.T) {
	dir := t.TempDir()
	st, err := jsonfile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ms := st.Models()
	if _, err := ms.SaveModel(context.Background(), "jerry", 258, []byte("state")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "readmodels", "jerry.model")
	if ms.Path("jerry") != path {
		t.Fatalf("path %s, want %s", ms.Path("jerry"), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// CRC-32C (Castagnoli) of the 8 position bytes, little-endian, worked out
	// apart from this code.
	want := "\x02\x01\x00\x00\x00\x00\x00\x00" + "\x0cdSv" + "state"
	if string(b) != want {
		t.Fatalf("file holds %q, want %q", b, want)
	}
}

// A damaged header is reported as damage naming the file, and any model
// may replace it.
func TestModelDamagedHeader(t *testing.T) {
	ctx := context.Background()
	ms := jsonfile.NewModels(t.TempDir())
	if _, err := ms.SaveModel(ctx, "m", 9, []byte("nine")); err != nil {
		t.Fatal(err)
	}
	for i, damage := range []func([]byte) []byte{
		func(b []byte) []byte { b[3] ^= 0x40; return b }, // the position
		func(b []byte) []byte { b[9] ^= 0x01; return b }, // its checksum
		func(b []byte) []byte { return b[:5] },           // cut inside the header
	} {
		raw, err := os.ReadFile(ms.Path("m"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(ms.Path("m"), damage(raw), 0o644); err != nil {
			t.Fatal(err)
		}
		var ce *es.CorruptError
		if _, _, err := ms.LoadModel(ctx, "m"); !errors.As(err, &ce) || ce.Path != ms.Path("m") {
			t.Fatalf("damage %d: %v, want a *es.CorruptError naming the file", i, err)
		}
		if saved, err := ms.SaveModel(ctx, "m", 2, []byte("two")); !saved || err != nil {
			t.Fatalf("damage %d: save over it: %v, %v", i, saved, err)
		}
		if b, pos, err := ms.LoadModel(ctx, "m"); err != nil || pos != 2 || string(b) != "two" {
			t.Fatalf("damage %d: after repair: %q at %d, %v", i, b, pos, err)
		}
		if _, err := ms.SaveModel(ctx, "m", 9, []byte("nine")); err != nil {
			t.Fatal(err)
		}
	}
}

// A directory that cannot be written: saves fail with es.ErrReadOnly, loads
// still work.
func TestModelReadOnly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes through file permissions")
	}
	dir := t.TempDir()
	ms := jsonfile.NewModels(filepath.Join(dir, "models"))
	if _, err := ms.SaveModel(context.Background(), "m", 1, []byte("one")); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "models"), 0o555)
	defer os.Chmod(filepath.Join(dir, "models"), 0o755)
	if _, err := ms.SaveModel(context.Background(), "m", 2, []byte("two")); !errors.Is(err, es.ErrReadOnly) {
		t.Fatalf("save into a read-only directory: %v, want es.ErrReadOnly", err)
	}
	if b, _, err := ms.LoadModel(context.Background(), "m"); err != nil || string(b) != "one" {
		t.Fatalf("load: %q, %v", b, err)
	}
}

// Processes saving models at once: the file always holds a whole model,
// and ends at the highest position any of them saved; savers killed with
// kill -9 in the middle of their saves leave a whole model.
func TestModelProcesses(t *testing.T) {
	const env = "JSONFILE_TEST_MODEL_SAVER"
	if spec := os.Getenv(env); spec != "" {
		modelSaver(spec)
		return
	}
	dir := filepath.Join(t.TempDir(), "models")
	path := jsonfile.NewModels(dir).Path("m")
	child := func(seed int) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestModelProcesses$")
		cmd.Env = append(os.Environ(), env+"="+dir+"|"+strconv.Itoa(seed))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	for round := range 3 {
		cmd := child(100 + round)
		// Kill it while it saves: once its first model is there, after a
		// few more saves.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if _, err := os.Stat(path); err == nil {
				break
			}
		}
		time.Sleep(time.Duration(1+3*round) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		b, pos, err := jsonfile.NewModels(dir).LoadModel(context.Background(), "m")
		if err != nil || string(b) != string(modelFor(pos)) {
			t.Fatalf("after kill -9: %v, %d bytes at %d", err, len(b), pos)
		}
	}
	os.Remove(path) // the race below starts from no model
	var cmds []*exec.Cmd
	for i := range 4 {
		cmds = append(cmds, child(i+1))
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	var best int64 // the highest position any child drew
	for i := range 4 {
		rnd := rand.New(rand.NewPCG(uint64(i+1), 0))
		for range 40 {
			best = max(best, int64(1+rnd.IntN(1000)))
		}
	}
	b, pos, err := jsonfile.NewModels(dir).LoadModel(context.Background(), "m")
	if err != nil || pos != best || string(b) != string(modelFor(best)) {
		t.Fatalf("model holds %.40q at %d, %v; want the model at %d", b, pos, err, best)
	}
}

// modelSaver is a child of TestModelProcesses: 40 saves at random
// positions, each followed by a load that must be whole.
func modelSaver(spec string) {
	dir, seedStr, _ := strings.Cut(spec, "|")
	seed, _ := strconv.ParseUint(seedStr, 10, 64)
	ms := jsonfile.NewModels(dir)
	rnd := rand.New(rand.NewPCG(seed, 0))
	for range 40 {
		pos := int64(1 + rnd.IntN(1000))
		if _, err := ms.SaveModel(context.Background(), "m", pos, modelFor(pos)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		b, at, err := ms.LoadModel(context.Background(), "m")
		if err != nil || string(b) != string(modelFor(at)) {
			fmt.Fprintln(os.Stderr, "torn model read:", err)
			os.Exit(1)
		}
	}
	os.Exit(0)
}

// modelFor is a stand-in model of about 100 kB that names its position.
func modelFor(pos int64) []byte {
	b := fmt.Appendf(nil, "position %08d ", pos)
	for len(b) < 100<<10 {
		b = append(b, b[:16]...)
	}
	return b
}
