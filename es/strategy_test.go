package es_test

import (
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
)

func TestStrategies(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	state := func(since int64, ago time.Duration) es.SnapshotState {
		return es.SnapshotState{Version: 100, EventsSince: since, LastSnapshot: now.Add(-ago), Now: now}
	}
	for _, tc := range []struct {
		name     string
		strategy es.Strategy
		state    es.SnapshotState
		want     bool
	}{
		{"every 50 at 49", es.EveryN(50), state(49, 0), false},
		{"every 50 at 50", es.EveryN(50), state(50, 0), true},
		{"every 50 at 75", es.EveryN(50), state(75, 0), true},
		{"every 0 never fires", es.EveryN(0), state(1000, 0), false},
		{"hourly after 59m", es.Every(time.Hour), state(3, 59*time.Minute), false},
		{"hourly after 1h", es.Every(time.Hour), state(3, time.Hour), true},
		{"hourly with nothing new", es.Every(time.Hour), state(0, 5*time.Hour), false},
		{"any of: one fires", es.AnyOf(es.EveryN(50), es.Every(time.Hour)), state(2, 2*time.Hour), true},
		{"any of: none fires", es.AnyOf(es.EveryN(50), es.Every(time.Hour)), state(2, time.Minute), false},
		{"any of nothing", es.AnyOf(), state(1000, 1000*time.Hour), false},
		{"all of: both fire", es.AllOf(es.EveryN(10), es.Every(time.Hour)), state(10, time.Hour), true},
		{"all of: one fires", es.AllOf(es.EveryN(10), es.Every(time.Hour)), state(10, time.Minute), false},
		{"all of nothing", es.AllOf(), state(1000, 1000*time.Hour), false},
		{"nested", es.AnyOf(es.Never, es.AllOf(es.EveryN(5), es.Every(0))), state(5, 0), true},
		{"never", es.Never, state(1<<40, 1000*time.Hour), false},
	} {
		if got := tc.strategy.ShouldSnapshot(tc.state); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
