package postgres_test

import (
	"context"
	"testing"

	"github.com/jerry-es/jerry/es/postgres"
	"github.com/jerry-es/jerry/internal/pgtest"
)

// dsnEnv names the environment variable that gives the tests their server.
const dsnEnv = pgtest.EnvVar

// testDSN returns the server's URL, or skips the test.
func testDSN(tb testing.TB) string { return pgtest.DSN(tb) }

// newSchema returns the name of a fresh schema, dropped with all its tables
// when the test ends.
func newSchema(tb testing.TB) string { return pgtest.Schema(tb) }

// newStore opens a store in a fresh schema, closed and dropped when the test
// ends.
func newStore(tb testing.TB, opts ...postgres.Option) *postgres.Store {
	tb.Helper()
	schema := newSchema(tb)
	s, err := postgres.Open(context.Background(), testDSN(tb), append([]postgres.Option{postgres.WithSchema(schema)}, opts...)...)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
