package memstore_test

import (
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/estest"
	"github.com/jerry-es/jerry/es/memstore"
)

func TestConformance(t *testing.T) {
	estest.TestEventStore(t, estest.Config{
		New: func(testing.TB) es.EventStore { return memstore.New() },
	})
}

func TestSnapshotConformance(t *testing.T) {
	estest.TestSnapshotStore(t, estest.SnapshotConfig{
		New: func(testing.TB) es.SnapshotStore { return memstore.New() },
	})
}

func FuzzStreamID(f *testing.F) {
	estest.FuzzStreamID(f, estest.Config{
		New: func(testing.TB) es.EventStore { return memstore.New() },
	})
}
