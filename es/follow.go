package es

import (
	"context"
	"iter"
	"sync"
	"time"
)

// Signal wakes goroutines waiting for new commits. Adapters call Notify after
// each commit; followers wait on the channel from Wait. The zero value is
// ready to use.
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// Wait returns a channel that is closed by the next call to Notify.
func (s *Signal) Wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Notify wakes every goroutine waiting on a channel from Wait.
func (s *Signal) Notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// Follow implements [Subscriber.Subscribe] on top of a [LogReader]: it reads
// the log from position from, and when it has caught up waits until wake is
// signalled, poll has elapsed (a safety net for wake-ups that can be missed,
// such as those from other processes; 0 means no polling), or ctx is done.
// wake may be nil for a store that can only poll. It ends without an error
// when ctx is cancelled.
//
// Follow never holds more than one record in memory for the consumer, so a
// slow consumer costs the store nothing.
func Follow(ctx context.Context, log LogReader, from int64, wake *Signal, poll time.Duration) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		if err := ValidatePosition(from); err != nil {
			yield(Record{}, err)
			return
		}
		next := from
		var timer *time.Timer
		if poll > 0 {
			timer = time.NewTimer(poll)
			defer timer.Stop()
		}
		for {
			// Take the wake-up channel before reading, so that a commit
			// landing after the read has ended still wakes us.
			var woken <-chan struct{}
			if wake != nil {
				woken = wake.Wait()
			}
			for r, err := range log.ReadLog(ctx, next) {
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					yield(Record{}, err)
					return
				}
				if !yield(r, nil) {
					return
				}
				next = r.Position + 1
			}
			var tick <-chan time.Time
			if timer != nil {
				timer.Reset(poll)
				tick = timer.C
			}
			select {
			case <-ctx.Done():
				return
			case <-woken:
			case <-tick:
			}
		}
	}
}
