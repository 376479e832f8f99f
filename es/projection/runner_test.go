package projection_test

import (
	"testing"

	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/es/projection/projectiontest"
)

func TestRunnerMemstore(t *testing.T) {
	projectiontest.TestRunner(t, projectiontest.Config{
		New: func(testing.TB) projectiontest.Store { return memstore.New() },
	})
}
