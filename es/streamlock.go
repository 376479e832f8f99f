package es

import (
	"context"
	"sync"
)

// streamLocks serialises the updates of each aggregate within one
// repository, for [WithTurns].
type streamLocks struct {
	mu sync.Mutex
	m  map[string]*streamLock
}

type streamLock struct {
	ch   chan struct{} // holds a value while locked
	refs int           // goroutines holding or waiting
}

// lock waits for id's turn, or for ctx to end; unlock gives the turn up.
func (l *streamLocks) lock(ctx context.Context, id string) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*streamLock{}
	}
	sl := l.m[id]
	if sl == nil {
		sl = &streamLock{ch: make(chan struct{}, 1)}
		l.m[id] = sl
	}
	sl.refs++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		if sl.refs--; sl.refs == 0 {
			delete(l.m, id)
		}
		l.mu.Unlock()
	}
	select {
	case sl.ch <- struct{}{}:
		return func() { <-sl.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
