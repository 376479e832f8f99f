package memstore_test

import (
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/estest"
	"github.com/jerry-es/jerry/es/memstore"
)

func BenchmarkStore(b *testing.B) {
	estest.BenchmarkEventStore(b, estest.Config{
		New: func(testing.TB) es.EventStore { return memstore.New() },
	})
}
