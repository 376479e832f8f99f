package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/estest"
	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/es/postgres"
)

// adapter is one event store the command measures.
type adapter struct {
	name string
	// durable adapters sync every append to disk before acknowledging it,
	// so the machine's fdatasync rate is the limit their appends meet.
	durable bool
	// decodesJSON adapters parse their stored JSON on every read, so
	// encoding/json's decode rate is the yardstick of their reads.
	decodesJSON bool
	// open returns a new, empty store, registering with tb.Cleanup what
	// closes it and removes its storage.
	open func(tb testing.TB) (es.EventStore, error)
	// close removes whatever storage is left when the run is cut short.
	close func()
}

// config is the estest configuration of a, whose New remembers the last
// error so that the table can say why a workload failed (testing.Benchmark
// discards a benchmark's log).
func (a *adapter) config(lastErr *errSlot) estest.Config {
	return estest.Config{New: func(tb testing.TB) es.EventStore {
		st, err := a.open(tb)
		if err != nil {
			lastErr.set(err)
			tb.Fatal(err)
		}
		return st
	}}
}

// errSlot holds the last error of an adapter's set-up.
type errSlot struct {
	mu  sync.Mutex
	err error
}

func (s *errSlot) set(err error) { s.mu.Lock(); s.err = err; s.mu.Unlock() }

func (s *errSlot) take() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.err
	s.err = nil
	return err
}

func memstoreAdapter() *adapter {
	return &adapter{
		name:  "memstore",
		open:  func(testing.TB) (es.EventStore, error) { return memstore.New(), nil },
		close: func() {},
	}
}

// jsonfileAdapter opens durable stores (an fdatasync per append, the
// default) in fresh directories under root.
func jsonfileAdapter(root string) *adapter {
	return &adapter{
		name:        "jsonfile",
		durable:     true,
		decodesJSON: true,
		open: func(tb testing.TB) (es.EventStore, error) {
			dir, err := os.MkdirTemp(root, "jsonfile-")
			if err != nil {
				return nil, err
			}
			st, err := jsonfile.Open(dir)
			if err != nil {
				os.RemoveAll(dir)
				return nil, err
			}
			tb.Cleanup(func() {
				st.Close()
				os.RemoveAll(dir)
			})
			return st, nil
		},
		close: func() {},
	}
}

// schemaPrefix starts the name of every schema the command creates; the
// Unix time that follows lets a later run drop what a killed one left.
const schemaPrefix = "jerry_bench_"

// postgresAdapter opens each store in a schema of its own, dropped when the
// store's benchmark ends (or by close, if the run is cut short).
func postgresAdapter(dsn string) *adapter {
	var (
		mu   sync.Mutex
		live = map[string]bool{}
	)
	drop := func(schema string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		return err
	}
	return &adapter{
		name:    "postgres",
		durable: true,
		open: func(tb testing.TB) (es.EventStore, error) {
			var r [4]byte
			rand.Read(r[:])
			schema := fmt.Sprintf("%s%d_%s", schemaPrefix, time.Now().Unix(), hex.EncodeToString(r[:]))
			mu.Lock()
			live[schema] = true
			mu.Unlock()
			forget := func() error {
				err := drop(schema)
				mu.Lock()
				delete(live, schema)
				mu.Unlock()
				return err
			}
			st, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema))
			if err != nil {
				forget()
				return nil, err
			}
			tb.Cleanup(func() {
				st.Close()
				if err := forget(); err != nil {
					tb.Errorf("drop schema %s: %v", schema, err)
				}
			})
			return st, nil
		},
		close: func() {
			mu.Lock()
			defer mu.Unlock()
			for s := range live {
				drop(s)
				delete(live, s)
			}
		},
	}
}

// sweepSchemas drops the schemas that runs more than a day old left behind
// (a run killed with SIGKILL cannot drop its own), ignoring failures.
func sweepSchemas(ctx context.Context, dsn string) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", schemaPrefix)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, n := range names {
		unix, _, _ := strings.Cut(strings.TrimPrefix(n, schemaPrefix), "_")
		if t, err := strconv.ParseInt(unix, 10, 64); err == nil && time.Since(time.Unix(t, 0)) > 24*time.Hour {
			conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{n}.Sanitize()+" CASCADE")
		}
	}
}
