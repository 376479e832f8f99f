package postgres

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jerry-es/jerry/es"
)

var _ es.ModelStore = (*Models)(nil)

//go:embed model.sql
var modelSchemaSQL string

// modelTable is the table that holds read models, in the store's schema.
const modelTable = "jerry_read_models"

// modelLockKey serialises the creation of the model table by concurrent
// clients: CREATE TABLE IF NOT EXISTS alone fails with a unique violation
// when two sessions create it at the same moment.
const modelLockKey = 0x6a65727279_6d // "jerry" "m"

// Models is a read model store in a PostgreSQL table, jerry_read_models,
// one row per model. A save is one upsert whose WHERE clause keeps a row of
// a later position, so state and position never disagree and the model only
// moves forward when several clients save at once, with no lock of ours; it
// commits before it returns. The table is created by the first save, so a
// client that only reads needs no right to create it; a load before any save
// finds no model.
type Models struct {
	pool  *pgxpool.Pool
	table string // quoted schema.table
}

// NewModels returns a read model store over pool, in schema.
func NewModels(pool *pgxpool.Pool, schema string) *Models {
	return &Models{pool: pool, table: pgx.Identifier{schema, modelTable}.Sanitize()}
}

// Models returns the read model store in the store's schema.
func (s *Store) Models() *Models { return NewModels(s.Pool(), s.Schema()) }

// LoadModel implements es.ModelStore.
func (m *Models) LoadModel(ctx context.Context, name string) ([]byte, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if err := es.ValidateModelName(name); err != nil {
		return nil, 0, err
	}
	var state []byte // pgx scans bytea into a new slice: the caller's to keep
	var pos int64
	err := m.pool.QueryRow(ctx, "SELECT state, position FROM "+m.table+" WHERE name = $1", name).Scan(&state, &pos)
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows), errors.As(err, &pe) && pe.Code == "42P01": // undefined_table: never saved
		return nil, 0, fmt.Errorf("%w: read model %q", es.ErrNotFound, name)
	case err != nil:
		return nil, 0, fmt.Errorf("postgres: read model: %w", err)
	}
	if state == nil {
		state = []byte{}
	}
	return state, pos, nil
}

// SaveModel implements es.ModelStore.
func (m *Models) SaveModel(ctx context.Context, name string, position int64, state []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := es.ValidateModel(name, position); err != nil {
		return false, err
	}
	if state == nil {
		state = []byte{} // the column is NOT NULL
	}
	var saved bool
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(modelLockKey)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, strings.ReplaceAll(modelSchemaSQL, "{{table}}", m.table)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO `+m.table+` AS t (name, position, state) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET position = excluded.position, state = excluded.state, saved_at = now()
			WHERE t.position <= excluded.position`, name, position, state)
		saved = tag.RowsAffected() == 1
		return err
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "25006" || pe.Code == "42501") { // read_only_sql_transaction, insufficient_privilege
		err = fmt.Errorf("%w: %w", es.ErrReadOnly, err)
	}
	if err != nil {
		return false, fmt.Errorf("postgres: save read model: %w", err)
	}
	return saved, nil
}
