package natsjs

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/jerry-es/jerry/es"
)

func checkpointKey(name string) string {
	return "c" + base64.RawURLEncoding.EncodeToString([]byte(name))
}

// LoadCheckpoint implements es.CheckpointStore. It reads from the leader
// of the checkpoint bucket's stream, so it returns the last position saved.
func (s *Store) LoadCheckpoint(ctx context.Context, name string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := es.ValidateCheckpointName(name); err != nil {
		return 0, err
	}
	if s.closed.Load() {
		return 0, es.ErrClosed
	}
	key := checkpointKey(name)
	data, found, err := s.kvGet(ctx, s.name+"_checkpoints", key)
	if err != nil || !found {
		return 0, err
	}
	p, err := strconv.ParseInt(string(data), 10, 64)
	if err != nil || p < 0 {
		return 0, &es.CorruptError{Path: "nats bucket " + s.name + "_checkpoints key " + key, Err: fmt.Errorf("position %q", data)}
	}
	return p, nil
}

// SaveCheckpoint implements es.CheckpointStore. It returns once the bucket's
// stream has stored the position on a quorum of its replicas.
func (s *Store) SaveCheckpoint(ctx context.Context, name string, position int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := es.ValidateCheckpoint(name, position); err != nil {
		return err
	}
	if s.closed.Load() {
		return es.ErrClosed
	}
	return s.retry(ctx, func() error {
		if _, err := s.cps.Put(ctx, checkpointKey(name), []byte(strconv.FormatInt(position, 10))); err != nil {
			return fmt.Errorf("natsjs: save checkpoint %q: %w", name, err)
		}
		return nil
	})
}
