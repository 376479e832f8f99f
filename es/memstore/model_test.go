package memstore_test

import (
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/estest"
	"github.com/jerry-es/jerry/es/memstore"
)

func TestModels(t *testing.T) {
	estest.TestModelStore(t, estest.ModelConfig{
		New: func(testing.TB) es.ModelStore { return memstore.NewModels() },
	})
}
