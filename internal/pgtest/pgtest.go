// Package pgtest gives tests a throwaway PostgreSQL schema on the server
// that the environment variable JERRY_TEST_POSTGRES names, and skips them,
// saying so, where it is unset.
//
// Every schema it makes is dropped, with all its tables, when the test
// ends. Names carry their creation time, so that the first call of a test
// binary also drops schemas of this kind more than a day old that an
// earlier run left behind (a test binary killed mid-run, a fuzzing worker
// stopped at -fuzztime).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the environment variable that gives tests their server, as
// a connection URL such as
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvVar = "JERRY_TEST_POSTGRES"

// prefix begins the name of every schema Schema makes.
const prefix = "jerry_test_"

// DSN returns the server's connection URL, or skips the test if EnvVar is
// unset.
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvVar)
	if dsn == "" {
		tb.Skipf("PostgreSQL tests skipped: set %s to a connection URL, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", EnvVar)
	}
	return dsn
}

// Schema returns the name of a fresh schema, which does not exist yet, and
// drops it (if it then does) when the test ends. It skips the test if
// EnvVar is unset.
func Schema(tb testing.TB) string {
	tb.Helper()
	dsn := DSN(tb)
	sweepOnce.Do(func() { sweep(dsn) })
	var b [4]byte
	rand.Read(b[:])
	name := fmt.Sprintf("%s%d_%s", prefix, time.Now().Unix(), hex.EncodeToString(b[:]))
	tb.Cleanup(func() {
		if err := drop(dsn, name); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// URL returns the server's connection URL with search_path set to schema,
// for code that takes a store URL rather than a schema option. It skips
// the test if EnvVar is unset.
func URL(tb testing.TB, schema string) string {
	tb.Helper()
	u, err := url.Parse(DSN(tb))
	if err != nil {
		tb.Fatalf("%s: %v", EnvVar, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func drop(dsn, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
	return err
}

var sweepOnce sync.Once

// sweep drops schemas that Schema made more than a day ago, ignoring
// failures: they cost nothing but space.
func sweep(dsn string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
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
		if _, err := fmt.Sscanf(name, prefix+"%d_", &created); err == nil && time.Since(time.Unix(created, 0)) > 24*time.Hour {
			conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE") //nolint:errcheck
		}
	}
}
