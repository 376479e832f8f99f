package memstore_test

import (
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/es/projection/projectiontest"
)

func TestCheckpoints(t *testing.T) {
	projectiontest.TestCheckpointStore(t, projectiontest.CheckpointConfig{
		New: func(testing.TB) es.CheckpointStore { return memstore.NewCheckpoints() },
	})
}
