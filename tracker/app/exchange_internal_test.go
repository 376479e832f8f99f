package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/jerry-es/jerry/es"
)

// A stream whose consecutive events add up to more than one append may
// carry (jerry appends one event at a time, so such a history is valid)
// imports in several appends, each within es.MaxAppendEvents and
// es.MaxAppendSize. The lines share one large data slice, so that the test
// stays small and fast.
func TestImportBatchesFitOneAppend(t *testing.T) {
	big := json.RawMessage(`{"author":"a","text":"` + string(bytes.Repeat([]byte("x"), es.MaxEventSize-1024)) + `"}`)
	small := json.RawMessage(`{"author":"a","text":"b"}`)
	var lines []Line
	add := func(stream string, n int, data json.RawMessage) {
		for range n {
			lines = append(lines, Line{Stream: stream, Type: "workitem.commented", Data: data, Metadata: es.Metadata{Actor: "a"}})
		}
	}
	add("workitem-J-1", es.MaxAppendSize/len(big)+2, big)
	add("workitem-J-2", es.MaxAppendEvents+3, small)
	add("workitem-J-3", 1, small)
	batches := 0
	check := func(batch []Line) {
		batches++
		if len(batch) == 0 || len(batch) > es.MaxAppendEvents {
			t.Fatalf("batch %d holds %d lines", batches, len(batch))
		}
		size := 0
		for _, l := range batch {
			if l.Stream != batch[0].Stream {
				t.Fatalf("batch %d mixes streams", batches)
			}
			size += appendSize(l)
		}
		if size > es.MaxAppendSize {
			t.Fatalf("batch %d is %d bytes, over es.MaxAppendSize", batches, size)
		}
	}
	var b batcher
	for _, l := range lines {
		if !b.fits(l) {
			check(b.lines)
			b.reset()
		}
		b.add(l)
	}
	check(b.lines)
	if batches != 5 {
		t.Errorf("%d batches, want 5: the big stream and the long one in two each", batches)
	}
}

// appendSize counts as es.Prepare does: an event of exactly MaxEventSize
// by appendSize is accepted, one byte more is refused.
func TestAppendSizeAsPrepareCounts(t *testing.T) {
	l := Line{Stream: "s", Type: "t", Metadata: es.Metadata{Actor: "ann", CorrelationID: "c", Extra: map[string]string{"k": "v"}}}
	pad := es.MaxEventSize - appendSize(Line{Type: l.Type, Metadata: l.Metadata, Data: json.RawMessage(`""`)})
	for _, extra := range []int{0, 1} {
		l.Data = json.RawMessage(`"` + string(bytes.Repeat([]byte("x"), pad+extra)) + `"`)
		_, err := es.Prepare(l.Stream, es.Any, []es.Event{{Type: l.Type, Data: l.Data, Metadata: l.Metadata}})
		if tooBig := errors.Is(err, es.ErrEventTooLarge); tooBig != (appendSize(l) > es.MaxEventSize) {
			t.Fatalf("appendSize %d, Prepare says %v", appendSize(l), err)
		}
	}
}
