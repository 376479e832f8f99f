package natsjs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jerry-es/jerry/es"
)

// snapshotValue is a snapshot as stored in the snapshot bucket.
type snapshotValue struct {
	Type   string          `json:"type"`
	Schema int             `json:"schema"`
	Time   string          `json:"time"`
	State  json.RawMessage `json:"state"`
}

// snapshotKey names the snapshot of stream at version: the stream ID in
// URL-safe base64 (a token of its own, so that one stream's keys never
// match another's filter) and the version in 20 digits.
func snapshotKey(stream string, version int64) string {
	return snapshotPrefix(stream) + fmt.Sprintf("%020d", version)
}

func snapshotPrefix(stream string) string {
	return "s" + base64.RawURLEncoding.EncodeToString([]byte(stream)) + "."
}

// SaveSnapshot implements es.SnapshotStore. The store keeps every snapshot
// of a stream, one key per version, so that loads at an earlier version can
// start from one.
func (s *Store) SaveSnapshot(ctx context.Context, snap es.Snapshot) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := es.ValidateSnapshot(snap); err != nil {
		return err
	}
	v, err := json.Marshal(snapshotValue{Type: snap.Type, Schema: snap.Schema, Time: es.Timestamp(snap.Time).Format(timeLayout), State: snap.State})
	if err != nil {
		return fmt.Errorf("natsjs: encode snapshot: %w", err)
	}
	if s.closed.Load() {
		return es.ErrClosed
	}
	return s.retry(ctx, func() error {
		_, err := s.snaps.Put(ctx, snapshotKey(snap.Stream, snap.Version), v)
		if err != nil {
			return fmt.Errorf("natsjs: save snapshot of %q: %w", snap.Stream, err)
		}
		return nil
	})
}

// LoadSnapshot implements es.SnapshotStore. The list of a stream's
// snapshots comes from a consumer that a follower may serve, so a snapshot
// saved a moment ago may be missed: that costs a longer replay, never a
// wrong state. The snapshot itself is read from the leader.
func (s *Store) LoadSnapshot(ctx context.Context, stream string, maxVersion int64) (es.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return es.Snapshot{}, err
	}
	if err := es.ValidateLoadSnapshot(stream, maxVersion); err != nil {
		return es.Snapshot{}, err
	}
	if s.closed.Load() {
		return es.Snapshot{}, es.ErrClosed
	}
	prefix := snapshotPrefix(stream)
	lister, err := s.snaps.ListKeysFiltered(ctx, prefix+"*")
	if err != nil {
		return es.Snapshot{}, fmt.Errorf("natsjs: list snapshots of %q: %w", stream, err)
	}
	best := int64(0)
	for k := range lister.Keys() {
		v, err := strconv.ParseInt(strings.TrimPrefix(k, prefix), 10, 64)
		if err != nil || v < 1 {
			continue
		}
		if (maxVersion == 0 || v <= maxVersion) && v > best {
			best = v
		}
	}
	_ = lister.Stop()
	if best == 0 {
		return es.Snapshot{}, fmt.Errorf("%w: no snapshot of %q at or below version %d", es.ErrNotFound, stream, maxVersion)
	}
	key := snapshotKey(stream, best)
	data, found, err := s.kvGet(ctx, s.name+"_snapshots", key)
	if err != nil {
		return es.Snapshot{}, err
	}
	if !found {
		return es.Snapshot{}, fmt.Errorf("%w: no snapshot of %q at or below version %d", es.ErrNotFound, stream, maxVersion)
	}
	var sv snapshotValue
	corrupt := func(err error) error {
		return &es.CorruptError{Path: "nats bucket " + s.name + "_snapshots key " + key, Err: err}
	}
	if err := json.Unmarshal(data, &sv); err != nil {
		return es.Snapshot{}, corrupt(err)
	}
	t, err := time.Parse(timeLayout, sv.Time)
	if err != nil {
		return es.Snapshot{}, corrupt(err)
	}
	return es.Snapshot{Stream: stream, Version: best, Type: sv.Type, Schema: sv.Schema, State: sv.State, Time: t.UTC()}, nil
}

// kvGet reads a key's value from the leader of bucket's stream.
func (s *Store) kvGet(ctx context.Context, bucket, key string) ([]byte, bool, error) {
	var m *storedMsg
	err := s.retry(ctx, func() error {
		var err error
		m, err = s.msgGet(ctx, "KV_"+bucket, map[string]any{"last_by_subj": "$KV." + bucket + "." + key})
		return err
	})
	if err != nil || m == nil {
		return nil, false, err
	}
	if hdr, err := decodeHeader(m.Header); err == nil && hdr.Get("KV-Operation") != "" {
		return nil, false, nil // deleted or purged
	}
	return m.Data, true, nil
}
