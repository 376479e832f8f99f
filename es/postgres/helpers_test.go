package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jerry-es/jerry/es/postgres"
)

// dsnEnv names the environment variable that gives the tests their server.
const dsnEnv = "JERRY_TEST_POSTGRES"

func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		tb.Skipf("PostgreSQL tests skipped: set %s to a connection URL, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", dsnEnv)
	}
	return dsn
}

// newSchema returns the name of a fresh schema that is dropped, with all its
// tables, when the test ends. Names carry their creation time, so that the
// first test of a run can drop schemas more than a day old that an earlier
// run left behind (a fuzzing worker killed at -fuzztime does).
func newSchema(tb testing.TB) string {
	tb.Helper()
	dsn := testDSN(tb)
	sweepOnce.Do(func() { sweep(dsn) })
	var b [4]byte
	rand.Read(b[:])
	name := fmt.Sprintf("jerry_test_%d_%s", time.Now().Unix(), hex.EncodeToString(b[:]))
	tb.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

var sweepOnce sync.Once

// sweep drops test schemas more than a day old, ignoring failures.
func sweep(dsn string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'jerry\_test\_%'`)
	if err != nil {
		return
	}
	names, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, name := range names {
		var created int64
		if _, err := fmt.Sscanf(name, "jerry_test_%d_", &created); err == nil && time.Since(time.Unix(created, 0)) > 24*time.Hour {
			conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
		}
	}
}

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
