package jsonfile

import (
	"context"
	"os"
	"testing"

	"github.com/jerry-es/jerry/es"
)

// TestReadWhileIndexGrows reads a stream at the moment a writer (in another
// process: reads take no lock) has grown its index for an append of 300
// events but not yet written the entries, so that the index ends in more
// than one chunk of zeros. Readers looked for the stream's end only in the
// index's last chunk, found it all zeros, and took every entry before that
// chunk as present: StreamVersion said 256 instead of 10, and ReadStream
// failed with a corrupt-data error on the zero entries.
func TestReadWhileIndexGrows(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), NoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := make([]es.Event, 10)
	for i := range evs {
		evs[i] = es.Event{Type: "A", Data: []byte(`{}`)}
	}
	if _, err := s.Append(ctx, "x", es.NoStream, evs); err != nil {
		t.Fatal(err)
	}
	// What writeEntries does first for 300 more entries.
	grown := int64((310*entrySize + idxChunk - 1) / idxChunk * idxChunk)
	if err := os.Truncate(s.idxPath("x"), grown); err != nil {
		t.Fatal(err)
	}
	if v, err := s.StreamVersion(ctx, "x"); err != nil || v != 10 {
		t.Errorf("StreamVersion = %d, %v; want 10", v, err)
	}
	if recs, err := es.Collect(s.ReadStream(ctx, "x", 1, 0)); err != nil || len(recs) != 10 {
		t.Errorf("ReadStream: %d records, %v; want 10", len(recs), err)
	}
}
