package memstore

import (
	"context"
	"sync"

	"github.com/jerry-es/jerry/es"
)

var _ es.CheckpointStore = (*Checkpoints)(nil)

// Checkpoints is an in-memory checkpoint store: checkpoints are lost with it.
// Create one with [NewCheckpoints]; it is safe for concurrent use.
type Checkpoints struct {
	mu  sync.Mutex
	pos map[string]int64
}

// NewCheckpoints returns an empty checkpoint store.
func NewCheckpoints() *Checkpoints {
	return &Checkpoints{pos: make(map[string]int64)}
}

// LoadCheckpoint implements es.CheckpointStore.
func (c *Checkpoints) LoadCheckpoint(ctx context.Context, name string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := es.ValidateCheckpointName(name); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos[name], nil
}

// SaveCheckpoint implements es.CheckpointStore.
func (c *Checkpoints) SaveCheckpoint(ctx context.Context, name string, position int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := es.ValidateCheckpoint(name, position); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pos[name] = position
	return nil
}
