package jsonfile

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jerry-es/jerry/es"
)

func sampleRecord() es.Record {
	return es.Record{
		Stream: "item-42", Version: 3, Position: 17, Type: "ItemRenamed", Schema: 2,
		Data: json.RawMessage(`{"title":"fix \"it\"","n":[1,2,3]}`),
		Metadata: es.Metadata{Actor: "ann", CorrelationID: "c-1", CausationID: "e-9",
			Extra: map[string]string{"b": "2", "a": "x\ny"}},
		Time: time.Date(2026, 11, 20, 10, 0, 0, 123456000, time.UTC),
		ID:   uuid.MustParse("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
	}
}

func TestLineRoundTrip(t *testing.T) {
	for _, last := range []bool{false, true} {
		r := sampleRecord()
		line := appendRecord(nil, &r, last)
		if bytes.Count(line, []byte("\n")) != 1 || line[len(line)-1] != '\n' {
			t.Fatalf("not one line: %q", line)
		}
		// The line is plain JSON: encoding/json (and so jq) reads it.
		var generic map[string]any
		if err := json.Unmarshal(line, &generic); err != nil {
			t.Fatalf("line is not JSON: %v\n%s", err, line)
		}
		var got es.Record
		gotLast, err := newDecoder().decodeLine(line[:len(line)-1], &got)
		if err != nil {
			t.Fatal(err)
		}
		if gotLast != last || got.Stream != r.Stream || got.Version != r.Version || got.Position != r.Position ||
			got.Type != r.Type || got.Schema != r.Schema || !bytes.Equal(got.Data, r.Data) ||
			!got.Time.Equal(r.Time) || got.ID != r.ID || got.Metadata.Actor != "ann" ||
			got.Metadata.CorrelationID != "c-1" || got.Metadata.CausationID != "e-9" ||
			len(got.Metadata.Extra) != 2 || got.Metadata.Extra["a"] != "x\ny" {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, r)
		}
	}
}

func TestDataWithLineBreaksIsCompacted(t *testing.T) {
	r := sampleRecord()
	r.Data = json.RawMessage("{\n  \"a\": 1\r\n}")
	line := appendRecord(nil, &r, true)
	var got es.Record
	if _, err := newDecoder().decodeLine(line[:len(line)-1], &got); err != nil {
		t.Fatal(err)
	}
	if string(got.Data) != `{"a":1}` {
		t.Fatalf("data %q", got.Data)
	}
}

func TestEveryByteIsCovered(t *testing.T) {
	r := sampleRecord()
	line := appendRecord(nil, &r, true)
	body := line[:len(line)-1]
	for i := range body {
		for bit := range 8 {
			b := bytes.Clone(body)
			b[i] ^= 1 << bit
			var got es.Record
			if _, err := newDecoder().decodeLine(b, &got); err == nil {
				t.Fatalf("flip of bit %d of byte %d (%q) not detected", bit, i, body[i])
			}
		}
	}
}

func TestFileNames(t *testing.T) {
	ids := []string{"a", "A", "a/b", "a_b", "a_2fb", "..", ".", "a.b", "a b", "ü", "CON", "x~y",
		strings.Repeat("a", 256), strings.Repeat("a", 255) + "b", strings.Repeat("Z", 256), strings.Repeat("é", 128)}
	seen := make(map[string]string)
	for _, id := range ids {
		name := fileName(id)
		lower := strings.ToLower(name)
		if prev, ok := seen[lower]; ok {
			t.Errorf("%q and %q share file name %q (case-folded)", prev, id, name)
		}
		seen[lower] = id
		if len(name) > maxNameLen || name == "." || name == ".." || strings.ContainsAny(name, "/\\.\x00") {
			t.Errorf("unsafe name %q for %q", name, id)
		}
		if back, ok := streamFromName(name); ok && back != id {
			t.Errorf("name %q of %q decodes to %q", name, id, back)
		}
	}
}

func FuzzFileName(f *testing.F) {
	for _, s := range []string{"a", "a/b", "a_b", "..", strings.Repeat("Ab", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		name := fileName(id)
		for _, c := range []byte(name) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '~') {
				t.Fatalf("name %q of %q has byte %q", name, id, c)
			}
		}
		if len(name) > maxNameLen {
			t.Fatalf("name of %d bytes", len(name))
		}
		if back, ok := streamFromName(name); ok && back != id {
			t.Fatalf("name %q of %q decodes to %q", name, id, back)
		}
		if !strings.Contains(name, "~") {
			if back, ok := streamFromName(name); !ok || back != id {
				t.Fatalf("unshortened name %q of %q does not decode", name, id)
			}
		}
	})
}

// FuzzDecodeLine feeds the line decoder arbitrary bytes. It must never
// panic; whatever it accepts must encode and decode again to the same
// record.
func FuzzDecodeLine(f *testing.F) {
	r := sampleRecord()
	f.Add(bytes.TrimSuffix(appendRecord(nil, &r, true), []byte("\n")))
	r.Metadata = es.Metadata{}
	r.Stream = "é\"\\\t"
	f.Add(bytes.TrimSuffix(appendRecord(nil, &r, false), []byte("\n")))
	f.Add([]byte(`{"position":1}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		// Also try the body with a correct checksum, so that the fuzzer
		// reaches the parser rather than stopping at the checksum.
		fixed := appendCRC(append([]byte(nil), bodyOf(line)...), 0)
		for _, l := range [][]byte{line, fixed[:len(fixed)-1]} {
			var got es.Record
			last, err := newDecoder().decodeLine(l, &got)
			if err != nil {
				continue
			}
			again := appendRecord(nil, &got, last)
			var back es.Record
			last2, err := newDecoder().decodeLine(again[:len(again)-1], &back)
			if err != nil {
				t.Fatalf("re-encoded line does not decode: %v\n%s", err, again)
			}
			if last2 != last || back.Stream != got.Stream || back.Version != got.Version || back.Position != got.Position ||
				back.Type != got.Type || back.Schema != got.Schema || !back.Time.Equal(got.Time) || back.ID != got.ID ||
				!sameMeta(back.Metadata, got.Metadata) {
				t.Fatalf("re-encoded record differs:\n%+v\n%+v", back, got)
			}
		}
	})
}

func bodyOf(line []byte) []byte {
	if len(line) > suffixLen {
		return line[:len(line)-suffixLen]
	}
	return line
}

func sameMeta(a, b es.Metadata) bool {
	if a.Actor != b.Actor || a.CorrelationID != b.CorrelationID || a.CausationID != b.CausationID || len(a.Extra) != len(b.Extra) {
		return false
	}
	for k, v := range a.Extra {
		if b.Extra[k] != v {
			return false
		}
	}
	return true
}

func FuzzHead(f *testing.F) {
	f.Add(head{size: 42, last: 7, boot: "cc9a7058-e757-4ee0-a576-4bbe5ae0e04f"}.encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHead(b)
		if err == nil && h.size < 0 {
			t.Fatal("negative size accepted")
		}
	})
}

// BenchmarkDecodeLine is the decode-only rate: one typical line, from
// memory, checksum included.
func BenchmarkDecodeLine(b *testing.B) {
	r := sampleRecord()
	r.Data = json.RawMessage(`{"id":"wi-12345","title":"Fix the login page on mobile","status":"in_progress","priority":2,"reason":"picked up"}`)
	r.Metadata = es.Metadata{Actor: "agent-7"}
	line := appendRecord(nil, &r, true)
	line = line[:len(line)-1]
	d := newDecoder()
	b.SetBytes(int64(len(line)))
	b.ResetTimer()
	for range b.N {
		var got es.Record
		if _, err := d.decodeLine(line, &got); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkEncodeLine(b *testing.B) {
	r := sampleRecord()
	buf := make([]byte, 0, 1024)
	for range b.N {
		buf = appendRecord(buf[:0], &r, true)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
