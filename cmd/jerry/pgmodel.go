package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jerry-es/jerry/es/postgres"
	"github.com/jerry-es/jerry/tracker/app"
)

// pgModel keeps jerry's read model in the store's database: one row of
// jerry_read_models holding the encoded state and its position. It is one
// blob rather than rows per item because the model is always read and
// written whole; a single-row upsert is atomic (state and position cannot
// disagree), and its WHERE clause makes the model only move forward when
// several clients save at once, with no lock of ours.
type pgModel struct {
	pool  *pgxpool.Pool
	table string // quoted schema.table
}

var _ app.ModelStore = (*pgModel)(nil)

// pgModelLockKey serialises the table's creation by concurrent clients.
const pgModelLockKey = 0x6a65727279_6d // "jerry" "m"

const pgModelName = "jerry"

func newPGModel(_ context.Context, st *postgres.Store) (*pgModel, error) {
	return &pgModel{pool: st.Pool(), table: pgx.Identifier{st.Schema(), "jerry_read_models"}.Sanitize()}, nil
}

// LoadModel implements app.ModelStore.
func (m *pgModel) LoadModel(ctx context.Context) ([]byte, error) {
	var state []byte // pgx scans bytea into a new slice: ours to keep
	err := m.pool.QueryRow(ctx, "SELECT state FROM "+m.table+" WHERE name = $1", pgModelName).Scan(&state)
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows), errors.As(err, &pe) && pe.Code == "42P01": // undefined_table: never saved
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read model: %w", err)
	}
	return state, nil
}

// SaveModel implements app.ModelStore.
func (m *pgModel) SaveModel(ctx context.Context, position int64, data []byte) (bool, error) {
	var saved bool
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(pgModelLockKey)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+m.table+` (
			name     text        PRIMARY KEY,
			position bigint      NOT NULL CHECK (position >= 0),
			state    bytea       NOT NULL,
			saved_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO `+m.table+` AS t (name, position, state) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET position = excluded.position, state = excluded.state, saved_at = now()
			WHERE t.position <= excluded.position`, pgModelName, position, data)
		saved = tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("save read model: %w", err)
	}
	return saved, nil
}
