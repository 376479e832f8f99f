package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/projection"
)

// ReadModelName is the checkpoint name under which the projection runner
// keeps jerry's read model.
const ReadModelName = "jerry-read-model"

// ModelName is the name under which jerry's read model is saved in an
// es.ModelStore ("jerry": DIR/readmodels/jerry.model in a file store, the
// row "jerry" of jerry_read_models in PostgreSQL).
const ModelName = "jerry"

// WithReadModel makes list, ready (with --claim too) and initiative list
// answer from a read model persisted in ms, under [ModelName]: each loads it, applies only the
// events committed after its position, answers, and saves it back if
// anything was applied. notes, if not nil, is told of a saved model that was
// ignored (damaged, of another format version, or not matching the store)
// and is being rebuilt from the events, and of a model that could not be
// saved (other than es.ErrReadOnly: a read-only store still answers, from a
// model brought up to date in memory).
func WithReadModel(ms es.ModelStore, notes func(msg string)) Option {
	return func(o *options) { o.models, o.notes = ms, notes }
}

func (s *Service) note(format string, args ...any) {
	if s.notes != nil {
		s.notes(fmt.Sprintf(format, args...))
	}
}

// Current returns the read model brought up to date with the whole log:
// from the persisted model if the service has one ([WithReadModel]), else
// by folding the whole log.
func (s *Service) Current(ctx context.Context) (*Overview, error) {
	if s.models == nil {
		return s.ReadModel(ctx, time.Time{}, nil)
	}
	p, err := s.loadModel(ctx)
	if err != nil {
		return nil, err
	}
	m := &persisted{p: p, ms: s.models}
	m.startFolder()
	defer m.stopFolder()
	r, err := projection.New(ReadModelName, s.log, m, runnerOptions(m, nil))
	if err != nil {
		return nil, err
	}
	if _, err := r.CatchUp(ctx); err != nil {
		return nil, err
	}
	s.noteSaveError(m.saveErr)
	return p, nil
}

// Rebuild recreates the read model from the first event, saves it if the
// service has a persisted one, and returns it with the runner's final
// progress report (events applied, time, rate). progress, if not nil, is
// called now and then while it runs.
func (s *Service) Rebuild(ctx context.Context, progress func(projection.Progress)) (*Overview, projection.Progress, error) {
	if s.log == nil {
		return nil, projection.Progress{}, errors.New("the store has no global log")
	}
	m := &persisted{p: NewOverview(s.reg), ms: s.models}
	m.startFolder()
	defer m.stopFolder()
	var last projection.Progress
	r, err := projection.New(ReadModelName, s.log, m, runnerOptions(m, func(pr projection.Progress) {
		last = pr
		if progress != nil {
			progress(pr)
		}
	}))
	if err != nil {
		return nil, last, err
	}
	if _, err := r.Rebuild(ctx); err != nil {
		return nil, last, err
	}
	if err := m.sync(ctx); err != nil {
		return nil, last, err // not reached: the runner's save already synced
	}
	if m.saveErr != nil {
		// A rebuild is asked for: not saving it is its failure.
		return nil, last, m.saveErr
	}
	return m.p, last, nil
}

func runnerOptions(m *persisted, progress func(projection.Progress)) projection.Options {
	return projection.Options{
		Checkpoints: m,
		// The model is saved whole: once, at the end of the catch-up.
		CheckpointEvery: 24 * time.Hour,
		BatchSize:       4096,
		Progress:        progress,
	}
}

func (s *Service) noteSaveError(err error) {
	if err != nil && !errors.Is(err, es.ErrReadOnly) {
		s.note("read model not saved (the answer is right, the next command catches up again): %v", err)
	}
}

// loadModel returns the persisted model if it is usable, else an empty one
// (saying why on notes).
func (s *Service) loadModel(ctx context.Context) (*Overview, error) {
	if s.log == nil {
		return nil, errors.New("the store has no global log")
	}
	empty := NewOverview(s.reg)
	data, _, err := s.models.LoadModel(ctx, ModelName)
	if errors.Is(err, es.ErrNotFound) {
		return empty, nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.note("read model ignored (%v); rebuilding it from the events", err)
		return empty, nil
	}
	p, err := decodeModel(data, s.reg)
	if err != nil {
		s.note("read model ignored (%v); rebuilding it from the events", err)
		return empty, nil
	}
	if p.pos == 0 {
		return p, nil
	}
	// The model must have been built from this store: the event at its
	// position must be the one it last applied. (A store emptied and
	// refilled, or a model copied from elsewhere, fails this.)
	var at es.Record
	for rec, err := range s.log.ReadLog(ctx, p.pos) {
		if err != nil {
			return nil, fmt.Errorf("read the log at %d: %w", p.pos, err)
		}
		at = rec
		break
	}
	if at.Position != p.pos || at.ID != p.lastID {
		s.note("read model ignored (it was built from another store: its event at position %d is not in this one); rebuilding it from the events", p.pos)
		return empty, nil
	}
	return p, nil
}

// persisted runs an Overview under a projection.Runner and is its
// checkpoint store: saving the checkpoint saves the state with it, in one
// write, so the two never disagree.
//
// For a long catch-up it can fold in a goroutine of its own (startFolder), so that
// folding one batch overlaps with reading and decoding the next: the log's
// decoding and the fold each take about half of a rebuild's CPU time. Apply
// then hands over a copy of the batch; SaveCheckpoint and Reset wait until
// everything handed over is folded, and a fold error is returned by the
// next Apply or SaveCheckpoint (its position is the failing record's, from
// projection.AtRecord). No checkpoint is saved past a failed batch.
type persisted struct {
	p       *Overview
	ms      es.ModelStore // nil: nothing is saved
	saveErr error

	work  chan []es.Record // batches to fold, or nil to ask for an ack; nil: fold in Apply
	acks  chan struct{}
	free  chan []es.Record // folded batches' slices, for reuse
	done  chan struct{}
	mu    sync.Mutex
	fault error // the first fold error
}

var (
	_ projection.Projection = (*persisted)(nil)
	_ projection.Resetter   = (*persisted)(nil)
	_ es.CheckpointStore    = (*persisted)(nil)
)

// folderQueue is how many batches may wait to be folded: enough to keep
// both sides busy, few enough to bound memory.
const folderQueue = 2

// startFolder starts the folding goroutine; stopFolder ends it.
func (m *persisted) startFolder() {
	m.work = make(chan []es.Record, folderQueue)
	m.acks = make(chan struct{})
	m.free = make(chan []es.Record, folderQueue+2)
	m.done = make(chan struct{})
	go func() {
		defer close(m.done)
		for batch := range m.work {
			if batch == nil {
				m.acks <- struct{}{}
				continue
			}
			if m.err() == nil {
				if err := m.fold(batch); err != nil {
					m.mu.Lock()
					m.fault = err
					m.mu.Unlock()
				}
			}
			clear(batch) // drop the records' data
			select {
			case m.free <- batch[:0]:
			default:
			}
		}
	}()
}

func (m *persisted) stopFolder() {
	if m.work != nil {
		close(m.work)
		<-m.done
		m.work = nil
	}
}

func (m *persisted) err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fault
}

// sync waits until every batch handed over is folded, and returns the
// first fold error.
func (m *persisted) sync(ctx context.Context) error {
	if m.work == nil {
		return nil
	}
	select {
	case m.work <- nil:
	case <-ctx.Done():
		return ctx.Err()
	}
	<-m.acks // the folder always answers: it does not wait on anything else
	return m.err()
}

func (m *persisted) fold(batch []es.Record) error {
	for _, rec := range batch {
		if err := m.p.Apply(rec); err != nil {
			return projection.AtRecord(rec, err)
		}
	}
	return nil
}

// Apply implements projection.Projection.
func (m *persisted) Apply(ctx context.Context, batch []es.Record) error {
	if m.work == nil {
		return m.fold(batch)
	}
	if err := m.err(); err != nil {
		return err
	}
	var buf []es.Record
	select {
	case buf = <-m.free:
	default:
	}
	// The runner reuses its slice: hand over a copy.
	buf = append(buf, batch...)
	select {
	case m.work <- buf:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Reset implements projection.Resetter.
func (m *persisted) Reset(ctx context.Context) error {
	if err := m.sync(ctx); err != nil {
		return err
	}
	m.p.reset()
	return nil
}

// LoadCheckpoint implements es.CheckpointStore: the model's own position.
func (m *persisted) LoadCheckpoint(ctx context.Context, _ string) (int64, error) {
	if err := m.sync(ctx); err != nil {
		return 0, err
	}
	return m.p.pos, nil
}

// SaveCheckpoint implements es.CheckpointStore by saving the model, which
// is at position. A failed save is kept in saveErr rather than returned:
// the model in memory is right, and the command can still answer from it.
func (m *persisted) SaveCheckpoint(ctx context.Context, _ string, position int64) error {
	if err := m.sync(ctx); err != nil {
		return err
	}
	if m.ms == nil || position == 0 {
		return nil // nothing to keep: a model at 0 is the empty one
	}
	if position != m.p.pos {
		return fmt.Errorf("read model at position %d asked to save as %d", m.p.pos, position)
	}
	if _, err := m.ms.SaveModel(ctx, ModelName, position, encodeModel(m.p)); err != nil {
		m.saveErr = err
	}
	return nil
}
