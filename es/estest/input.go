package estest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
)

func (s *suite) testRoundTrip(t *testing.T) {
	t.Run("AllFields", func(t *testing.T) {
		st := s.store(t)
		lr := s.maybeLog(t, st)
		zone := time.FixedZone("UTC+5:30", 5*3600+1800)
		in := []es.Event{{
			ID:     es.NewEventID(),
			Type:   "Order.Placed/v2 ü",
			Schema: 3,
			Data:   json.RawMessage(`{"b":1.5,"a":[true,null,"x",{"n":-7}],"u":"Ä\u2028β \"q\" \\ 💡","big":12345678901234567}`),
			Metadata: es.Metadata{
				Actor:         "agent:claude/7",
				CorrelationID: "corr-éé",
				CausationID:   "cmd-42",
				Extra:         map[string]string{"k": "v", "ünï": "✓", "empty": "", "with space": "a\tb"},
			},
			Time: time.Date(2026, 3, 29, 1, 30, 15, 123456789, zone),
		}, {
			ID:   es.NewEventID(),
			Type: "Minimal",
			Data: json.RawMessage(`null`),
			Time: time.Date(1969, 7, 20, 20, 17, 40, 999, time.UTC),
		}, {
			ID:   es.NewEventID(),
			Type: "Scalar",
			Data: json.RawMessage(` "just a string" `),
			Time: time.Date(2262, 1, 1, 0, 0, 0, 1000, time.UTC),
		}}
		recs := mustAppend(t, st, "order-Ä/1", es.NoStream, in...)
		for i, e := range in {
			want := es.Record{
				Stream: "order-Ä/1", Version: int64(i + 1), Position: int64(i + 1),
				Type: e.Type, Schema: max(e.Schema, 1), Data: e.Data, Metadata: e.Metadata,
				Time: e.Time.UTC().Truncate(time.Microsecond), ID: e.ID,
			}
			if d := diffRecord(recs[i], want); d != "" {
				t.Fatalf("Append returned record %d: %s", i, d)
			}
			if recs[i].Time.Nanosecond()%1000 != 0 {
				t.Fatalf("record %d: time %s is not truncated to microseconds", i, recs[i].Time)
			}
		}
		checkRecords(t, "ReadStream", readStream(t, st, "order-Ä/1", 1, 0), recs)
		if lr != nil {
			checkRecords(t, "ReadLog", collect(t, lr.ReadLog(t.Context(), 1)), recs)
		}
	})

	t.Run("GeneratedIDsAndTimes", func(t *testing.T) {
		st := s.store(t)
		before := es.Now()
		recs := mustAppend(t, st, "s", es.NoStream, es.Event{Type: "A", Data: []byte(`{}`)}, es.Event{Type: "B", Data: []byte(`{}`)})
		after := es.Now()
		for i, r := range recs {
			if r.ID.Version() != 7 {
				t.Fatalf("record %d: generated ID %s is not a UUIDv7", i, r.ID)
			}
			if r.Time.Before(before) || r.Time.After(after) || r.Time.Location() != time.UTC || r.Time.Nanosecond()%1000 != 0 {
				t.Fatalf("record %d: generated time %s, want UTC microseconds between %s and %s", i, r.Time, before, after)
			}
			if r.Schema != 1 {
				t.Fatalf("record %d: schema %d, want the default 1", i, r.Schema)
			}
		}
		if recs[0].ID == recs[1].ID {
			t.Fatalf("two events got the same generated ID %s", recs[0].ID)
		}
		checkRecords(t, "ReadStream", readStream(t, st, "s", 1, 0), recs)
	})

	t.Run("StreamIDs", func(t *testing.T) {
		// Stream IDs that a naive file or key encoding would mix up or
		// let escape: each must name its own stream.
		ids := []string{
			"a/b", "a_b", "a-b", "a b", "A/B", "a%2Fb", "a\\b", "..", ".", "../x", "/abs",
			"Ä/β 1", "a:b", "a|b", "CON", "nul", "a.", "x*?<>\"", "💡",
			strings.Repeat("é", es.MaxStreamIDLen/2), // exactly the byte limit
		}
		st := s.store(t)
		want := map[string]es.Record{}
		for i, id := range ids {
			recs := mustAppend(t, st, id, es.NoStream, event("E", i))
			want[id] = recs[0]
		}
		for _, id := range ids {
			checkRecords(t, fmt.Sprintf("stream %q", id), readStream(t, st, id, 1, 0), []es.Record{want[id]})
			if v := streamVersion(t, st, id); v != 1 {
				t.Fatalf("StreamVersion(%q) = %d, want 1", id, v)
			}
		}
	})

	t.Run("LargestEvent", func(t *testing.T) {
		// An event of exactly MaxEventSize bytes is accepted and read back.
		st := s.store(t)
		const typ = "Big"
		data := `"` + strings.Repeat("x", es.MaxEventSize-len(typ)-2) + `"`
		recs := mustAppend(t, st, "big", es.NoStream, es.Event{Type: typ, Data: json.RawMessage(data)})
		checkRecords(t, "ReadStream", readStream(t, st, "big", 1, 0), recs)
	})
}

// badInput is one bad call: op makes it on a store that holds one event in
// stream "seed" and returns its error.
type badInput struct {
	name  string
	op    func(ctx context.Context, st es.EventStore, lr es.LogReader, sub es.Subscriber) error
	want  error // the specific sentinel, besides es.ErrInvalidInput
	needs string
}

func appendOp(stream string, exp es.ExpectedVersion, evs ...es.Event) func(context.Context, es.EventStore, es.LogReader, es.Subscriber) error {
	return func(ctx context.Context, st es.EventStore, _ es.LogReader, _ es.Subscriber) error {
		recs, err := st.Append(ctx, stream, exp, evs)
		if err == nil && len(recs) > 0 {
			return fmt.Errorf("bad append stored %d records", len(recs))
		}
		return err
	}
}

func readOp(f func(ctx context.Context, st es.EventStore, lr es.LogReader, sub es.Subscriber) (int, error)) func(context.Context, es.EventStore, es.LogReader, es.Subscriber) error {
	return func(ctx context.Context, st es.EventStore, lr es.LogReader, sub es.Subscriber) error {
		n, err := f(ctx, st, lr, sub)
		if n > 0 {
			return fmt.Errorf("bad read yielded %d records before its error %v", n, err)
		}
		return err
	}
}

func withData(data string) es.Event {
	return es.Event{ID: es.NewEventID(), Type: "E", Data: json.RawMessage(data)}
}

func withMeta(m es.Metadata) es.Event {
	e := withData(`{}`)
	e.Metadata = m
	return e
}

func (s *suite) testBadInput(t *testing.T) {
	good := func() es.Event { return event("E", 1) }
	withType := func(typ string) es.Event { e := good(); e.Type = typ; return e }
	tooBig := `"` + strings.Repeat("x", es.MaxEventSize) + `"`
	tooMany := events("E", 0, es.MaxAppendEvents+1)
	// Events that share one buffer of just under MaxEventSize: together
	// over MaxAppendSize, yet cheap to build.
	big := json.RawMessage(`"` + strings.Repeat("x", es.MaxEventSize-64) + `"`)
	tooBigTogether := make([]es.Event, es.MaxAppendSize/len(big)+1)
	for i := range tooBigTogether {
		tooBigTogether[i] = es.Event{Type: "E", Data: big}
	}
	negSchema := good()
	negSchema.Schema = -1
	withTime := func(t time.Time) es.Event { e := good(); e.Time = t; return e }
	bigMeta := good()
	bigMeta.Metadata.Extra = map[string]string{"blob": strings.Repeat("m", es.MaxEventSize)}
	cases := []badInput{
		{name: "EmptyStreamID", op: appendOp("", es.Any, good()), want: es.ErrInvalidStreamID},
		{name: "StreamIDInvalidUTF8", op: appendOp("seed\xff", es.Any, good()), want: es.ErrInvalidStreamID},
		{name: "StreamIDTruncatedUTF8", op: appendOp("seed\xc3", es.Any, good()), want: es.ErrInvalidStreamID},
		{name: "StreamIDNewline", op: appendOp("seed\n", es.Any, good()), want: es.ErrInvalidStreamID},
		{name: "StreamIDNUL", op: appendOp("se\x00ed", es.Any, good()), want: es.ErrInvalidStreamID},
		{name: "StreamIDDEL", op: appendOp("seed\x7f", es.Any, good()), want: es.ErrInvalidStreamID},
		{name: "StreamIDC1Control", op: appendOp("seed\u0085", es.Any, good()), want: es.ErrInvalidStreamID},
		{name: "StreamIDTooLong", op: appendOp(strings.Repeat("s", es.MaxStreamIDLen+1), es.Any, good()), want: es.ErrInvalidStreamID},
		{name: "EmptyEventType", op: appendOp("seed", es.Any, withType("")), want: es.ErrInvalidEventType},
		{name: "EventTypeControl", op: appendOp("seed", es.Any, withType("Order\tPlaced")), want: es.ErrInvalidEventType},
		{name: "EventTypeInvalidUTF8", op: appendOp("seed", es.Any, withType("Order\xffPlaced")), want: es.ErrInvalidEventType},
		{name: "EventTypeTooLong", op: appendOp("seed", es.Any, withType(strings.Repeat("T", es.MaxEventTypeLen+1))), want: es.ErrInvalidEventType},
		{name: "DataEmpty", op: appendOp("seed", es.Any, withData("")), want: es.ErrInvalidData},
		{name: "DataTruncated", op: appendOp("seed", es.Any, withData(`{"a":`)), want: es.ErrInvalidData},
		{name: "DataTwoDocuments", op: appendOp("seed", es.Any, withData(`{} {}`)), want: es.ErrInvalidData},
		{name: "DataNotJSON", op: appendOp("seed", es.Any, withData(`hello`)), want: es.ErrInvalidData},
		{name: "DataInvalidUTF8", op: appendOp("seed", es.Any, withData("\"\xff\xfe\"")), want: es.ErrInvalidData},
		{name: "MetadataNUL", op: appendOp("seed", es.Any, withMeta(es.Metadata{Actor: "a\x00b"})), want: es.ErrInvalidMetadata},
		{name: "MetadataInvalidUTF8", op: appendOp("seed", es.Any, withMeta(es.Metadata{Extra: map[string]string{"k": "\xff"}})), want: es.ErrInvalidMetadata},
		{name: "NegativeSchema", op: appendOp("seed", es.Any, negSchema), want: es.ErrInvalidData},
		{name: "TimeYearZero", op: appendOp("seed", es.Any, withTime(time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC))), want: es.ErrInvalidInput},
		{name: "TimeYear10000", op: appendOp("seed", es.Any, withTime(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))), want: es.ErrInvalidInput},
		{name: "BadEventInBatch", op: appendOp("seed", es.Any, good(), good(), withData("{"), good()), want: es.ErrInvalidData},
		{name: "EventTooLarge", op: appendOp("seed", es.Any, withData(tooBig)), want: es.ErrEventTooLarge},
		{name: "MetadataTooLarge", op: appendOp("seed", es.Any, bigMeta), want: es.ErrEventTooLarge},
		{name: "NoEventsNil", op: appendOp("seed", es.Any), want: es.ErrNoEvents},
		{name: "NoEventsEmpty", op: appendOp("seed", es.Any, []es.Event{}...), want: es.ErrNoEvents},
		{name: "TooManyEvents", op: appendOp("seed", es.Any, tooMany...), want: es.ErrTooManyEvents},
		{name: "AppendTooLarge", op: appendOp("seed", es.Any, tooBigTogether...), want: es.ErrAppendTooLarge},
		{name: "ZeroExpectedVersion", op: appendOp("seed", es.ExpectedVersion{}, good()), want: es.ErrInvalidExpectedVersion},
		{name: "NegativeExpectedVersion", op: appendOp("seed", es.Exact(-1), good()), want: es.ErrInvalidExpectedVersion},
		{name: "NegativeExpectedVersionNewStream", op: appendOp("new", es.Exact(-5), good()), want: es.ErrInvalidExpectedVersion},
		{name: "ReadStreamFromZero", want: es.ErrInvalidVersion, op: readOp(func(ctx context.Context, st es.EventStore, _ es.LogReader, _ es.Subscriber) (int, error) {
			return firstErr(st.ReadStream(ctx, "seed", 0, 0))
		})},
		{name: "ReadStreamNegativeFrom", want: es.ErrInvalidVersion, op: readOp(func(ctx context.Context, st es.EventStore, _ es.LogReader, _ es.Subscriber) (int, error) {
			return firstErr(st.ReadStream(ctx, "seed", -3, 0))
		})},
		{name: "ReadStreamNegativeTo", want: es.ErrInvalidVersion, op: readOp(func(ctx context.Context, st es.EventStore, _ es.LogReader, _ es.Subscriber) (int, error) {
			return firstErr(st.ReadStream(ctx, "seed", 1, -1))
		})},
		{name: "ReadStreamEmptyID", want: es.ErrInvalidStreamID, op: readOp(func(ctx context.Context, st es.EventStore, _ es.LogReader, _ es.Subscriber) (int, error) {
			return firstErr(st.ReadStream(ctx, "", 1, 0))
		})},
		{name: "ReadStreamInvalidID", want: es.ErrInvalidStreamID, op: readOp(func(ctx context.Context, st es.EventStore, _ es.LogReader, _ es.Subscriber) (int, error) {
			return firstErr(st.ReadStream(ctx, "seed\x00", 1, 0))
		})},
		{name: "StreamVersionEmptyID", want: es.ErrInvalidStreamID, op: func(ctx context.Context, st es.EventStore, _ es.LogReader, _ es.Subscriber) error {
			_, err := st.StreamVersion(ctx, "")
			return err
		}},
		{name: "ReadLogFromZero", needs: "log", want: es.ErrInvalidVersion, op: readOp(func(ctx context.Context, _ es.EventStore, lr es.LogReader, _ es.Subscriber) (int, error) {
			return firstErr(lr.ReadLog(ctx, 0))
		})},
		{name: "ReadLogNegative", needs: "log", want: es.ErrInvalidVersion, op: readOp(func(ctx context.Context, _ es.EventStore, lr es.LogReader, _ es.Subscriber) (int, error) {
			return firstErr(lr.ReadLog(ctx, -1))
		})},
		{name: "SubscribeFromZero", needs: "subscribe", want: es.ErrInvalidVersion, op: readOp(func(ctx context.Context, _ es.EventStore, _ es.LogReader, sub es.Subscriber) (int, error) {
			return firstErr(sub.Subscribe(ctx, 0))
		})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := s.store(t)
			var (
				lr  es.LogReader
				sub es.Subscriber
			)
			switch c.needs {
			case "log":
				lr = s.logOf(t, st)
			case "subscribe":
				sub = s.subOf(t, st)
			default:
				lr = s.maybeLog(t, st)
			}
			seed := mustAppend(t, st, "seed", es.NoStream, event("Seed", 0))
			// The guard keeps a store that waits instead of failing
			// (a subscription, say) from hanging the suite.
			ctx, cancel := context.WithTimeout(t.Context(), s.cfg.timeout())
			defer cancel()
			err := c.op(ctx, st, lr, sub)
			checkErr(t, err, es.ErrInvalidInput, c.want)
			checkRecords(t, "stream seed after bad input", readStream(t, st, "seed", 1, 0), seed)
			if v := streamVersion(t, st, "new"); v != 0 {
				t.Fatalf("StreamVersion(new) after bad input = %d, want 0", v)
			}
			if lr != nil {
				if p := lastPosition(t, lr); p != 1 {
					t.Fatalf("LastPosition after bad input = %d, want 1", p)
				}
			}
		})
	}
}
