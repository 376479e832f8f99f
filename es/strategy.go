package es

import "time"

// SnapshotState is what a [Strategy] decides on: where the aggregate stands
// and when it was last snapshotted.
type SnapshotState struct {
	// Version is the aggregate's version after the save.
	Version int64
	// EventsSince is the number of events since the last snapshot (since
	// the start, if there is none).
	EventsSince int64
	// LastSnapshot is the time of the last snapshot's last event, or the
	// aggregate's first event if it has no snapshot.
	LastSnapshot time.Time
	// Now is the time of the decision.
	Now time.Time
}

// Strategy decides when a repository takes a snapshot, after each save.
type Strategy interface {
	ShouldSnapshot(s SnapshotState) bool
}

// StrategyFunc adapts a function to a [Strategy].
type StrategyFunc func(s SnapshotState) bool

// ShouldSnapshot calls f(s).
func (f StrategyFunc) ShouldSnapshot(s SnapshotState) bool { return f(s) }

// EveryN snapshots once n or more events have been saved since the last
// snapshot. n below 1 never snapshots.
func EveryN(n int64) Strategy {
	return StrategyFunc(func(s SnapshotState) bool { return n > 0 && s.EventsSince >= n })
}

// Every snapshots when at least d has passed since the last snapshot and
// there is at least one event it does not include.
func Every(d time.Duration) Strategy {
	return StrategyFunc(func(s SnapshotState) bool {
		return s.EventsSince > 0 && s.Now.Sub(s.LastSnapshot) >= d
	})
}

// AnyOf snapshots when any of strategies would.
func AnyOf(strategies ...Strategy) Strategy {
	return StrategyFunc(func(s SnapshotState) bool {
		for _, st := range strategies {
			if st.ShouldSnapshot(s) {
				return true
			}
		}
		return false
	})
}

// AllOf snapshots when all of strategies would, and at least one is given.
func AllOf(strategies ...Strategy) Strategy {
	return StrategyFunc(func(s SnapshotState) bool {
		for _, st := range strategies {
			if !st.ShouldSnapshot(s) {
				return false
			}
		}
		return len(strategies) > 0
	})
}

// Never never snapshots.
var Never Strategy = StrategyFunc(func(SnapshotState) bool { return false })
