package natsjs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// Append implements es.EventStore.
//
// The events go to the stream's subject as one atomic batch (one plain
// message for a single event) whose first message carries the expectation
// that the subject's last message is the one the append saw: the server
// stores the whole batch only if no other append got in between. Versions
// are therefore decided by the append and checked by the server.
//
// An append that expects an exact version the Store has just written or
// read sends without reading first; any other reads the stream's tail from
// the leader. When the server refuses the expectation (error 10071), or
// reports another write to the subject in flight (error 10164, which says
// nothing about the outcome and may be spurious), or the reply is lost, the
// append reads the tail again and decides as the other adapters do: a
// retry of events already stored returns them ([es.ResolveConflict]), a
// stream at another version is a [*es.ConcurrencyError], and otherwise it
// sends again.
func (s *Store) Append(ctx context.Context, stream string, expected es.ExpectedVersion, events []es.Event) ([]es.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	recs, err := es.Prepare(stream, expected, events)
	if err != nil {
		return nil, err
	}
	if len(recs) > MaxAppendEvents {
		return nil, fmt.Errorf("%w: %d events, over the limit of %d for one append to a NATS store", es.ErrTooManyEvents, len(recs), MaxAppendEvents)
	}
	if s.closed.Load() {
		return nil, es.ErrClosed
	}
	subject := s.subjectOf(stream)
	want, exact := expected.Version()

	// The tail to expect, if it is known without a read.
	var t tail
	known := false
	if exact {
		if want == 0 {
			known = true
		} else if c, ok := s.cached(stream); ok && c.version == want {
			t, known = c, true
		}
	}

	r := retrier{backoff: time.Millisecond, timeout: s.opts.RetryTimeout}
	for attempt := 0; ; attempt++ {
		// What the Store knew of the stream before this read: a place to
		// start a scan of the window from.
		hint, _ := s.cached(stream)
		if !known {
			if t, err = s.lastOf(ctx, stream); err != nil {
				return nil, err
			}
		}
		known = false
		// A retry of an append already stored, a conflict, or (with no
		// exact version) a plain append?
		prior, dup, err := es.CheckAppend(stream, expected, t.version, recs, func(from, to int64) ([]es.Record, error) {
			return s.window(ctx, stream, hint, t, from, to)
		})
		if dup {
			if attempt > 0 {
				resolvedRetries.Add(1)
			}
			return prior, nil
		}
		if err != nil {
			return nil, err
		}
		out, err := s.publish(ctx, subject, t, recs)
		if err == nil {
			s.published(stream, out)
			return out, nil
		}
		if err := r.wait(ctx, err, func() error { return s.checkDuplicate(ctx, stream, expected, recs) }); err != nil {
			return nil, err
		}
	}
}

// published records a successful append: the stream's new tail, and a
// wake-up for the subscribers of this Store and of other Stores and
// processes (losing the nudge costs them a poll interval, nothing more).
func (s *Store) published(stream string, out []es.Record) {
	last := out[len(out)-1]
	s.remember(stream, tail{version: last.Version, seq: uint64(last.Position)})
	s.wake.Notify()
	_ = s.nc.Publish(s.wakeSub, nil)
}

// retrier decides, after a failed publish, whether an append reads the
// tail again and how long it waits first.
type retrier struct {
	deadline time.Time
	backoff  time.Duration
	timeout  time.Duration
}

// wait returns nil when the append should read the tail again, after
// waiting if the outcome of a write is not known yet, or the error that
// ends the append. checkDuplicate says whether an event ID the server saw
// recently is in use elsewhere.
func (r *retrier) wait(ctx context.Context, err error, checkDuplicate func() error) error {
	switch code := codeOf(err); {
	case code == errWrongLastSeq:
		wrongLastSeq.Add(1)
		// Another append got in first, or what we knew was stale: read
		// the tail again.
		return nil
	case code == errWrongLastSeqBusy || code == errDuplicateInBatch || errors.Is(err, errDuplicate) || transient(err):
		// The outcome of a write in flight, or of our own whose reply was
		// lost, is not known yet: wait a little, then read.
		if code == errWrongLastSeqBusy {
			subjectBusy.Add(1)
		}
		now := time.Now()
		if r.deadline.IsZero() {
			r.deadline = now.Add(r.timeout)
		} else if now.After(r.deadline) {
			return err
		}
		if errors.Is(err, errDuplicate) || code == errDuplicateInBatch {
			// If the read that follows does not find the append stored,
			// the ID is in use elsewhere.
			if dupErr := checkDuplicate(); dupErr != nil {
				return dupErr
			}
		}
		timer := time.NewTimer(r.backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		r.backoff = min(r.backoff*2, 100*time.Millisecond)
		return nil
	}
	return err
}

// resolvedRetries counts appends that sent their events, did not learn the
// outcome (a lost reply, a leader gone), and found them stored on reading
// the stream again. Tests read it.
var resolvedRetries atomic.Int64

// wrongLastSeq and subjectBusy count the server's answers 10071 and 10164
// to appends. Tests read them.
var wrongLastSeq, subjectBusy atomic.Int64

// errDuplicate means the server took a message as a duplicate of one it
// stored recently under the same event ID, and stored nothing.
var errDuplicate = errors.New("natsjs: duplicate event ID")

// checkDuplicate is called when the server refused an event ID it has seen
// in its duplicate window. If the stream does not hold recs where a retry
// would find them, the IDs are in use elsewhere: [es.ErrPartialDuplicate].
func (s *Store) checkDuplicate(ctx context.Context, stream string, expected es.ExpectedVersion, recs []es.Record) error {
	hint, _ := s.cached(stream)
	t, err := s.lastOf(ctx, stream)
	if err != nil {
		return err
	}
	if from, to, ok := es.ConflictWindow(expected, t.version, len(recs)); ok {
		prior, err := s.window(ctx, stream, hint, t, from, to)
		if err != nil {
			return err
		}
		if dup, _ := es.ResolveConflict(prior, recs); dup {
			return nil // the loop's next read returns them
		}
	}
	return fmt.Errorf("append to %q: %w: an event ID is already stored in this store", stream, es.ErrPartialDuplicate)
}

// pubAck is the server's answer to a publish or a batch commit.
type pubAck struct {
	Error     *apiError `json:"error"`
	Stream    string    `json:"stream"`
	Seq       uint64    `json:"seq"`
	Duplicate bool      `json:"duplicate"`
	Batch     string    `json:"batch"`
	Count     int       `json:"count"`
}

// publish stores recs after the stream's tail t, in one message or one
// atomic batch, and returns them with versions and positions.
func (s *Store) publish(ctx context.Context, subject string, t tail, recs []es.Record) ([]es.Record, error) {
	out := make([]es.Record, len(recs))
	msgs := make([]*nats.Msg, len(recs))
	for i, r := range recs {
		r.Version = t.version + int64(i) + 1
		m, err := s.encode(subject, r)
		if err != nil {
			return nil, err
		}
		if max := s.nc.MaxPayload(); int64(len(m.Data)+headerSize(m.Header)) > max {
			return nil, fmt.Errorf("%w: event %d is %d bytes as a message, over the server's max_payload of %d", es.ErrEventTooLarge, i, len(m.Data), max)
		}
		// The record returned shares the message body, not the caller's
		// buffers: records are immutable once stored.
		r.Data = m.Data[len(m.Data)-len(r.Data):]
		out[i], msgs[i] = r, m
	}
	msgs[0].Header[hdrExpectSubjSeq] = []string{strconv.FormatUint(t.seq, 10)}
	var commit *nats.Msg
	if len(msgs) == 1 {
		commit = msgs[0]
	} else {
		id := nuid.Next()
		for i, m := range msgs {
			m.Header[hdrBatchID] = []string{id}
			m.Header[hdrBatchSeq] = []string{strconv.Itoa(i + 1)}
		}
		commit = msgs[len(msgs)-1]
		commit.Header[hdrBatchCommit] = []string{"1"}
		// Messages before the commit need no reply: the server answers
		// the commit with the outcome of the whole batch, and a message
		// lost on the way fails it as incomplete.
		for _, m := range msgs[:len(msgs)-1] {
			if err := s.nc.PublishMsg(m); err != nil {
				return nil, fmt.Errorf("natsjs: publish: %w", err)
			}
		}
	}
	resp, err := s.request(ctx, commit)
	if err != nil {
		return nil, err
	}
	var ack pubAck
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		if len(resp.Data) == 0 && resp.Header.Get(hdrStatus) == "503" {
			return nil, nats.ErrNoResponders
		}
		return nil, fmt.Errorf("natsjs: publish reply: %w", err)
	}
	if ack.Error != nil {
		return nil, ack.Error
	}
	if ack.Duplicate {
		return nil, errDuplicate
	}
	if ack.Stream != s.name || ack.Seq < uint64(len(recs)) || (len(recs) > 1 && ack.Count != len(recs)) {
		return nil, fmt.Errorf("natsjs: unexpected publish reply %s", resp.Data)
	}
	// A batch is stored at consecutive sequences ending at the ack's.
	first := int64(ack.Seq) - int64(len(recs)) + 1
	for i := range out {
		out[i].Position = first + int64(i)
	}
	return out, nil
}

func headerSize(h nats.Header) int {
	n := 12
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n + 64 // headers the server adds to a stored message's reply
}
