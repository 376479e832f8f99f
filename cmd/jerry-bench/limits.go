package main

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"
)

// The machine's limits, measured in the same run as the stores so that the
// ratios between them hold on a noisy machine where absolute figures do not.
const (
	limitSync1   = "fdatasync 250 B"
	limitSync100 = "fdatasync 100×250 B"
	limitMarshal = "json.Marshal 300 B"
	limitDecode  = "json.Unmarshal 300 B"
)

// limit is one measurement of the machine's limits.
type limit struct {
	name string
	unit string // what its rate counts
	run  func(b *testing.B, dir string)
}

var limits = []limit{
	{limitSync1, "syncs", func(b *testing.B, dir string) { benchSync(b, dir, 1) }},
	{limitSync100, "records", func(b *testing.B, dir string) { benchSync(b, dir, 100) }},
	{limitMarshal, "events", func(b *testing.B, _ string) { benchMarshal(b) }},
	{limitDecode, "events", func(b *testing.B, _ string) { benchUnmarshal(b) }},
}

// recordSize is the size of one raw record: about one event's JSON.
const recordSize = 250

// benchSync writes batch records of recordSize bytes at the end of a
// growing file with one write, then fdatasyncs it: the least a store that
// syncs every append must do. It reports records (or syncs) per second and
// each write+sync's latency.
func benchSync(b *testing.B, dir string, batch int) {
	f, err := os.CreateTemp(dir, "fdatasync-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		f.Close()
		os.Remove(f.Name())
	})
	buf := make([]byte, batch*recordSize)
	for i := range buf {
		buf[i] = 'x'
		if i%recordSize == recordSize-1 {
			buf[i] = '\n'
		}
	}
	lat := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	prev := time.Now()
	for i := range b.N {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := fdatasync(f); err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		lat[i], prev = now.Sub(prev), now
	}
	b.StopTimer()
	unit := "syncs/s"
	if batch > 1 {
		unit = "records/s"
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), unit)
	reportLatency(b, lat)
}

// reportLatency reports the 50th and 99th percentiles (nearest rank) of
// lat as estest's workloads do.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	rank := func(p int) time.Duration { return lat[max(0, (len(lat)*p+99)/100-1)] }
	b.ReportMetric(float64(rank(50)), "p50-ns")
	b.ReportMetric(float64(rank(99)), "p99-ns")
}

// jsonEvent is an event as a generic JSON store would keep it, about 300
// bytes encoded: envelope and a typed body.
type jsonEvent struct {
	ID       string        `json:"id"`
	Stream   string        `json:"stream"`
	Version  int64         `json:"version"`
	Position int64         `json:"position"`
	Type     string        `json:"type"`
	Time     time.Time     `json:"time"`
	Actor    string        `json:"actor"`
	Data     jsonEventData `json:"data"`
}

type jsonEventData struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Priority    int      `json:"priority"`
	Labels      []string `json:"labels"`
}

func sampleEvent() jsonEvent {
	return jsonEvent{
		ID:       "0193f1c2-7a4e-7c3b-9d2e-5f6a7b8c9d0e",
		Stream:   "item-4711",
		Version:  42,
		Position: 1234567,
		Type:     "tracker.ItemEdited",
		Time:     time.Date(2026, 11, 27, 8, 30, 0, 123456789, time.UTC),
		Actor:    "agent:reviewer-3",
		Data: jsonEventData{
			Title:       "Slow rehydration of long aggregates",
			Description: "Narrowed down to decoding.",
			Priority:    2,
			Labels:      []string{"performance"},
		},
	}
}

func benchMarshal(b *testing.B) {
	ev := sampleEvent()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := json.Marshal(&ev); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func benchUnmarshal(b *testing.B) {
	ev := sampleEvent()
	data, err := json.Marshal(&ev)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		// A fresh value each time, as a reader decoding a stream has.
		var out jsonEvent
		if err := json.Unmarshal(data, &out); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
