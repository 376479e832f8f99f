// Package groupcommit lets many goroutines share one commit: each hands its
// request to a [Group], one goroutine at a time (the leader) commits every
// request queued so far as one batch, and the others wait for their result.
// While a batch commits, new requests queue up for the next one, so under
// load the cost of a commit (an fsync, a database round trip) is shared by
// as many requests as arrived during the one before.
//
// There is no goroutine of the Group's own: the leader is always a caller
// of [Group.Do] whose request is queued, so a Group that nobody uses costs
// nothing and needs no closing to free resources.
//
// # Outcomes
//
// A request's result is whatever the commit function records in it (the
// type R is the caller's: typically a pointer to a struct with fields for
// the input and the output). Do returns
//
//   - nil once the commit function has run a batch holding the request: the
//     request's own fields say what happened to it;
//   - the context's error if the context ended while the request was still
//     queued: the request was then taken out of the queue, and no commit
//     function ever saw it;
//   - [ErrClosed] if the Group was closed before the request was queued.
//
// A request whose context ends after its batch has begun is not abandoned:
// Do waits for the batch, because the commit function owns the request's
// data until it returns, and the outcome (committed or not) is the commit
// function's to report. A commit function that can be interrupted should
// watch the requests' contexts itself.
package groupcommit

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
)

// ErrClosed is returned by [Group.Do] once [Group.Close] has been called.
var ErrClosed = errors.New("groupcommit: closed")

// Options tunes a Group. The zero value is ready to use.
type Options struct {
	// MaxBatch bounds the requests in one batch; 0 means no bound.
	MaxBatch int

	// Settle is how many times a new leader yields the processor, while
	// fewer requests are queued than the last batch held, before it takes
	// its batch: the callers released by the last batch are typically
	// about to queue their next request, and a moment's wait keeps
	// batches as large as the number of callers rather than alternating
	// between halves of it. 0 takes the batch at once.
	Settle int

	// Leaders is how many batches may be committed at once; 0 means 1.
	// With more than one, commit must be safe for concurrent use; a
	// second batch can then be on its way (say, waiting at a database
	// for the first's lock) while the first commits, rather than being
	// sent only once the first's callers have been woken.
	Leaders int
}

// Group commits the requests of concurrent callers in batches. Make one
// with [New]; it is safe for concurrent use.
type Group[R any] struct {
	commit func(batch []R)
	opts   Options

	mu        sync.Mutex
	idle      sync.Cond // broadcast when leaders drops to 0
	queue     []*waiter[R]
	leaders   int // callers taking or committing a batch
	lastBatch int
	closed    bool
}

// waiter is a queued request and how its caller is told it is done.
type waiter[R any] struct {
	req  R
	lead bool          // set before done is closed: lead a batch
	done chan struct{} // closed when the request was committed, or to lead
}

// New returns a Group whose leaders call commit with each batch, in the
// order the requests were queued. commit must record the outcome of every
// request in the batch before it returns; it is never called with an empty
// batch, nor by more goroutines at once than opts.Leaders allows.
func New[R any](commit func(batch []R), opts Options) *Group[R] {
	opts.Leaders = max(opts.Leaders, 1)
	g := &Group[R]{commit: commit, opts: opts}
	g.idle.L = &g.mu
	return g
}

// Do queues req and returns when it has been committed, when ctx ends
// while req is still queued, or at once if the Group is closed; see the
// package documentation for what each outcome means. If fewer batches are
// being committed than Options.Leaders allows, the caller commits req
// itself, with whatever else has queued, before Do returns.
func (g *Group[R]) Do(ctx context.Context, req R) error {
	w := &waiter[R]{req: req, done: make(chan struct{})}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return ErrClosed
	}
	if g.leaders >= g.opts.Leaders {
		g.queue = append(g.queue, w)
		g.mu.Unlock()
		if err := g.wait(ctx, w); err != nil {
			return err
		}
		if !w.lead {
			return nil
		}
		g.mu.Lock()
	} else {
		g.leaders++
	}
	g.lead(w)
	return nil
}

// wait waits until w is done or chosen to lead. If ctx ends first and w is
// still queued, it leaves the queue and returns ctx's error.
func (g *Group[R]) wait(ctx context.Context, w *waiter[R]) error {
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	if i := slices.Index(g.queue, w); i >= 0 {
		g.queue = slices.Delete(g.queue, i, i+1)
		g.mu.Unlock()
		return ctx.Err()
	}
	g.mu.Unlock()
	// In a batch under way, or chosen to lead (which it must, or the
	// requests queued behind it would wait for ever; its own request is
	// then committed, and the commit function sees its context ended).
	<-w.done
	return nil
}

// lead commits one batch: w's request first, then those queued, in order.
// Then it hands its leadership to the first request still queued, if any.
// g.mu is held on entry and released on return.
func (g *Group[R]) lead(w *waiter[R]) {
	for i := 0; i < g.opts.Settle && len(g.queue)+1 < g.lastBatch; i++ {
		g.mu.Unlock()
		runtime.Gosched()
		g.mu.Lock()
	}
	n := len(g.queue)
	if g.opts.MaxBatch > 0 {
		n = min(n, g.opts.MaxBatch-1)
	}
	batch := append([]*waiter[R]{w}, g.queue[:n]...)
	g.queue = g.queue[n:]
	g.lastBatch = len(batch)
	g.mu.Unlock()

	reqs := make([]R, len(batch))
	for i, b := range batch {
		reqs[i] = b.req
	}
	g.commit(reqs)
	// Release the batch first, so that its callers can queue their next
	// requests before the next leader takes its batch.
	for _, b := range batch[1:] {
		close(b.done)
	}
	g.mu.Lock()
	if len(g.queue) > 0 {
		next := g.queue[0]
		g.queue = g.queue[1:]
		next.lead = true
		close(next.done)
	} else if g.leaders--; g.leaders == 0 {
		g.idle.Broadcast()
	}
	g.mu.Unlock()
}

// Len returns how many requests are queued and not yet in a batch.
func (g *Group[R]) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

// Close makes later calls of Do return [ErrClosed], and waits until no
// batch is being committed. Requests queued before Close are still
// committed. Close is idempotent.
func (g *Group[R]) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	for g.leaders > 0 {
		g.idle.Wait()
	}
}
