package natsjs_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/natsjs"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// The benchmarks compare the store with raw JetStream publishes of the same
// bytes (the same head line, data and headers, less the store's
// expectation header) to a stream of the same configuration on the same
// server, in the same run. Each benchmark runs rounds of store then raw
// (-natsjs.rounds, default 3), so that both see the same machine weather,
// and logs the ratio store/raw of each round and their median:
//
//	go test -run '^$' -bench Append -benchtime 200x -natsjs.rounds 5 ./es/natsjs/
//
// R1 runs on an embedded single server, R3 on three embedded servers
// clustered on loopback ports in the same process.

var benchData = json.RawMessage(`{"title":"Fix the login page","priority":2,"labels":["ui","auth"],"estimate":3}`)

func benchEvent() es.Event {
	return es.Event{Type: "WorkItemCreated", Data: benchData, Metadata: es.Metadata{Actor: "agent-7"}}
}

type benchEnv struct {
	st  *natsjs.Store
	nc  *nats.Conn
	raw string // the raw stream's name; its subjects are raw + ".*"
}

var benchEnvs = map[string]*benchEnv{}

// env returns the store and the raw stream for R1 or R3, made once per
// binary and warmed up alike.
func env(b *testing.B, replicas int) *benchEnv {
	key := fmt.Sprint(replicas)
	if e := benchEnvs[key]; e != nil {
		return e
	}
	c := singleServer(b)
	if replicas == 3 {
		c = tripleCluster(b)
	}
	nc, err := nats.Connect(c.urls)
	if err != nil {
		b.Fatal(err)
	}
	name := newStream()
	st, err := natsjs.New(context.Background(), nc, natsjs.Options{Stream: name, Replicas: replicas})
	if err != nil {
		b.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	raw := "RAW" + name
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{
		Name: raw, Subjects: []string{raw + ".*"}, Storage: jetstream.FileStorage, Replicas: replicas,
		MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1, MaxMsgSize: -1,
		DenyDelete: true, DenyPurge: true, AllowDirect: true, AllowAtomicPublish: true,
	}); err != nil {
		b.Fatal(err)
	}
	if replicas > 1 {
		// Both streams led by the server the client is connected to, so
		// that neither pays a route hop the other does not.
		for _, s := range []string{name, raw} {
			if err := preferLeader(nc, js, s, nc.ConnectedServerName()); err != nil {
				b.Fatal(err)
			}
		}
	}
	e := &benchEnv{st: st, nc: nc, raw: raw}
	for i := range 200 {
		if _, err := st.Append(context.Background(), "warm-up", es.Exact(int64(i)), []es.Event{benchEvent()}); err != nil {
			b.Fatal(err)
		}
		if err := e.rawPublish([]*nats.Msg{e.rawMsg("warm-up", int64(i+1))}); err != nil {
			b.Fatal(err)
		}
	}
	benchEnvs[key] = e
	return e
}

// preferLeader moves the leadership of stream to server.
func preferLeader(nc *nats.Conn, js jetstream.JetStream, stream, server string) error {
	for range 20 {
		info, err := js.Stream(context.Background(), stream)
		if err == nil && info.CachedInfo().Cluster != nil && info.CachedInfo().Cluster.Leader == server {
			return nil
		}
		req := fmt.Sprintf(`{"placement":{"preferred":%q}}`, server)
		_, _ = nc.Request("$JS.API.STREAM.LEADER.STEPDOWN."+stream, []byte(req), 5*time.Second)
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("stream %s: leader not moved to %s", stream, server)
}

// rawMsg builds the message the store would send for benchEvent at version,
// without the expectation header.
func (e *benchEnv) rawMsg(subject string, version int64) *nats.Msg {
	ev := benchEvent()
	id := es.NewEventID().String()
	head, _ := json.Marshal(map[string]any{"type": ev.Type, "schema": 1, "time": es.Now().Format("2006-01-02T15:04:05.000000Z07:00"), "meta": ev.Metadata})
	body := append(append(head, '\n'), ev.Data...)
	m := &nats.Msg{Subject: e.raw + "." + subject, Data: body, Header: nats.Header{}}
	m.Header["Jerry-Id"] = []string{id}
	m.Header["Jerry-Version"] = []string{strconv.FormatInt(version, 10)}
	m.Header["Nats-Msg-Id"] = []string{id}
	return m
}

// rawPublish sends msgs as one synchronous publish (one message) or one
// atomic batch, the least the protocol allows: every message but the
// commit without a reply, and the commit's ack awaited.
func (e *benchEnv) rawPublish(msgs []*nats.Msg) error {
	commit := msgs[0]
	if len(msgs) > 1 {
		id := nuid.Next()
		for i, m := range msgs {
			m.Header["Nats-Batch-Id"] = []string{id}
			m.Header["Nats-Batch-Sequence"] = []string{strconv.Itoa(i + 1)}
		}
		commit = msgs[len(msgs)-1]
		commit.Header["Nats-Batch-Commit"] = []string{"1"}
		for _, m := range msgs[:len(msgs)-1] {
			if err := e.nc.PublishMsg(m); err != nil {
				return err
			}
		}
	}
	resp, err := e.nc.RequestMsgWithContext(context.Background(), commit)
	if err != nil {
		return err
	}
	var ack struct {
		Error *struct{ Description string } `json:"error"`
		Seq   uint64                        `json:"seq"`
	}
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return err
	}
	if ack.Error != nil || ack.Seq == 0 {
		return fmt.Errorf("raw publish: %s", resp.Data)
	}
	return nil
}

var rounds = flag.Int("natsjs.rounds", 3, "rounds of store and raw in each comparing benchmark")

func reportRate(b *testing.B, events int) float64 {
	r := float64(events) / b.Elapsed().Seconds()
	b.ReportMetric(r, "events/s")
	return r
}

// interleave runs rounds of store then raw, each a sub-benchmark that
// returns its rate, and logs the ratio of each round and their median.
func interleave(b *testing.B, store, raw func(b *testing.B) float64) {
	var ratios []float64
	for i := range *rounds {
		var s, r float64
		b.Run(fmt.Sprintf("round%d/store", i+1), func(b *testing.B) { s = store(b) })
		b.Run(fmt.Sprintf("round%d/raw", i+1), func(b *testing.B) { r = raw(b) })
		if s > 0 && r > 0 {
			ratios = append(ratios, s/r)
		}
	}
	if len(ratios) == 0 {
		return
	}
	sorted := slices.Clone(ratios)
	slices.Sort(sorted)
	b.Logf("store/raw per round %.2f, median %.2f", ratios, sorted[len(sorted)/2])
}

var replicaCounts = []int{1, 3}

// BenchmarkAppend1 appends one event per call to one stream; the baseline
// is one synchronous publish.
func BenchmarkAppend1(b *testing.B) {
	for _, r := range replicaCounts {
		b.Run(fmt.Sprintf("R%d", r), func(b *testing.B) {
			e := env(b, r)
			interleave(b, func(b *testing.B) float64 {
				stream := nuid.Next()
				for i := 0; b.Loop(); i++ {
					if _, err := e.st.Append(context.Background(), stream, es.Exact(int64(i)), []es.Event{benchEvent()}); err != nil {
						b.Fatal(err)
					}
				}
				return reportRate(b, b.N)
			}, func(b *testing.B) float64 {
				stream := nuid.Next()
				for i := 0; b.Loop(); i++ {
					if err := e.rawPublish([]*nats.Msg{e.rawMsg(stream, int64(i+1))}); err != nil {
						b.Fatal(err)
					}
				}
				return reportRate(b, b.N)
			})
		})
	}
}

// BenchmarkAppend100 appends 100 events per call to one stream; the
// baseline is one atomic batch of 100 messages.
func BenchmarkAppend100(b *testing.B) {
	for _, r := range replicaCounts {
		b.Run(fmt.Sprintf("R%d", r), func(b *testing.B) {
			e := env(b, r)
			evs := make([]es.Event, 100)
			for i := range evs {
				evs[i] = benchEvent()
			}
			interleave(b, func(b *testing.B) float64 {
				stream := nuid.Next()
				for i := 0; b.Loop(); i++ {
					if _, err := e.st.Append(context.Background(), stream, es.Exact(int64(i*100)), evs); err != nil {
						b.Fatal(err)
					}
				}
				return reportRate(b, b.N*100)
			}, func(b *testing.B) float64 {
				stream := nuid.Next()
				msgs := make([]*nats.Msg, 100)
				for i := 0; b.Loop(); i++ {
					for k := range msgs {
						msgs[k] = e.rawMsg(stream, int64(i*100+k+1))
					}
					if err := e.rawPublish(msgs); err != nil {
						b.Fatal(err)
					}
				}
				return reportRate(b, b.N*100)
			})
		})
	}
}

const readEvents = 100_000

var readStreams = map[int]string{}

// filled returns a stream of e's store holding readEvents events, made once.
func filled(b *testing.B, r int, e *benchEnv) string {
	if s, ok := readStreams[r]; ok {
		return s
	}
	stream := "read-" + nuid.Next()
	evs := make([]es.Event, natsjs.MaxAppendEvents)
	for i := range evs {
		evs[i] = benchEvent()
	}
	for i := 0; i < readEvents; i += len(evs) {
		for k := range evs {
			evs[k].ID = es.NewEventID()
		}
		if _, err := e.st.Append(context.Background(), stream, es.Exact(int64(i)), evs); err != nil {
			b.Fatal(err)
		}
	}
	readStreams[r] = stream
	return stream
}

// BenchmarkReadStream reads a 100,000-event stream whole; BenchmarkReadLog
// reads the global log from position 1 (the stream's events and the few
// hundred of the warm-up and other benchmarks in the same binary).
func BenchmarkReadStream(b *testing.B) {
	for _, r := range replicaCounts {
		b.Run(fmt.Sprintf("R%d", r), func(b *testing.B) {
			e := env(b, r)
			stream := filled(b, r, e)
			n := 0
			for b.Loop() {
				n = 0
				for _, err := range e.st.ReadStream(context.Background(), stream, 1, 0) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			if n != readEvents {
				b.Fatalf("read %d events, want %d", n, readEvents)
			}
			reportRate(b, b.N*n)
		})
	}
}

func BenchmarkReadLog(b *testing.B) {
	for _, r := range replicaCounts {
		b.Run(fmt.Sprintf("R%d", r), func(b *testing.B) {
			e := env(b, r)
			filled(b, r, e)
			n := 0
			for b.Loop() {
				n = 0
				for _, err := range e.st.ReadLog(context.Background(), 1) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			if n < readEvents {
				b.Fatalf("read %d events, want at least %d", n, readEvents)
			}
			reportRate(b, b.N*n)
		})
	}
}
