package natsjs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var (
	_ es.EventStore      = (*Store)(nil)
	_ es.LogReader       = (*Store)(nil)
	_ es.Subscriber      = (*Store)(nil)
	_ es.SnapshotStore   = (*Store)(nil)
	_ es.CheckpointStore = (*Store)(nil)
)

// MinServerVersion is the oldest nats-server the adapter uses: the first with
// atomic batch publish and the per-subject expectation on a batch.
const MinServerVersion = "2.12.0"

// MaxAppendEvents is the most events one Append takes: JetStream's limit on
// the messages of one atomic batch. It is below [es.MaxAppendEvents]; a
// longer append is refused with [es.ErrTooManyEvents].
const MaxAppendEvents = 1000

var (
	// ErrUnsupportedServer means the server cannot keep the adapter's
	// guarantees: it is older than [MinServerVersion], or it did not enable
	// atomic batch publish on the stream (an older server ignores the
	// option and would store batches message by message).
	ErrUnsupportedServer = errors.New("natsjs: server does not support atomic batch publish (need nats-server " + MinServerVersion + " or later)")

	// ErrStreamConfig means an existing stream is configured in a way that
	// breaks the store's guarantees: limits or deletes that would leave gaps
	// in the global log, or other subjects.
	ErrStreamConfig = errors.New("natsjs: stream configuration unsafe for an event store")
)

// Options configure a [Store].
type Options struct {
	// Stream names the JetStream stream (and prefixes its subjects and key
	// value buckets): letters, digits, '-' and '_'. Empty means "JERRY".
	Stream string

	// Replicas is the stream's replica count for a new stream (1, 3 or 5).
	// Zero means 1 for a new stream and the existing count for an
	// existing one; a non-zero count changes an existing stream's.
	Replicas int

	// RetryTimeout bounds how long one call keeps retrying while the
	// cluster has no leader or a reply is lost; 0 means 30 seconds.
	RetryTimeout time.Duration

	// RequestTimeout bounds one request to the server; 0 means 2 seconds.
	RequestTimeout time.Duration
}

// Store is an event store, snapshot store and checkpoint store on one
// JetStream stream and two key-value buckets. Create one with [Open] or
// [New]; it is safe for concurrent use.
type Store struct {
	nc      *nats.Conn
	ownConn bool
	js      jetstream.JetStream
	name    string
	prefix  string // subjects of event streams: prefix + base64url(stream ID)
	wakeSub string // core subject appends nudge subscribers on
	opts    Options

	snaps jetstream.KeyValue
	cps   jetstream.KeyValue

	wake   es.Signal
	sub    *nats.Subscription
	closed atomic.Bool

	mu    sync.Mutex
	tails map[string]tail // last known (version, sequence) per stream
}

// tail is what an append needs to know of a stream: its version and the
// stream sequence of its last message; and, when just read from the
// leader, that message as a record.
type tail struct {
	version int64
	seq     uint64
	last    *es.Record
}

// maxTails bounds the cache of stream tails.
const maxTails = 4096

// validStreamName reports whether name is 1 to 32 ASCII letters, digits,
// '-' or '_'. A loop, not a regular expression: a package-level regexp of
// this shape is compiled by every jerry command at start (443 allocations,
// about 0.1 ms), whichever store it uses.
func validStreamName(name string) bool {
	if len(name) < 1 || len(name) > 32 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Open connects to the server a URL names and opens the store:
//
//	nats://HOST:PORT[,HOST:PORT...][?stream=NAME&replicas=N]
//
// User and password in the URL are passed to the server. The store owns the
// connection and closes it in Close.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "nats" || u.Host == "" {
		return nil, fmt.Errorf("natsjs: invalid store URL %q: want nats://HOST:PORT[?stream=NAME&replicas=N]", rawURL)
	}
	q := u.Query()
	opts := Options{Stream: q.Get("stream")}
	if r := q.Get("replicas"); r != "" {
		if opts.Replicas, err = strconv.Atoi(r); err != nil || opts.Replicas < 1 {
			return nil, fmt.Errorf("natsjs: invalid replicas %q in store URL", r)
		}
	}
	var servers []string
	for h := range strings.SplitSeq(u.Host, ",") {
		s := url.URL{Scheme: "nats", Host: h, User: u.User}
		servers = append(servers, s.String())
	}
	nc, err := nats.Connect(strings.Join(servers, ","), nats.MaxReconnects(-1), nats.Name("jerry"))
	if err != nil {
		return nil, fmt.Errorf("natsjs: connect: %w", err)
	}
	s, err := New(ctx, nc, opts)
	if err != nil {
		nc.Close()
		return nil, err
	}
	s.ownConn = true
	return s, nil
}

// New opens the store over an existing connection, creating its stream and
// buckets if they do not exist. It refuses a server older than
// [MinServerVersion] with [ErrUnsupportedServer], and an existing stream
// whose configuration would break the store's guarantees with
// [ErrStreamConfig]. Close does not close nc.
func New(ctx context.Context, nc *nats.Conn, opts Options) (*Store, error) {
	if opts.Stream == "" {
		opts.Stream = "JERRY"
	}
	if !validStreamName(opts.Stream) {
		return nil, fmt.Errorf("natsjs: invalid stream name %q: want 1 to 32 letters, digits, '-' or '_'", opts.Stream)
	}
	if opts.RetryTimeout <= 0 {
		opts.RetryTimeout = 30 * time.Second
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 2 * time.Second
	}
	if v := nc.ConnectedServerVersion(); !versionAtLeast(v, MinServerVersion) {
		return nil, fmt.Errorf("%w: connected server is %s", ErrUnsupportedServer, v)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("natsjs: %w", err)
	}
	s := &Store{
		nc:      nc,
		js:      js,
		name:    opts.Stream,
		prefix:  opts.Stream + ".e.",
		wakeSub: opts.Stream + ".wake",
		opts:    opts,
		tails:   make(map[string]tail),
	}
	if err := s.setUp(ctx); err != nil {
		return nil, err
	}
	// Appends from any process publish a nudge after their ack, so that
	// subscribers wake without polling; the poll in Subscribe only covers
	// nudges lost on the way.
	s.sub, err = nc.Subscribe(s.wakeSub, func(*nats.Msg) { s.wake.Notify() })
	if err != nil {
		return nil, fmt.Errorf("natsjs: subscribe: %w", err)
	}
	return s, nil
}

// streamConfig is the configuration of a new stream.
func (s *Store) streamConfig(replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:              s.name,
		Description:       "Jerry event store",
		Subjects:          []string{s.prefix + "*"},
		Retention:         jetstream.LimitsPolicy,
		MaxConsumers:      -1,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		MaxMsgsPerSubject: -1,
		MaxMsgSize:        -1,
		Discard:           jetstream.DiscardOld,
		Storage:           jetstream.FileStorage,
		Replicas:          replicas,
		// Nothing may be removed: the stream sequence is the global log's
		// position, gap-free only while every message stays.
		DenyDelete:         true,
		DenyPurge:          true,
		AllowDirect:        true,
		AllowAtomicPublish: true,
	}
}

// setUp creates or checks the stream and the buckets.
func (s *Store) setUp(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.RetryTimeout)
	defer cancel()
	var cfg jetstream.StreamConfig
	stream, err := s.js.Stream(ctx, s.name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		stream, err = s.js.CreateStream(ctx, s.streamConfig(max(s.opts.Replicas, 1)))
		if err != nil {
			return fmt.Errorf("natsjs: create stream %s: %w", s.name, err)
		}
		cfg = stream.CachedInfo().Config
	case err != nil:
		return fmt.Errorf("natsjs: stream %s: %w", s.name, err)
	default:
		cfg = stream.CachedInfo().Config
		want := cfg
		want.AllowAtomicPublish, want.AllowDirect = true, true
		if s.opts.Replicas > 0 {
			want.Replicas = s.opts.Replicas
		}
		if want.AllowAtomicPublish != cfg.AllowAtomicPublish || want.AllowDirect != cfg.AllowDirect || want.Replicas != cfg.Replicas {
			stream, err = s.js.UpdateStream(ctx, want)
			if err != nil {
				return fmt.Errorf("natsjs: update stream %s: %w", s.name, err)
			}
			cfg = stream.CachedInfo().Config
		}
	}
	if err := s.checkConfig(cfg); err != nil {
		return err
	}
	replicas := cfg.Replicas
	if s.snaps, err = s.bucket(ctx, s.name+"_snapshots", replicas); err != nil {
		return err
	}
	if s.cps, err = s.bucket(ctx, s.name+"_checkpoints", replicas); err != nil {
		return err
	}
	return nil
}

// checkConfig refuses a stream the store cannot keep its promises on.
func (s *Store) checkConfig(cfg jetstream.StreamConfig) error {
	if !cfg.AllowAtomicPublish {
		// An older server drops the option it does not know, and the
		// stream comes back without it.
		return fmt.Errorf("%w: stream %s came back without atomic publish enabled", ErrUnsupportedServer, cfg.Name)
	}
	var bad []string
	if !cfg.DenyDelete || !cfg.DenyPurge {
		bad = append(bad, "deletes or purges allowed")
	}
	if cfg.MaxMsgs > 0 || cfg.MaxBytes > 0 || cfg.MaxAge > 0 || cfg.MaxMsgsPerSubject > 0 || cfg.Retention != jetstream.LimitsPolicy {
		bad = append(bad, "limits or a retention policy that remove messages")
	}
	if len(cfg.Subjects) != 1 || cfg.Subjects[0] != s.prefix+"*" {
		bad = append(bad, fmt.Sprintf("subjects %q, want [%q]", cfg.Subjects, s.prefix+"*"))
	}
	if cfg.Sealed || cfg.Mirror != nil || len(cfg.Sources) > 0 || cfg.SubjectTransform != nil {
		bad = append(bad, "sealed, mirrored, sourced or transformed")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: stream %s: %s", ErrStreamConfig, cfg.Name, strings.Join(bad, "; "))
	}
	return nil
}

func (s *Store) bucket(ctx context.Context, name string, replicas int) (jetstream.KeyValue, error) {
	kv, err := s.js.KeyValue(ctx, name)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = s.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:   name,
			History:  1,
			Storage:  jetstream.FileStorage,
			Replicas: replicas,
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = s.js.KeyValue(ctx, name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("natsjs: bucket %s: %w", name, err)
	}
	return kv, nil
}

// versionAtLeast reports whether server version v is min or later.
func versionAtLeast(v, min string) bool {
	parse := func(s string) (out [3]int, ok bool) {
		s, _, _ = strings.Cut(s, "-")
		parts := strings.Split(s, ".")
		if len(parts) != 3 {
			return out, false
		}
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil {
				return out, false
			}
			out[i] = n
		}
		return out, true
	}
	a, ok1 := parse(v)
	b, ok2 := parse(min)
	if !ok1 || !ok2 {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}

// Close releases the store; with [Open] it closes the connection too.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.sub != nil {
		_ = s.sub.Unsubscribe()
	}
	s.wake.Notify()
	if s.ownConn {
		s.nc.Close()
	}
	return nil
}

// Conn returns the store's connection.
func (s *Store) Conn() *nats.Conn { return s.nc }

// StreamName returns the name of the JetStream stream that holds the events.
func (s *Store) StreamName() string { return s.name }

// request sends one request and waits up to RequestTimeout for its reply.
func (s *Store) request(ctx context.Context, m *nats.Msg) (*nats.Msg, error) {
	if s.closed.Load() {
		return nil, es.ErrClosed
	}
	rctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	resp, err := s.nc.RequestMsgWithContext(rctx, m)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, errRequestTimeout
		}
		if errors.Is(err, nats.ErrConnectionClosed) && s.closed.Load() {
			return nil, es.ErrClosed
		}
		return nil, fmt.Errorf("natsjs: %w", err)
	}
	return resp, nil
}

// retry runs f until it succeeds, fails with an error that is not
// transient, ctx ends, or RetryTimeout has passed since the first failure.
func (s *Store) retry(ctx context.Context, f func() error) error {
	var deadline time.Time
	backoff := time.Millisecond
	for {
		err := f()
		if err == nil || !transient(err) {
			return err
		}
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(s.opts.RetryTimeout)
		} else if now.After(deadline) {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(backoff*2, 250*time.Millisecond)
	}
}

// storedMsg is a message as the stream leader's message-get API returns it.
type storedMsg struct {
	Subject string    `json:"subject"`
	Seq     uint64    `json:"seq"`
	Header  []byte    `json:"hdrs"`
	Data    []byte    `json:"data"`
	Time    time.Time `json:"time"`
}

// msgGet asks the stream leader (never a follower, which may be behind) for
// one message. It returns nil and no error if there is none.
func (s *Store) msgGet(ctx context.Context, stream string, req any) (*storedMsg, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	resp, err := s.request(ctx, &nats.Msg{Subject: "$JS.API.STREAM.MSG.GET." + stream, Data: body})
	if err != nil {
		return nil, err
	}
	var r struct {
		Error   *apiError  `json:"error"`
		Message *storedMsg `json:"message"`
	}
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		return nil, fmt.Errorf("natsjs: message get reply: %w", err)
	}
	if r.Error != nil {
		if r.Error.ErrCode == errNoMessage {
			return nil, nil
		}
		return nil, r.Error
	}
	if r.Message == nil {
		return nil, fmt.Errorf("natsjs: message get reply without a message")
	}
	return r.Message, nil
}

// lastOf reads the tail of stream from the leader.
func (s *Store) lastOf(ctx context.Context, stream string) (tail, error) {
	subject := s.subjectOf(stream)
	var t tail
	err := s.retry(ctx, func() error {
		m, err := s.msgGet(ctx, s.name, map[string]any{"last_by_subj": subject})
		if err != nil || m == nil {
			t = tail{}
			return err
		}
		hdr, err := decodeHeader(m.Header)
		if err != nil {
			return &es.CorruptError{Path: "nats stream " + s.name + " subject " + subject, Offset: int64(m.Seq), Err: err}
		}
		r, err := s.decode(m.Subject, m.Seq, hdr, m.Data)
		if err != nil {
			return err
		}
		t = tail{version: r.Version, seq: m.Seq, last: &r}
		return nil
	})
	if err == nil {
		s.remember(stream, tail{version: t.version, seq: t.seq})
	}
	return t, err
}

func decodeHeader(b []byte) (nats.Header, error) {
	if len(b) == 0 {
		return nats.Header{}, nil
	}
	return nats.DecodeHeadersMsg(b)
}

// remember caches the tail of stream, keeping the later of two.
func (s *Store) remember(stream string, t tail) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.tails[stream]; ok && old.seq > t.seq {
		return
	}
	if len(s.tails) >= maxTails {
		clear(s.tails)
	}
	s.tails[stream] = t
}

func (s *Store) cached(stream string) (tail, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tails[stream]
	return t, ok
}

// lastSeq returns the sequence of the stream's last event, as its leader
// reports it. It asks for the last message rather than the stream's state,
// because the message-get API is isolated from a batch being committed and
// the state is not: the state can name a sequence in the middle of a batch,
// and a read that stopped there would see part of an atomic append.
func (s *Store) lastSeq(ctx context.Context) (uint64, error) {
	var last uint64
	err := s.retry(ctx, func() error {
		m, err := s.msgGet(ctx, s.name, map[string]any{"last_by_subj": s.prefix + "*", "no_hdr": true})
		if err != nil {
			return err
		}
		last = 0
		if m != nil {
			last = m.Seq
		}
		return nil
	})
	return last, err
}
