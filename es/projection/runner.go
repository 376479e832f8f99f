package projection

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync/atomic"
	"time"

	"github.com/jerry-es/jerry/es"
)

// ErrRunning means a mode of a [Runner] was started while another was still
// running on it.
var ErrRunning = errors.New("projection: runner already running")

// ErrCheckpointBeyondLog means a projection's checkpoint is beyond the
// store's last position: the store is not the one the read model was built
// from (replaced, or restored from an older copy) or it lost events. The
// events that will take the positions up to the checkpoint have never been
// applied, so the runner refuses to go on; [Runner.Rebuild] starts over.
var ErrCheckpointBeyondLog = errors.New("projection: checkpoint beyond the end of the log")

// Defaults for zero [Options] fields.
const (
	DefaultBatchSize        = 1000
	DefaultPollInterval     = 100 * time.Millisecond
	DefaultProgressInterval = 250 * time.Millisecond
)

// stopSaveTimeout bounds the checkpoint save made after the context was
// cancelled: the work was done, so it is worth saving, but not worth hanging.
const stopSaveTimeout = 10 * time.Second

// Options configure a [Runner]. Only Checkpoints is required.
type Options struct {
	// Checkpoints stores the projection's checkpoint under its name.
	Checkpoints es.CheckpointStore

	// Registry, if set, upcasts every event to its current schema before
	// the projection sees it.
	Registry *es.Registry

	// BatchSize is the most events delivered in one Apply; 0 means
	// [DefaultBatchSize].
	BatchSize int

	// MaxDelay is how long, in live mode, a partial batch may wait for
	// more events before it is delivered. 0 delivers as soon as no further
	// event is ready, which gives the lowest latency; batches still grow
	// under load. Catch-up always fills whole batches.
	MaxDelay time.Duration

	// CheckpointEvery is the least time between checkpoint saves; 0 saves
	// after every batch. A larger value makes rebuilds into a cheap read
	// model faster at the cost of more events re-delivered after a crash.
	// The checkpoint of what was applied is always saved at the end of a
	// catch-up, when a live follower goes idle, and on a graceful stop.
	CheckpointEvery time.Duration

	// PollInterval is how often a live runner polls a store that does not
	// implement [es.Subscriber]; 0 means [DefaultPollInterval].
	PollInterval time.Duration

	// Progress, if set, is called during catch-up (in every mode) at most
	// every ProgressInterval, and once more with Done set when caught up.
	// It runs on the runner's goroutine: keep it quick.
	Progress func(Progress)

	// ProgressInterval is the least time between Progress calls; 0 means
	// [DefaultProgressInterval].
	ProgressInterval time.Duration
}

// Progress describes a catch-up under way, enough to draw a progress bar.
type Progress struct {
	// Name is the projection's checkpoint name.
	Name string
	// Position is the position of the last event applied.
	Position int64
	// Start is the checkpoint the catch-up started from.
	Start int64
	// Last is the store's last position, read when the catch-up started
	// and raised whenever Position passes it.
	Last int64
	// Handled is how many events this catch-up has applied.
	Handled int64
	// Elapsed is the time since the catch-up started.
	Elapsed time.Duration
	// Rate is Handled per second of Elapsed.
	Rate float64
	// Done is set on the last call, once caught up.
	Done bool
}

// Fraction returns how much of the catch-up is done, from 0 to 1.
func (p Progress) Fraction() float64 {
	if p.Last <= p.Start {
		return 1
	}
	return min(1, float64(p.Position-p.Start)/float64(p.Last-p.Start))
}

// Runner keeps one projection up to date from a store's global log. Create
// one with [New]. Its methods may be called one at a time, from any
// goroutine; calling one while another is running returns [ErrRunning].
type Runner struct {
	name    string
	log     es.LogReader
	proj    Projection
	opts    Options
	running atomic.Bool
	pos     atomic.Int64 // last applied position, for Position
}

// New returns a runner that feeds proj from store's global log under the
// checkpoint name name. If store also implements [es.Subscriber], Run follows
// it live; otherwise Run polls.
func New(name string, store es.LogReader, proj Projection, opts Options) (*Runner, error) {
	if err := es.ValidateCheckpointName(name); err != nil {
		return nil, err
	}
	switch {
	case store == nil:
		return nil, fmt.Errorf("%w: projection %q: nil store", es.ErrInvalidInput, name)
	case proj == nil:
		return nil, fmt.Errorf("%w: projection %q: nil projection", es.ErrInvalidInput, name)
	case opts.Checkpoints == nil:
		return nil, fmt.Errorf("%w: projection %q: no checkpoint store", es.ErrInvalidInput, name)
	case opts.BatchSize < 0, opts.MaxDelay < 0, opts.CheckpointEvery < 0, opts.PollInterval < 0, opts.ProgressInterval < 0:
		return nil, fmt.Errorf("%w: projection %q: negative option", es.ErrInvalidInput, name)
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.ProgressInterval == 0 {
		opts.ProgressInterval = DefaultProgressInterval
	}
	return &Runner{name: name, log: store, proj: proj, opts: opts}, nil
}

// Name returns the projection's checkpoint name.
func (r *Runner) Name() string { return r.name }

// Position returns the position of the last event the runner has applied
// (or loaded as its checkpoint); it may be read while a mode runs.
func (r *Runner) Position() int64 { return r.pos.Load() }

// CatchUp applies every event committed up to the store's last position as
// read when it starts, saves the checkpoint, and returns that position. If
// ctx is cancelled first, it stops as described in the package doc and
// returns the position applied so far with ctx's error. A handler failure is
// returned as an [*Error].
func (r *Runner) CatchUp(ctx context.Context) (int64, error) {
	if !r.running.CompareAndSwap(false, true) {
		return 0, ErrRunning
	}
	defer r.running.Store(false)
	return r.catchUp(ctx)
}

func (r *Runner) catchUp(ctx context.Context) (int64, error) {
	st, err := r.begin(ctx)
	if err != nil {
		return 0, err
	}
	target, err := r.log.LastPosition(ctx)
	if err != nil {
		err = fmt.Errorf("projection %q: last position: %w", r.name, err)
	} else {
		err = st.catchUp(ctx, target)
	}
	return st.pos, st.stop(ctx, err)
}

// Rebuild saves checkpoint 0 and catches up from the first event, resetting
// the read model first (see [Resetter]); it returns as CatchUp does. An
// interrupted rebuild leaves checkpoint 0 or a partial position, from which
// the next CatchUp, Run or Rebuild carries on correctly.
func (r *Runner) Rebuild(ctx context.Context) (int64, error) {
	if !r.running.CompareAndSwap(false, true) {
		return 0, ErrRunning
	}
	defer r.running.Store(false)
	// Reset the checkpoint before the read model: if we crash between the
	// two, checkpoint 0 makes the next run reset the read model again.
	if err := r.opts.Checkpoints.SaveCheckpoint(ctx, r.name, 0); err != nil {
		return 0, fmt.Errorf("projection %q: reset checkpoint: %w", r.name, err)
	}
	return r.catchUp(ctx)
}

// Run catches up, then applies new events as they commit until ctx is
// cancelled, when it stops as described in the package doc and returns nil.
// It returns an error only for a failure: an [*Error] from a handler, or an
// error reading the store or saving the checkpoint.
func (r *Runner) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer r.running.Store(false)
	st, err := r.begin(ctx)
	if err != nil {
		if stopped(ctx, err) {
			return nil
		}
		return err
	}
	target, err := r.log.LastPosition(ctx)
	if err == nil {
		err = st.catchUp(ctx, target)
	} else {
		err = fmt.Errorf("projection %q: last position: %w", r.name, err)
	}
	if err == nil {
		err = st.live(ctx)
	}
	if err = st.stop(ctx, err); stopped(ctx, err) {
		return nil
	}
	return err
}

// stopped reports whether err is the end of a run because ctx was cancelled
// (or ran out of time), rather than a failure of its own.
func stopped(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil &&
		(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// state is one run of a mode.
type state struct {
	r        *Runner
	pos      int64 // last applied position
	queued   int64 // last position taken into batch
	saved    int64 // last checkpoint saved
	lastSave time.Time
	batch    []es.Record
	commit   Committer // non-nil if the projection commits its checkpoint itself

	// progress of the current catch-up
	start      time.Time
	startPos   int64
	target     int64
	handled    int64
	lastReport time.Time
	catching   bool // a catch-up is under way: report progress
}

// begin loads the checkpoint and, at 0, resets the read model.
func (r *Runner) begin(ctx context.Context) (*state, error) {
	pos, err := r.opts.Checkpoints.LoadCheckpoint(ctx, r.name)
	if err != nil {
		return nil, fmt.Errorf("projection %q: load checkpoint: %w", r.name, err)
	}
	if pos == 0 {
		if rs, ok := r.proj.(Resetter); ok {
			if err := rs.Reset(ctx); err != nil {
				return nil, fmt.Errorf("projection %q: reset: %w", r.name, err)
			}
		}
	}
	r.pos.Store(pos)
	st := &state{r: r, pos: pos, queued: pos, saved: pos, lastSave: time.Now(),
		batch: make([]es.Record, 0, r.opts.BatchSize)}
	st.commit, _ = r.proj.(Committer)
	return st, nil
}

// read returns the log from position from, upcast if there is a registry.
func (st *state) read(ctx context.Context, from int64) iter.Seq2[es.Record, error] {
	seq := st.r.log.ReadLog(ctx, from)
	if st.r.opts.Registry != nil {
		seq = st.r.opts.Registry.Upcasted(seq)
	}
	return seq
}

// take adds rec to the batch unless it was already taken.
func (st *state) take(rec es.Record) bool {
	if rec.Position <= st.queued {
		return false
	}
	st.batch = append(st.batch, rec)
	st.queued = rec.Position
	return true
}

// readErr turns an error from the log into the run's error: a cancelled
// context stays itself, so that the caller sees a stop; an upcast failure
// names the event.
func (st *state) readErr(ctx context.Context, rec es.Record, err error) error {
	if stopped(ctx, err) {
		return err
	}
	if rec.Position > 0 {
		return &Error{Name: st.r.name, Position: rec.Position, Last: rec.Position, Stream: rec.Stream, Type: rec.Type, Err: err}
	}
	return fmt.Errorf("projection %q: read log from %d: %w", st.r.name, st.queued+1, err)
}

// catchUp applies events up to position target (and any read with them),
// saves the checkpoint and reports progress.
func (st *state) catchUp(ctx context.Context, target int64) error {
	if target < st.pos {
		return fmt.Errorf("%w: projection %q is at position %d, the log ends at %d", ErrCheckpointBeyondLog, st.r.name, st.pos, target)
	}
	st.start, st.startPos, st.target, st.handled = time.Now(), st.pos, target, 0
	st.lastReport, st.catching = st.start, true
	defer func() { st.catching = false }()
	for st.queued < target {
		before := st.queued
	read:
		for rec, err := range st.read(ctx, st.queued+1) {
			if err != nil {
				return st.readErr(ctx, rec, err)
			}
			if !st.take(rec) {
				continue
			}
			if len(st.batch) >= st.r.opts.BatchSize {
				if err := st.deliver(ctx); err != nil {
					return err
				}
			}
			if rec.Position >= target {
				break read
			}
		}
		if err := st.deliver(ctx); err != nil {
			return err
		}
		if st.queued == before {
			// The log ended below target: nothing more to read.
			break
		}
	}
	if err := st.save(ctx, true); err != nil {
		return err
	}
	st.report(true)
	return nil
}

// deliver applies the batch, and saves the checkpoint if it is time.
func (st *state) deliver(ctx context.Context) error {
	if len(st.batch) == 0 {
		return nil
	}
	first, last := st.batch[0].Position, st.batch[len(st.batch)-1].Position
	var err error
	if st.commit != nil {
		err = st.commit.Commit(ctx, st.r.name, st.batch, last)
	} else {
		err = st.r.proj.Apply(ctx, st.batch)
	}
	n := len(st.batch)
	clear(st.batch) // drop references to the records' data
	st.batch = st.batch[:0]
	if err != nil {
		// Abandon the batch: the next run delivers it again.
		st.queued = st.pos
		if stopped(ctx, err) {
			return err
		}
		e := &Error{Position: first, Last: last, Err: err}
		var pe *Error
		if errors.As(err, &pe) {
			*e = *pe
			e.Last = last
		}
		e.Name = st.r.name
		return e
	}
	st.pos = last
	st.r.pos.Store(last)
	st.handled += int64(n)
	if st.commit != nil {
		st.saved, st.lastSave = last, time.Now()
	} else if err := st.save(ctx, false); err != nil {
		return err
	}
	st.report(false)
	return nil
}

// save saves the checkpoint if it has moved and force is set or it is due.
func (st *state) save(ctx context.Context, force bool) error {
	if st.pos == st.saved {
		return nil
	}
	if !force && st.r.opts.CheckpointEvery > 0 && time.Since(st.lastSave) < st.r.opts.CheckpointEvery {
		return nil
	}
	if err := st.r.opts.Checkpoints.SaveCheckpoint(ctx, st.r.name, st.pos); err != nil {
		return fmt.Errorf("projection %q: save checkpoint %d: %w", st.r.name, st.pos, err)
	}
	st.saved, st.lastSave = st.pos, time.Now()
	return nil
}

// stop ends a run: whatever err, the checkpoint of what was applied is saved,
// with a context that is not cancelled, since the work it records is done.
func (st *state) stop(ctx context.Context, err error) error {
	if st.pos != st.saved {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopSaveTimeout)
		serr := st.save(sctx, true)
		cancel()
		if err == nil {
			err = serr
		}
	}
	return err
}

func (st *state) report(done bool) {
	fn := st.r.opts.Progress
	if fn == nil || !st.catching {
		return
	}
	now := time.Now()
	if !done && now.Sub(st.lastReport) < st.r.opts.ProgressInterval {
		return
	}
	st.lastReport = now
	p := Progress{
		Name:     st.r.name,
		Position: st.pos,
		Start:    st.startPos,
		Last:     max(st.target, st.pos),
		Handled:  st.handled,
		Elapsed:  now.Sub(st.start),
		Done:     done,
	}
	if s := p.Elapsed.Seconds(); s > 0 {
		p.Rate = float64(p.Handled) / s
	}
	fn(p)
}

// Subscribe follows log from position from, as the runner does in live
// mode, for consumers that want the events themselves rather than a
// projection (such as `jerry log --follow`): through [es.Subscriber] if log
// implements it, and otherwise by reading the log every poll interval (0
// means [DefaultPollInterval]). With a non-nil reg every event is upcast to
// its current schema. It yields every event from from on exactly once, in
// position order, and ends without an error when ctx is cancelled.
func Subscribe(ctx context.Context, log es.LogReader, from int64, reg *es.Registry, poll time.Duration) iter.Seq2[es.Record, error] {
	var seq iter.Seq2[es.Record, error]
	if sub, ok := log.(es.Subscriber); ok {
		seq = sub.Subscribe(ctx, from)
	} else {
		if poll <= 0 {
			poll = DefaultPollInterval
		}
		// No wake-ups: only the poll.
		seq = es.Follow(ctx, log, from, nil, poll)
	}
	if reg != nil {
		seq = reg.Upcasted(seq)
	}
	return seq
}

// item is one value of a subscription, passed from its reader goroutine.
type item struct {
	rec es.Record
	err error
}

// live follows the log from the last position taken until ctx is cancelled.
func (st *state) live(ctx context.Context) error {
	ch, stop := st.subscribe(ctx)
	defer stop()
	var saveDue *time.Timer
	defer func() {
		if saveDue != nil {
			saveDue.Stop()
		}
	}()
	for {
		// Wait for the first event of a batch (or for a deferred checkpoint
		// save to fall due).
		var due <-chan time.Time
		if saveDue != nil {
			due = saveDue.C
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-due:
			saveDue = nil
			if err := st.save(ctx, true); err != nil {
				return err
			}
			continue
		case it := <-ch:
			if err := st.add(ctx, it); err != nil {
				return err
			}
		}
		if err := st.gather(ctx, ch); err != nil {
			return err
		}
		if err := st.deliver(ctx); err != nil {
			return err
		}
		if st.pos != st.saved && saveDue == nil {
			// Saving was deferred by CheckpointEvery: make sure it
			// happens even if no further event comes.
			saveDue = time.NewTimer(max(0, st.r.opts.CheckpointEvery-time.Since(st.lastSave)))
		}
	}
}

// subscribe starts a goroutine that reads the log from the last position
// taken into the returned queue, until it fails or ctx is cancelled; stop
// ends it and waits for it. A subscription that ends although ctx was not
// cancelled is an error in the queue.
func (st *state) subscribe(ctx context.Context) (queue <-chan item, stop func()) {
	subCtx, cancel := context.WithCancel(ctx)
	// The queue holds at most one batch: a slow projection holds back the
	// subscription, which in turn holds back only its own reads.
	ch := make(chan item, st.r.opts.BatchSize)
	done := make(chan struct{})
	from := st.queued + 1
	go func() {
		defer close(done)
		seq := Subscribe(subCtx, st.r.log, from, st.r.opts.Registry, st.r.opts.PollInterval)
		for rec, err := range seq {
			select {
			case ch <- item{rec, err}:
			case <-subCtx.Done():
				return
			}
			if err != nil {
				return
			}
		}
		if subCtx.Err() == nil {
			select {
			case ch <- item{err: errors.New("subscription ended")}:
			case <-subCtx.Done():
			}
		}
	}()
	return ch, func() {
		cancel()
		<-done
	}
}

// add takes one value of the subscription into the batch, or returns its
// error.
func (st *state) add(ctx context.Context, it item) error {
	if it.err != nil {
		return st.readErr(ctx, it.rec, it.err)
	}
	st.take(it.rec)
	return nil
}

// gather adds to the batch what else the subscription has ready, or brings
// within MaxDelay, up to BatchSize.
func (st *state) gather(ctx context.Context, ch <-chan item) error {
	var delay <-chan time.Time
	if st.r.opts.MaxDelay > 0 {
		t := time.NewTimer(st.r.opts.MaxDelay)
		defer t.Stop()
		delay = t.C
	}
	for len(st.batch) < st.r.opts.BatchSize {
		if delay == nil {
			select {
			case it := <-ch:
				if err := st.add(ctx, it); err != nil {
					return err
				}
				continue
			default:
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-delay:
			return nil
		case it := <-ch:
			if err := st.add(ctx, it); err != nil {
				return err
			}
		}
	}
	return nil
}
