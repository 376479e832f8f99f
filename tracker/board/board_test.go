package board_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/es/postgres"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/board"
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
	switch loc := os.Getenv("BOARDTEST_STORE"); {
	case strings.HasPrefix(loc, "file:"):
		boardtest.Main(fileConfig)
	case strings.HasPrefix(loc, "nats:"):
		boardtest.Main(natsConfig)
	default:
		boardtest.Main(pgConfig)
	}
	code := m.Run()
	stopNATS()
	os.Exit(code)
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

// seeded returns a board caught up with a memory store seeded with items
// work items and events events; the test closes it.
func seeded(t *testing.T, items, events int) *board.Board {
	t.Helper()
	ctx := context.Background()
	st := memstore.New()
	if err := boardtest.Seed(ctx, st, items, events, time.Now(), 1); err != nil {
		t.Fatal(err)
	}
	reg := es.NewRegistry()
	tracker.Register(reg)
	b, err := board.Open(ctx, filepath.Join(t.TempDir(), "board.db"), st, reg, board.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if _, err := b.CatchUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return b
}

// States and Waiting take more IDs than SQLite takes variables in one
// statement (a search with tens of thousands of hits asks for them all).
func TestStatesOfManyItems(t *testing.T) {
	ctx := context.Background()
	b := seeded(t, 1200, 2400)
	var ids []string
	for i := range 40000 {
		ids = append(ids, fmt.Sprintf("J-%d", i+1))
	}
	states, err := b.States(ctx, ids)
	if err != nil || len(states) != 1200 {
		t.Fatalf("States of 40,000 IDs: %d, %v; want the 1,200 items", len(states), err)
	}
	if _, err := b.Waiting(ctx, ids); err != nil {
		t.Fatalf("Waiting on 40,000 IDs: %v", err)
	}
}

// A word that matches more items than Search ranks by bm25 is ranked by
// where it occurs, newest first: every seeded title holds "the", so the
// answer is the newest open items, and it stops at the limit.
func TestSearchCommonWord(t *testing.T) {
	ctx := context.Background()
	b := seeded(t, 2500, 5000)
	open, err := b.Items(ctx, board.Query{Sort: board.ByCreated})
	if err != nil {
		t.Fatal(err)
	}
	hits, err := b.Search(ctx, "the", board.Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 10 {
		t.Fatalf("%d hits, want 10", len(hits))
	}
	for i, h := range hits {
		if h.ID != open[i].ID || h.Rank != 0 {
			t.Fatalf("hit %d is %s (rank %v), want %s (rank 0)", i, h.ID, h.Rank, open[i].ID)
		}
	}
}

// The suite with every empty model bulk loaded (from 50 events, not
// 2,000), writing the items a stretch of the log left alone while it folds
// the rest (every 97 events here, every 65,536 in use): items touched
// again after their row was written are updated.
func TestMemstoreBulkStretches(t *testing.T) {
	defer board.SetBulk(50, 97)()
	boardtest.Run(t, boardtest.Config{
		New: func(t testing.TB) (boardtest.Store, string) { return memstore.New(), "" },
	})
}

// A temporary model answers like any other and leaves nothing behind once
// closed.
func TestOpenTempRemovedOnClose(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	if err := boardtest.Seed(ctx, st, 20, 60, time.Now(), 1); err != nil {
		t.Fatal(err)
	}
	reg := es.NewRegistry()
	tracker.Register(reg)
	t.Setenv("TMPDIR", t.TempDir())
	b, err := board.OpenTemp(ctx, st, reg, board.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Temporary() {
		t.Fatal("a model of OpenTemp's says it is not temporary")
	}
	if _, err := b.CatchUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
	items, err := b.Items(ctx, board.Query{All: true})
	if err != nil || len(items) != 20 {
		t.Fatalf("Items: %d, %v; want 20", len(items), err)
	}
	left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "jerry-board-*"))
	if len(left) != 1 {
		t.Fatalf("want one temporary directory while open, found %v", left)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "jerry-board-*")); len(left) != 0 {
		t.Fatalf("Close left %v behind", left)
	}
}

// The errors doc.go promises: invalid queries match
// tracker.ErrInvalidInput, and a closed board answers es.ErrClosed to a
// read and to a catch-up.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	b := seeded(t, 10, 20)
	if _, err := board.ParseSort("sideways"); !errors.Is(err, tracker.ErrInvalidInput) {
		t.Errorf("ParseSort(sideways) = %v, want tracker.ErrInvalidInput", err)
	}
	if _, err := b.Search(ctx, "  ", board.Query{}); !errors.Is(err, tracker.ErrInvalidInput) {
		t.Errorf("Search of nothing = %v, want tracker.ErrInvalidInput", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Items(ctx, board.Query{}); !errors.Is(err, es.ErrClosed) {
		t.Errorf("Items on a closed board = %v, want es.ErrClosed", err)
	}
	if _, err := b.CatchUp(ctx, nil); !errors.Is(err, es.ErrClosed) {
		t.Errorf("CatchUp on a closed board = %v, want es.ErrClosed", err)
	}
}
