package natsjs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// embedded starts a single JetStream server for one test.
func embedded(t *testing.T) *nats.Conn {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func testEvents(n int) []es.Event {
	evs := make([]es.Event, n)
	for i := range evs {
		evs[i] = es.Event{ID: es.NewEventID(), Type: "E", Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
	}
	return evs
}

// TestLostReply: an append is stored but its reply never reaches the
// writer, which sends it again. The retry finds the events by their IDs at
// the versions it expected, returns them as stored, and stores nothing.
func TestLostReply(t *testing.T) {
	nc := embedded(t)
	ctx := t.Context()
	for _, c := range []struct {
		name     string
		n        int
		expected es.ExpectedVersion
	}{
		{"OneEventExact", 1, es.Exact(2)},
		{"BatchExact", 5, es.Exact(2)},
		{"BatchAny", 5, es.Any},
		{"BatchStreamExists", 3, es.StreamExists},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := New(ctx, nc, Options{Stream: "lost_" + strings.ToLower(c.name)})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if _, err := st.Append(ctx, "s", es.NoStream, testEvents(2)); err != nil {
				t.Fatal(err)
			}
			evs := testEvents(c.n)
			recs, err := es.Prepare("s", c.expected, evs)
			if err != nil {
				t.Fatal(err)
			}
			// The first attempt: stored, reply dropped. The Store's
			// cached tail still says version 2.
			tl, err := st.lastOf(ctx, "s")
			if err != nil {
				t.Fatal(err)
			}
			stored, err := st.publish(ctx, st.subjectOf("s"), tl, recs)
			if err != nil {
				t.Fatal(err)
			}
			st.remember("s", tl)
			again, err := st.Append(ctx, "s", c.expected, evs)
			if err != nil {
				t.Fatalf("retry after a lost reply: %v", err)
			}
			if len(again) != len(stored) {
				t.Fatalf("retry returned %d records, want %d", len(again), len(stored))
			}
			for i := range again {
				if again[i].ID != stored[i].ID || again[i].Version != stored[i].Version || again[i].Position != stored[i].Position {
					t.Fatalf("retry returned %+v, stored %+v", again[i], stored[i])
				}
			}
			all, err := es.Collect(st.ReadStream(ctx, "s", 1, 0))
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 2+c.n {
				t.Fatalf("stream holds %d events after the retry, want %d", len(all), 2+c.n)
			}
		})
	}
}

// TestEventIDElsewhere: an event ID already stored in another stream is
// refused while the server's duplicate window holds it.
func TestEventIDElsewhere(t *testing.T) {
	nc := embedded(t)
	ctx := t.Context()
	st, err := New(ctx, nc, Options{Stream: "ids"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs := testEvents(1)
	if _, err := st.Append(ctx, "a", es.NoStream, evs); err != nil {
		t.Fatal(err)
	}
	_, err = st.Append(ctx, "b", es.NoStream, evs)
	if !errors.Is(err, es.ErrPartialDuplicate) {
		t.Fatalf("append of a stored event ID to another stream: %v, want ErrPartialDuplicate", err)
	}
	if v, _ := st.StreamVersion(ctx, "b"); v != 0 {
		t.Fatalf("stream b at version %d, want 0", v)
	}
}

func TestTooManyEvents(t *testing.T) {
	nc := embedded(t)
	st, err := New(t.Context(), nc, Options{Stream: "many"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Append(t.Context(), "s", es.NoStream, testEvents(MaxAppendEvents+1)); !errors.Is(err, es.ErrTooManyEvents) || !errors.Is(err, es.ErrInvalidInput) {
		t.Fatalf("append of %d events: %v, want ErrTooManyEvents", MaxAppendEvents+1, err)
	}
	recs, err := st.Append(t.Context(), "s", es.NoStream, testEvents(MaxAppendEvents))
	if err != nil || len(recs) != MaxAppendEvents {
		t.Fatalf("append of %d events: %d records, %v", MaxAppendEvents, len(recs), err)
	}
	if recs[0].Position != 1 || recs[MaxAppendEvents-1].Position != MaxAppendEvents {
		t.Fatalf("positions %d..%d", recs[0].Position, recs[MaxAppendEvents-1].Position)
	}
}

// TestRefusesUnsafeStream: an existing stream with limits that would remove
// events (and so leave gaps in the log) is refused.
func TestRefusesUnsafeStream(t *testing.T) {
	nc := embedded(t)
	ctx := t.Context()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "AGED", Subjects: []string{"AGED.e.*"}, MaxAge: time.Hour, AllowAtomicPublish: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(ctx, nc, Options{Stream: "AGED"}); !errors.Is(err, ErrStreamConfig) {
		t.Fatalf("New on a stream with MaxAge: %v, want ErrStreamConfig", err)
	}
	// A stream config without atomic publish, as an older server returns
	// it, is refused as an unsupported server.
	st := &Store{name: "X", prefix: "X.e."}
	cfg := st.streamConfig(1)
	cfg.AllowAtomicPublish = false
	if err := st.checkConfig(cfg); !errors.Is(err, ErrUnsupportedServer) {
		t.Fatalf("checkConfig without AllowAtomicPublish: %v, want ErrUnsupportedServer", err)
	}
}

// TestRefusesOldServer runs the Debian nats-server installed on the
// machine (2.9.10, no atomic batch publish) and checks that the adapter
// refuses it, both by its version and, with the version check passed by,
// because the stream comes back without atomic publish.
func TestRefusesOldServer(t *testing.T) {
	url := oldServer(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	t.Logf("old server version %s", nc.ConnectedServerVersion())
	_, err = New(t.Context(), nc, Options{Stream: "old"})
	if !errors.Is(err, ErrUnsupportedServer) {
		t.Fatalf("New on nats-server %s: %v, want ErrUnsupportedServer", nc.ConnectedServerVersion(), err)
	}
	t.Logf("refused: %v", err)

	// Past the version check, the stream the old server creates has no
	// atomic publish: refused too.
	js, _ := jetstream.New(nc)
	st := &Store{nc: nc, js: js, name: "old", prefix: "old.e.", opts: Options{Stream: "old", RetryTimeout: 10 * time.Second, RequestTimeout: 2 * time.Second}}
	err = st.setUp(t.Context())
	if !errors.Is(err, ErrUnsupportedServer) {
		t.Fatalf("setUp on nats-server %s: %v, want ErrUnsupportedServer", nc.ConnectedServerVersion(), err)
	}
	t.Logf("refused: %v", err)
}

// oldServer starts the machine's nats-server binary on a free loopback
// port if it is older than MinServerVersion, and returns its URL.
func oldServer(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("no nats-server binary on PATH (Debian's package nats-server is 2.9.10)")
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Skipf("%s --version: %v", bin, err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(string(out), "nats-server:")), "v")
	if versionAtLeast(v, MinServerVersion) {
		t.Skipf("%s is %s, not older than %s", bin, v, MinServerVersion)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-js", "-sd", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := nats.Connect(url)
		if err == nil {
			js, _ := jetstream.New(nc)
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			_, err = js.AccountInfo(ctx)
			cancel()
			nc.Close()
			if err == nil {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("old nats-server on %s not ready: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestVersionAtLeast(t *testing.T) {
	for _, c := range []struct {
		v    string
		want bool
	}{{"2.9.10", false}, {"2.11.9", false}, {"2.12.0", true}, {"2.15.2", true}, {"2.12.0-beta.1", true}, {"3.0.0", true}, {"garbage", false}, {"", false}} {
		if got := versionAtLeast(c.v, MinServerVersion); got != c.want {
			t.Errorf("versionAtLeast(%q) = %v, want %v", c.v, got, c.want)
		}
	}
}
