package postgres_test

import (
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/estest"
	"github.com/jerry-es/jerry/es/postgres"
)

func TestModels(t *testing.T) {
	schemas := map[es.ModelStore]string{}
	estest.TestModelStore(t, estest.ModelConfig{
		New: func(t testing.TB) es.ModelStore {
			s := newStore(t)
			ms := s.Models()
			schemas[ms] = s.Schema()
			return ms
		},
		// Another client: its own pool on the same schema.
		Reopen: func(t testing.TB, st es.ModelStore) es.ModelStore {
			return postgres.NewModels(newPool(t), schemas[st])
		},
	})
}
