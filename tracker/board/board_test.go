package board_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/es/postgres"
	"github.com/jerry-es/jerry/tracker/board/boardtest"
)

var fileConfig = boardtest.Config{
	New: func(t testing.TB) (boardtest.Store, string) {
		dir := t.TempDir()
		s, err := jsonfile.Open(dir, jsonfile.NoSync())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, "file:" + dir
	},
	Open: func(loc string) (boardtest.Store, func(), error) {
		s, err := jsonfile.Open(loc[len("file:"):], jsonfile.NoSync())
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	},
}

var pgConfig = boardtest.Config{
	New: func(t testing.TB) (boardtest.Store, string) {
		dsn := os.Getenv("JERRY_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("PostgreSQL tests skipped: set JERRY_TEST_POSTGRES to a connection URL, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
		}
		var b [4]byte
		rand.Read(b[:])
		schema := fmt.Sprintf("jerry_test_%d_%s", time.Now().Unix(), hex.EncodeToString(b[:]))
		s, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			s.Close()
			ctx := context.Background()
			if conn, err := pgx.Connect(ctx, dsn); err == nil {
				conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
				conn.Close(ctx)
			}
		})
		return s, dsn + "#" + url.QueryEscape(schema)
	},
	Open: func(loc string) (boardtest.Store, func(), error) {
		u, err := url.Parse(loc)
		if err != nil {
			return nil, nil, err
		}
		schema := u.Fragment
		u.Fragment = ""
		s, err := postgres.Open(context.Background(), u.String(), postgres.WithSchema(schema))
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	},
	Events: 400,
}

func TestMain(m *testing.M) {
	if loc := os.Getenv("BOARDTEST_STORE"); len(loc) > 5 && loc[:5] == "file:" {
		boardtest.Main(fileConfig)
	} else {
		boardtest.Main(pgConfig)
	}
	os.Exit(m.Run())
}

func TestMemstore(t *testing.T) {
	boardtest.Run(t, boardtest.Config{
		New: func(t testing.TB) (boardtest.Store, string) { return memstore.New(), "" },
	})
}

func TestFileStore(t *testing.T) {
	cfg := fileConfig
	cfg.Events = 600
	if os.Getenv("BOARDTEST_LONG") != "" {
		cfg.Events = 3000
	}
	boardtest.Run(t, cfg)
}

func TestPostgres(t *testing.T) { boardtest.Run(t, pgConfig) }
