package postgres

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jerry-es/jerry/es"
)

var _ es.CheckpointStore = (*Checkpoints)(nil)

//go:embed checkpoint.sql
var checkpointSchemaSQL string

// Checkpoints is a checkpoint store in a PostgreSQL table, checkpoints, in a
// schema of the caller's choice. A save commits before it returns, so it is
// as durable as the server's commit (synchronous_commit on by default).
//
// Besides the plain [es.CheckpointStore] methods it offers the transactional
// form, for read models kept in the same database: [Checkpoints.SaveCheckpointTx]
// saves a checkpoint inside the caller's transaction, and
// [Checkpoints.Transactional] wraps a read model's update function into a
// projection whose every batch commits its changes and its checkpoint in one
// transaction. A crash then never leaves the read model ahead of or behind its
// checkpoint, so each event's effect is applied exactly once.
type Checkpoints struct {
	pool   *pgxpool.Pool
	schema string // quoted identifier
}

// NewCheckpoints returns a checkpoint store over pool in schema, creating the
// schema and its checkpoints table if they do not exist.
func NewCheckpoints(ctx context.Context, pool *pgxpool.Pool, schema string) (*Checkpoints, error) {
	if schema == "" {
		return nil, fmt.Errorf("postgres: checkpoints: %w: empty schema name", es.ErrInvalidInput)
	}
	c := &Checkpoints{pool: pool, schema: pgx.Identifier{schema}.Sanitize()}
	ddl := strings.ReplaceAll(checkpointSchemaSQL, "{{schema}}", c.schema)
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// The store's migration takes the same lock: CREATE ... IF NOT
		// EXISTS alone still fails with a unique violation when another
		// session creates the same schema or table at the same moment.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", schemaLockKey(schema)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, ddl)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: create checkpoints table in %s: %w", c.schema, err)
	}
	return c, nil
}

// LoadCheckpoint implements es.CheckpointStore.
func (c *Checkpoints) LoadCheckpoint(ctx context.Context, name string) (int64, error) {
	return c.load(ctx, c.pool, name)
}

// LoadCheckpointTx is LoadCheckpoint inside tx.
func (c *Checkpoints) LoadCheckpointTx(ctx context.Context, tx pgx.Tx, name string) (int64, error) {
	return c.load(ctx, tx, name)
}

func (c *Checkpoints) load(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, name string) (int64, error) {
	if err := es.ValidateCheckpointName(name); err != nil {
		return 0, err
	}
	var pos int64
	err := q.QueryRow(ctx, "SELECT position FROM "+c.schema+".checkpoints WHERE name = $1", name).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: load checkpoint %q: %w", name, err)
	}
	return pos, nil
}

// SaveCheckpoint implements es.CheckpointStore.
func (c *Checkpoints) SaveCheckpoint(ctx context.Context, name string, position int64) error {
	if err := es.ValidateCheckpoint(name, position); err != nil {
		return err
	}
	if _, err := c.pool.Exec(ctx, c.upsertSQL(), name, position); err != nil {
		if ctxErr := cancelled(ctx, err); ctxErr != nil {
			return fmt.Errorf("postgres: save checkpoint %q: %w", name, ctxErr)
		}
		return fmt.Errorf("postgres: save checkpoint %q: %w", name, err)
	}
	return nil
}

// SaveCheckpointTx saves position under name inside tx: the checkpoint
// commits, or rolls back, with whatever else tx does. It validates its input
// as [es.ValidateCheckpoint] does.
func (c *Checkpoints) SaveCheckpointTx(ctx context.Context, tx pgx.Tx, name string, position int64) error {
	if err := es.ValidateCheckpoint(name, position); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, c.upsertSQL(), name, position); err != nil {
		if ctxErr := cancelled(ctx, err); ctxErr != nil {
			return fmt.Errorf("postgres: save checkpoint %q: %w", name, ctxErr)
		}
		return fmt.Errorf("postgres: save checkpoint %q: %w", name, err)
	}
	return nil
}

func (c *Checkpoints) upsertSQL() string {
	return "INSERT INTO " + c.schema + ".checkpoints (name, position, saved_at) VALUES ($1, $2, now()) " +
		"ON CONFLICT (name) DO UPDATE SET position = excluded.position, saved_at = excluded.saved_at"
}

// TxApplyFunc applies a batch of events to a read model inside tx. It must
// not commit or roll back tx.
type TxApplyFunc func(ctx context.Context, tx pgx.Tx, batch []es.Record) error

// TxResetFunc empties a read model inside tx, for a rebuild from zero.
type TxResetFunc func(ctx context.Context, tx pgx.Tx) error

// Transactional returns a projection whose read model lives in this database:
// apply updates it, and reset (which may be nil) empties it. Give it to the
// projection runner with c as the checkpoint store; the runner then commits
// each batch through [TxProjection.Commit].
func (c *Checkpoints) Transactional(apply TxApplyFunc, reset TxResetFunc) *TxProjection {
	return &TxProjection{c: c, apply: apply, reset: reset}
}

// TxProjection is a projection whose read-model changes and checkpoint
// commit in one PostgreSQL transaction. It has the methods the projection
// runner looks for (Apply, Commit, Reset), so package projection need not
// know PostgreSQL.
type TxProjection struct {
	c     *Checkpoints
	apply TxApplyFunc
	reset TxResetFunc
}

// Commit applies batch and saves position as the checkpoint of name in one
// transaction: both commit, or neither does.
func (p *TxProjection) Commit(ctx context.Context, name string, batch []es.Record, position int64) error {
	if err := es.ValidateCheckpoint(name, position); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, p.c.pool, func(tx pgx.Tx) error {
		if err := p.apply(ctx, tx, batch); err != nil {
			return err
		}
		return p.c.SaveCheckpointTx(ctx, tx, name, position)
	})
}

// Apply applies batch in a transaction of its own, without a checkpoint.
// The runner uses Commit instead.
func (p *TxProjection) Apply(ctx context.Context, batch []es.Record) error {
	return pgx.BeginFunc(ctx, p.c.pool, func(tx pgx.Tx) error {
		return p.apply(ctx, tx, batch)
	})
}

// Reset empties the read model in a transaction of its own; it does nothing
// if the projection has no reset function.
func (p *TxProjection) Reset(ctx context.Context) error {
	if p.reset == nil {
		return nil
	}
	return pgx.BeginFunc(ctx, p.c.pool, func(tx pgx.Tx) error {
		return p.reset(ctx, tx)
	})
}
