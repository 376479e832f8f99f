package natsjs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/nats-io/nats.go"
)

// Reads fetch messages with JetStream's batched direct get: up to
// readBatch messages (and readBatchBytes) per request, sent straight from
// the store file as raw messages. A direct get may be answered by a
// follower that is behind, so every read first learns from the leader where
// it must end (the subject's or the stream's last sequence), and keeps
// asking until it has read that far: a read never ends short of an
// acknowledged append.
const (
	readBatch      = 1000
	readBatchBytes = 8 << 20
)

// ReadStream implements es.EventStore. It reads the stream up to the last
// event the leader held when the read began.
func (s *Store) ReadStream(ctx context.Context, stream string, from, to int64) iter.Seq2[es.Record, error] {
	return func(yield func(es.Record, error) bool) {
		if err := es.ValidateRead(stream, from, to); err != nil {
			yield(es.Record{}, err)
			return
		}
		if err := ctx.Err(); err != nil {
			yield(es.Record{}, err)
			return
		}
		t, err := s.lastOf(ctx, stream)
		if err != nil {
			yield(es.Record{}, err)
			return
		}
		if t.version < from || (to != 0 && to < from) {
			return
		}
		if to == 0 || to > t.version {
			to = t.version
		}
		s.readVersions(ctx, stream, tail{}, from, to, t.seq, yield)
	}
}

// readVersions yields versions from to to of stream, whose last message
// has sequence end. It scans the subject from start, a version at or below
// from and its sequence, or from the beginning if start is zero.
func (s *Store) readVersions(ctx context.Context, stream string, start tail, from, to int64, end uint64, yield func(es.Record, error) bool) {
	subject := s.subjectOf(stream)
	want, seq := int64(1), uint64(1)
	if start.version >= 1 && start.version <= from && start.seq <= end {
		want, seq = start.version, start.seq
	}
	stop := errors.New("stop")
	err := s.scan(ctx, subject, seq, end, func(seq uint64, subj string, hdr nats.Header, data []byte) error {
		if want < from {
			// Below the range only the version is needed, to check that
			// the stream runs without gaps: skip the full decode.
			if v, err := strconv.ParseInt(hdr.Get(hdrVersion), 10, 64); err == nil && v == want {
				want++
				return nil
			}
		}
		r, err := s.decode(subj, seq, hdr, data)
		if err != nil {
			return err
		}
		if r.Version != want {
			return &es.CorruptError{Path: "nats stream " + s.name + " subject " + subject, Offset: int64(seq),
				Err: fmt.Errorf("version %d where %d was due", r.Version, want)}
		}
		want++
		if r.Version < from {
			return nil
		}
		if !yield(r, nil) || r.Version >= to {
			return stop
		}
		return nil
	})
	if err != nil && err != stop {
		yield(es.Record{}, err)
	}
}

// window returns versions from to to of stream, whose tail is t: the tail's
// own record if that is the window, else a scan from hint (see
// readVersions).
func (s *Store) window(ctx context.Context, stream string, hint, t tail, from, to int64) ([]es.Record, error) {
	if from == to && to == t.version && t.last != nil {
		return []es.Record{*t.last}, nil
	}
	var out []es.Record
	var failed error
	s.readVersions(ctx, stream, hint, from, to, t.seq, func(r es.Record, err error) bool {
		if err != nil {
			failed = err
			return false
		}
		out = append(out, r)
		return true
	})
	return out, failed
}

// StreamVersion implements es.EventStore. It asks the stream's leader.
func (s *Store) StreamVersion(ctx context.Context, stream string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := es.ValidateStreamID(stream); err != nil {
		return 0, err
	}
	t, err := s.lastOf(ctx, stream)
	return t.version, err
}

// ReadLog implements es.LogReader: positions are the stream's sequences. It
// ends at the last event the leader held when the read began.
func (s *Store) ReadLog(ctx context.Context, from int64) iter.Seq2[es.Record, error] {
	return func(yield func(es.Record, error) bool) {
		if err := es.ValidatePosition(from); err != nil {
			yield(es.Record{}, err)
			return
		}
		if err := ctx.Err(); err != nil {
			yield(es.Record{}, err)
			return
		}
		end, err := s.lastSeq(ctx)
		if err != nil {
			yield(es.Record{}, err)
			return
		}
		if uint64(from) > end {
			return
		}
		stop := errors.New("stop")
		err = s.scan(ctx, "", uint64(from), end, func(seq uint64, subj string, hdr nats.Header, data []byte) error {
			r, err := s.decode(subj, seq, hdr, data)
			if err != nil {
				return err
			}
			if !yield(r, nil) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop {
			yield(es.Record{}, err)
		}
	}
}

// LastPosition implements es.LogReader. It asks the stream's leader.
func (s *Store) LastPosition(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	last, err := s.lastSeq(ctx)
	return int64(last), err
}

// Subscribe implements es.Subscriber. Every append, from any process that
// uses this adapter, publishes a nudge on a core subject after its ack,
// which wakes the subscribers of every Store on the same stream; a poll
// every second covers nudges lost on the way.
func (s *Store) Subscribe(ctx context.Context, from int64) iter.Seq2[es.Record, error] {
	return es.Follow(ctx, s, from, &s.wake, time.Second)
}

// scan calls f for each message from sequence start to end, inclusive, in
// order: every message if subject is empty, else those of subject. Without
// a subject, every sequence must be there: a missing one is corruption.
// f's error ends the scan and is returned.
func (s *Store) scan(ctx context.Context, subject string, start, end uint64, f func(seq uint64, subject string, hdr nats.Header, data []byte) error) error {
	next := start
	for next <= end {
		if err := ctx.Err(); err != nil {
			return err
		}
		var msgs []*nats.Msg
		err := s.retry(ctx, func() error {
			var err error
			msgs, err = s.getBatch(ctx, subject, next, end)
			return err
		})
		if err != nil {
			return err
		}
		for _, m := range msgs {
			seq, err := strconv.ParseUint(m.Header.Get(hdrDirectSeq), 10, 64)
			if err != nil {
				return fmt.Errorf("natsjs: direct get reply without a sequence")
			}
			if seq > end {
				return nil
			}
			if seq < next || (subject == "" && seq != next) {
				return &es.CorruptError{Path: "nats stream " + s.name, Offset: int64(next),
					Err: fmt.Errorf("sequence %d where %d was due: the log has a gap", seq, next)}
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := f(seq, m.Header.Get(hdrDirectSubject), m.Header, m.Data); err != nil {
				return err
			}
			next = seq + 1
		}
	}
	return nil
}

// getBatch fetches the messages from sequence next on, of subject (all if
// empty), that one direct get returns. An empty answer while next is at or
// below end means the replica that answered is behind: errLagging, which
// the caller retries.
func (s *Store) getBatch(ctx context.Context, subject string, next, end uint64) ([]*nats.Msg, error) {
	if s.closed.Load() {
		return nil, es.ErrClosed
	}
	req := map[string]any{"seq": next, "batch": min(end-next+1, readBatch), "max_bytes": readBatchBytes}
	if subject != "" {
		req["next_by_subj"] = subject
		req["batch"] = readBatch
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	inbox := s.nc.NewInbox()
	// A buffered channel takes the whole batch without blocking the
	// connection's reader; one idle timer serves every message.
	ch := make(chan *nats.Msg, readBatch+1)
	sub, err := s.nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil, fmt.Errorf("natsjs: %w", err)
	}
	defer sub.Unsubscribe()
	if err := s.nc.PublishRequest("$JS.API.DIRECT.GET."+s.name, inbox, body); err != nil {
		return nil, fmt.Errorf("natsjs: %w", err)
	}
	idle := time.NewTimer(s.opts.RequestTimeout)
	defer idle.Stop()
	msgs := make([]*nats.Msg, 0, 64)
	for {
		var m *nats.Msg
		select {
		case m = <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-idle.C:
			return nil, errRequestTimeout
		}
		idle.Reset(s.opts.RequestTimeout)
		if len(m.Data) == 0 && m.Header.Get(hdrStatus) != "" {
			switch m.Header.Get(hdrStatus) {
			case statusEndOfBatch:
				if len(msgs) == 0 {
					return nil, errLagging
				}
				return msgs, nil
			case statusNoMessages:
				return nil, errLagging
			case statusRequestTime:
				return nil, errRequestTimeout
			}
			if m.Header.Get(hdrStatus) == "503" {
				return nil, nats.ErrNoResponders
			}
			return nil, fmt.Errorf("natsjs: direct get answered %s %s", m.Header.Get(hdrStatus), m.Header.Get(hdrDescription))
		}
		msgs = append(msgs, m)
	}
}
