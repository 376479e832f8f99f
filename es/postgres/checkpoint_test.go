package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/postgres"
	"github.com/jerry-es/jerry/es/projection"
	"github.com/jerry-es/jerry/es/projection/projectiontest"
)

// newPool returns a pool closed when the test ends.
func newPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.New(context.Background(), testDSN(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

type schemaCheckpoints struct {
	*postgres.Checkpoints
	schema string
}

func newCheckpoints(tb testing.TB, pool *pgxpool.Pool, schema string) *schemaCheckpoints {
	tb.Helper()
	cp, err := postgres.NewCheckpoints(context.Background(), pool, schema)
	if err != nil {
		tb.Fatal(err)
	}
	return &schemaCheckpoints{cp, schema}
}

func TestCheckpoints(t *testing.T) {
	pool := newPool(t)
	projectiontest.TestCheckpointStore(t, projectiontest.CheckpointConfig{
		New: func(t testing.TB) es.CheckpointStore { return newCheckpoints(t, pool, newSchema(t)) },
		Reopen: func(t testing.TB, cp es.CheckpointStore) es.CheckpointStore {
			return newCheckpoints(t, pool, cp.(*schemaCheckpoints).schema)
		},
	})
}

// TestCheckpointsBesideStore checks that the checkpoints table lives beside a
// store's tables in one schema, and that NewCheckpoints is safe to run again.
func TestCheckpointsBesideStore(t *testing.T) {
	st := newStore(t)
	for range 2 {
		cp, err := postgres.NewCheckpoints(t.Context(), st.Pool(), st.Schema())
		if err != nil {
			t.Fatal(err)
		}
		if err := cp.SaveCheckpoint(t.Context(), "x", 3); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRunner(t *testing.T) {
	projectiontest.TestRunner(t, projectiontest.Config{
		New: func(t testing.TB) projectiontest.Store { return newStore(t) },
		Checkpoints: func(t testing.TB, st projectiontest.Store) es.CheckpointStore {
			s := st.(*postgres.Store)
			return newCheckpoints(t, s.Pool(), s.Schema())
		},
		Scale: 0.5,
	})
}

// TestTransactional runs a projection whose read model is a table in the
// store's schema: each batch's rows and its checkpoint commit together, and a
// batch that fails leaves neither behind.
func TestTransactional(t *testing.T) {
	ctx := t.Context()
	st := newStore(t)
	cp, err := postgres.NewCheckpoints(ctx, st.Pool(), st.Schema())
	if err != nil {
		t.Fatal(err)
	}
	table := pgx.Identifier{st.Schema(), "seen"}.Sanitize()
	if _, err := st.Pool().Exec(ctx, "CREATE TABLE "+table+" (position bigint PRIMARY KEY, stream text NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	failAt := int64(0)
	proj := cp.Transactional(
		func(ctx context.Context, tx pgx.Tx, batch []es.Record) error {
			for _, r := range batch {
				// The row goes in before the failure, so that a failed
				// batch that committed anyway would show.
				if _, err := tx.Exec(ctx, "INSERT INTO "+table+" VALUES ($1, $2)", r.Position, r.Stream); err != nil {
					return err
				}
				if r.Position == failAt {
					return fmt.Errorf("read model refuses %d", r.Position)
				}
			}
			return nil
		},
		func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "DELETE FROM "+table)
			return err
		})
	for i := range 25 {
		if _, err := st.Append(ctx, fmt.Sprintf("s-%d", i%3), es.Any, []es.Event{{Type: "t", Data: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := projection.New("seen", st, proj, projection.Options{Checkpoints: cp, BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	state := func() (rows, maxPos, checkpoint int64) {
		t.Helper()
		if err := st.Pool().QueryRow(ctx, "SELECT count(*), coalesce(max(position), 0) FROM "+table).Scan(&rows, &maxPos); err != nil {
			t.Fatal(err)
		}
		checkpoint, err := cp.LoadCheckpoint(ctx, "seen")
		if err != nil {
			t.Fatal(err)
		}
		return rows, maxPos, checkpoint
	}

	failAt = 15
	if _, err := r.CatchUp(ctx); err == nil {
		t.Fatal("CatchUp past a failing batch succeeded")
	}
	if rows, maxPos, c := state(); rows != 10 || maxPos != 10 || c != 10 {
		t.Fatalf("after a failed batch: %d rows up to %d, checkpoint %d; want 10, 10, 10", rows, maxPos, c)
	}
	failAt = 0
	if pos, err := r.CatchUp(ctx); err != nil || pos != 25 {
		t.Fatalf("CatchUp = %d, %v", pos, err)
	}
	if rows, maxPos, c := state(); rows != 25 || maxPos != 25 || c != 25 {
		t.Fatalf("after catch-up: %d rows up to %d, checkpoint %d; want 25, 25, 25", rows, maxPos, c)
	}
	if pos, err := r.Rebuild(ctx); err != nil || pos != 25 {
		t.Fatalf("Rebuild = %d, %v", pos, err)
	}
	if rows, _, c := state(); rows != 25 || c != 25 {
		t.Fatalf("after rebuild: %d rows, checkpoint %d; want 25, 25", rows, c)
	}

	// A checkpoint that cannot be saved takes the read model change back
	// with it.
	batch, err := es.Collect(st.ReadLog(ctx, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, "DELETE FROM "+table); err != nil {
		t.Fatal(err)
	}
	if err := proj.Commit(ctx, "", batch, 25); !errors.Is(err, es.ErrInvalidCheckpointName) {
		t.Fatalf("Commit with an invalid name = %v", err)
	}
	// Make the checkpoint save itself fail, after apply has written its
	// rows in the same transaction.
	cpTable := pgx.Identifier{st.Schema(), "checkpoints"}.Sanitize()
	if _, err := st.Pool().Exec(ctx, "ALTER TABLE "+cpTable+" ADD CONSTRAINT no_saves CHECK (position < 0) NOT VALID"); err != nil {
		t.Fatal(err)
	}
	if err := proj.Commit(ctx, "seen", batch, 25); err == nil {
		t.Fatal("Commit succeeded although its checkpoint could not be saved")
	}
	if _, err := st.Pool().Exec(ctx, "ALTER TABLE "+cpTable+" DROP CONSTRAINT no_saves"); err != nil {
		t.Fatal(err)
	}
	if rows, _, c := state(); rows != 0 || c != 25 {
		t.Fatalf("after failed commits: %d rows, checkpoint %d; want 0, 25", rows, c)
	}
}
