package natsjs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jerry-es/jerry/es"
	"github.com/nats-io/nats.go"
)

// Headers of an event message. The version travels in a header because
// JetStream's per-subject expectation compares stream sequences, not counts:
// an append must learn the stream's version from its last message.
const (
	hdrVersion = "Jerry-Version"
	hdrID      = "Jerry-Id"
)

// Headers of the JetStream protocol that the adapter sets itself.
const (
	hdrMsgID          = "Nats-Msg-Id"
	hdrExpectSubjSeq  = "Nats-Expected-Last-Subject-Sequence"
	hdrBatchID        = "Nats-Batch-Id"
	hdrBatchSeq       = "Nats-Batch-Sequence"
	hdrBatchCommit    = "Nats-Batch-Commit"
	hdrDirectSeq      = "Nats-Sequence"
	hdrDirectSubject  = "Nats-Subject"
	hdrStatus         = "Status"
	hdrDescription    = "Description"
	statusNoMessages  = "404"
	statusEndOfBatch  = "204"
	statusRequestTime = "408"
)

// head is the first line of an event message's body: everything about the
// event but its ID, version and data. It is JSON, which escapes every control
// character, so the line holds no newline and the data follows the first one.
type head struct {
	Type     string       `json:"type"`
	Schema   int          `json:"schema"`
	Time     string       `json:"time"`
	Metadata *es.Metadata `json:"meta,omitempty"`
}

// timeLayout writes times with exactly six fractional digits: records are
// truncated to microseconds, and a fixed width keeps the bodies uniform.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// subjectOf returns the subject of stream: the store's prefix and the stream
// ID in unpadded URL-safe base64, whose alphabet holds none of the
// characters that subjects reserve (dot, star, greater-than, space). The
// encoding is injective, so every stream ID has its own subject.
func (s *Store) subjectOf(stream string) string {
	return s.prefix + base64.RawURLEncoding.EncodeToString([]byte(stream))
}

// streamOf reverses subjectOf.
func (s *Store) streamOf(subject string) (string, bool) {
	if len(subject) <= len(s.prefix) || subject[:len(s.prefix)] != s.prefix {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(subject[len(s.prefix):])
	if err != nil {
		return "", false
	}
	return string(b), true
}

// encode builds the message that stores r, whose Version is set.
func (s *Store) encode(subject string, r es.Record) (*nats.Msg, error) {
	h := head{Type: r.Type, Schema: r.Schema, Time: r.Time.Format(timeLayout)}
	if !r.Metadata.IsZero() {
		h.Metadata = &r.Metadata
	}
	line, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("natsjs: encode event %s: %w", r.ID, err)
	}
	body := make([]byte, 0, len(line)+1+len(r.Data))
	body = append(body, line...)
	body = append(body, '\n')
	body = append(body, r.Data...)
	id := r.ID.String()
	m := &nats.Msg{Subject: subject, Data: body, Header: nats.Header{}}
	m.Header[hdrID] = []string{id}
	m.Header[hdrVersion] = []string{strconv.FormatInt(r.Version, 10)}
	// Within the server's duplicate window, the same event ID cannot be
	// stored twice, whatever stream it is sent to.
	m.Header[hdrMsgID] = []string{id}
	return m, nil
}

// decode turns a stored message back into a record.
func (s *Store) decode(subject string, seq uint64, hdr nats.Header, body []byte) (es.Record, error) {
	bad := func(format string, args ...any) (es.Record, error) {
		return es.Record{}, &es.CorruptError{
			Path:   "nats stream " + s.name + " subject " + subject,
			Offset: int64(seq),
			Err:    fmt.Errorf(format, args...),
		}
	}
	stream, ok := s.streamOf(subject)
	if !ok {
		return bad("subject is not an event stream's")
	}
	version, err := strconv.ParseInt(hdr.Get(hdrVersion), 10, 64)
	if err != nil || version < 1 {
		return bad("missing or bad %s header %q", hdrVersion, hdr.Get(hdrVersion))
	}
	id, err := uuid.Parse(hdr.Get(hdrID))
	if err != nil {
		return bad("missing or bad %s header %q", hdrID, hdr.Get(hdrID))
	}
	nl := bytes.IndexByte(body, '\n')
	if nl < 0 {
		return bad("body has no head line")
	}
	var h head
	if err := json.Unmarshal(body[:nl], &h); err != nil {
		return bad("head line: %v", err)
	}
	t, err := time.Parse(timeLayout, h.Time)
	if err != nil {
		return bad("time %q: %v", h.Time, err)
	}
	r := es.Record{
		Stream:   stream,
		Version:  version,
		Position: int64(seq),
		Type:     h.Type,
		Schema:   h.Schema,
		Data:     json.RawMessage(body[nl+1:]),
		Time:     t.UTC(),
		ID:       id,
	}
	if h.Metadata != nil {
		r.Metadata = *h.Metadata
	}
	return r, nil
}

// apiError is an error the JetStream API answered with.
type apiError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("natsjs: jetstream error %d (%d): %s", e.ErrCode, e.Code, e.Description)
}

// JetStream API error codes the adapter acts on.
const (
	errNoMessage        = 10037
	errWrongLastSeq     = 10071 // the subject's last sequence is another: a conflict, or a stale read
	errWrongLastSeqBusy = 10164 // another write to the subject is in flight: outcome unknown
	errExpectUnavail    = 10163
	errNotLeader        = 10009
	errIncompleteBatch  = 10176
	errBatchInflight    = 10210
	errDuplicateInBatch = 10201
)

func codeOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.ErrCode
	}
	return 0
}

// transient reports whether err may go away on its own: no leader yet, a
// request that timed out (its reply lost), a server that went away.
func transient(err error) bool {
	var ae *apiError
	if errors.As(err, &ae) {
		switch ae.ErrCode {
		case errNotLeader, errIncompleteBatch, errBatchInflight, errExpectUnavail:
			return true
		}
		return ae.Code == 503 || ae.Code == 408
	}
	return errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, errRequestTimeout) ||
		errors.Is(err, nats.ErrSlowConsumer) || errors.Is(err, errLagging)
}

var (
	errRequestTimeout = errors.New("natsjs: request timed out")
	errLagging        = errors.New("natsjs: replica behind the leader")
)
