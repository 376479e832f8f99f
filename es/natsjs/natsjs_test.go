package natsjs_test

import (
	"strings"
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/estest"
	"github.com/jerry-es/jerry/es/natsjs"
	"github.com/jerry-es/jerry/es/projection/projectiontest"
)

// reopen closes st, a store of the single server, and opens its stream
// again, as the suites' Reopen do.
func reopen(t testing.TB, st any) *natsjs.Store {
	t.Helper()
	name := st.(*natsjs.Store).StreamName()
	st.(*natsjs.Store).Close()
	return openNamed(t, singleServer(t), name, 0, false)
}

// r1Config runs the suite on an embedded single server.
func r1Config() estest.Config {
	return estest.Config{
		New: func(t testing.TB) es.EventStore {
			return openStore(t, singleServer(t), 1)
		},
		Reopen: func(t testing.TB, st es.EventStore) es.EventStore { return reopen(t, st) },
	}
}

func TestConformance(t *testing.T) {
	estest.TestEventStore(t, r1Config())
}

func TestSnapshotConformance(t *testing.T) {
	estest.TestSnapshotStore(t, estest.SnapshotConfig{
		New:    func(t testing.TB) es.SnapshotStore { return openStore(t, singleServer(t), 1) },
		Reopen: func(t testing.TB, st es.SnapshotStore) es.SnapshotStore { return reopen(t, st) },
	})
}

func TestCheckpoints(t *testing.T) {
	projectiontest.TestCheckpointStore(t, projectiontest.CheckpointConfig{
		New:    func(t testing.TB) es.CheckpointStore { return openStore(t, singleServer(t), 1) },
		Reopen: func(t testing.TB, cp es.CheckpointStore) es.CheckpointStore { return reopen(t, cp) },
	})
}

func TestProjectionRunner(t *testing.T) {
	projectiontest.TestRunner(t, projectiontest.Config{
		New: func(t testing.TB) projectiontest.Store { return openStore(t, singleServer(t), 1) },
		Checkpoints: func(t testing.TB, st projectiontest.Store) es.CheckpointStore {
			return st.(*natsjs.Store)
		},
	})
}

// r3Groups are the groups of the suite that run on the R3 cluster: those
// about racing writers, the global log and subscriptions, where
// replication changes what can go wrong. The rest run on R1 above.
var r3Groups = []string{"/Concurrency/", "/Log/", "/Subscribe/"}

func TestConformanceR3(t *testing.T) {
	if testing.Short() {
		t.Skip("R3 cluster tests skipped in -short mode")
	}
	w0, b0 := natsjs.ConflictAnswers()
	defer func() {
		w, b := natsjs.ConflictAnswers()
		t.Logf("the servers answered appends with 10071 (wrong last sequence) %d times and 10164 (subject busy) %d times", w-w0, b-b0)
	}()
	estest.TestEventStore(t, estest.Config{
		New: func(t testing.TB) es.EventStore {
			name := t.Name() + "/"
			in := false
			for _, g := range r3Groups {
				in = in || strings.Contains(name, g)
			}
			if !in {
				t.Skip("runs on R1 only (TestConformance); R3 runs the Concurrency, Log and Subscribe groups")
			}
			return openStore(t, tripleCluster(t), 3)
		},
		// Half the racing and subscribing iterations: each append waits
		// for a quorum, and the point here is the cluster's behaviour,
		// which the full counts on R1 above do not change.
		Scale: 0.5,
	})
}

func TestOpenURL(t *testing.T) {
	c := singleServer(t)
	name := newStream()
	t.Cleanup(func() { deleteStore(c, name) })
	st, err := natsjs.Open(t.Context(), c.urls+"?stream="+name+"&replicas=1")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer st.Close()
	if st.StreamName() != name {
		t.Fatalf("stream %q, want %q", st.StreamName(), name)
	}
	if _, err := st.Append(t.Context(), "s", es.NoStream, []es.Event{{Type: "E", Data: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"nats://", "http://127.0.0.1:4222", c.urls + "?replicas=zero", c.urls + "?stream=bad.name"} {
		if st, err := natsjs.Open(t.Context(), bad); err == nil {
			st.Close()
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}
