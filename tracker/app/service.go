package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/board"
)

// ID prefixes: work items are J-1, J-2, ...; initiatives I-1, I-2, ...
const (
	ItemPrefix       = "J-"
	InitiativePrefix = "I-"
)

// Counter streams: their versions are the numbers of allocated IDs.
const (
	counterPrefix     = "jerry-ids-"
	itemCounter       = counterPrefix + tracker.WorkItemType
	initiativeCounter = counterPrefix + tracker.InitiativeType
)

// NotFoundError reports a work item or initiative that does not exist (or
// did not, at the time or version asked for). It matches es.ErrNotFound.
type NotFoundError struct {
	// Kind says what is missing: "work item" or "initiative".
	Kind string
	// ID is the ID that was looked up.
	ID string
	// Detail says, for temporal loads, what was asked for.
	Detail string
}

// Error implements error.
func (e *NotFoundError) Error() string {
	s := "no " + e.Kind + " " + e.ID
	if e.Detail != "" {
		s += " " + e.Detail
	}
	return s
}

// Is reports whether target is es.ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == es.ErrNotFound }

// Service runs Jerry's use cases against a store. It is safe for concurrent
// use.
type Service struct {
	events es.EventStore
	log    es.LogReader
	reg    *es.Registry
	items  *es.Repository[*tracker.WorkItem]
	inits  *es.Repository[*tracker.Initiative]
	lease  time.Duration

	boardPath  string // "": a temporary model, for stores without a home for one
	boardNotes func(string)
	boardMu    sync.Mutex
	board      *board.Board

	tokens tokenCache
	// How long before an unfinished idempotent request is taken for dead,
	// and how long a repeat waits for one still running (tests shorten
	// them).
	requestStale, requestWait time.Duration
}

// Option configures a [Service].
type Option func(*options)

type options struct {
	strategy es.Strategy
	onSnap   func(string, error)
	lease    time.Duration
	board    string
	bnotes   func(string)
	turns    bool
}

// DefaultStrategy is when Jerry snapshots an aggregate: every 50 events (the
// seed's ADR-002), or when a day has passed since the last snapshot and at
// least 10 events are not in it.
var DefaultStrategy = es.AnyOf(es.EveryN(50), es.AllOf(es.Every(24*time.Hour), es.EveryN(10)))

// WithStrategy sets the snapshot strategy; the default is [DefaultStrategy].
func WithStrategy(s es.Strategy) Option { return func(o *options) { o.strategy = s } }

// WithTurns makes writes to one work item or initiative from this service
// take turns instead of racing (es.WithTurns): for a server, whose requests
// would otherwise conflict with each other and retry. Writes from other
// processes still race, as every write of the jerry command does.
func WithTurns() Option { return func(o *options) { o.turns = true } }

// WithSnapshotErrors sets a function told of snapshots that could not be
// read or written (they never fail an operation).
func WithSnapshotErrors(fn func(stream string, err error)) Option {
	return func(o *options) { o.onSnap = fn }
}

// New returns a service over the given stores. snaps may be nil (no
// snapshots).
func New(events es.EventStore, snaps es.SnapshotStore, log es.LogReader, opts ...Option) *Service {
	o := options{strategy: DefaultStrategy, lease: tracker.DefaultLease}
	for _, opt := range opts {
		opt(&o)
	}
	reg := es.NewRegistry()
	tracker.Register(reg)
	registerBookkeeping(reg)
	var ropts []es.RepositoryOption
	if snaps != nil {
		ropts = append(ropts, es.WithSnapshots(snaps, o.strategy))
	}
	if o.onSnap != nil {
		ropts = append(ropts, es.WithSnapshotErrors(o.onSnap))
	}
	if o.turns {
		ropts = append(ropts, es.WithTurns())
	}
	return &Service{
		events: events, log: log, reg: reg,
		items: es.NewRepository(events, reg, tracker.WorkItemType, tracker.NewWorkItem, ropts...),
		inits: es.NewRepository(events, reg, tracker.InitiativeType, tracker.NewInitiative, ropts...),
		lease: o.lease, boardPath: o.board, boardNotes: o.bnotes,
		requestStale: requestStale, requestWait: requestWait,
	}
}

// Registry returns the registry of Jerry's events.
func (s *Service) Registry() *es.Registry { return s.reg }

// ItemID normalises a typed work item ID: "j-42" and "42" become "J-42".
func ItemID(s string) string { return normID(s, ItemPrefix) }

// InitiativeID normalises a typed initiative ID: "i-7" and "7" become "I-7".
func InitiativeID(s string) string { return normID(s, InitiativePrefix) }

func normID(s, prefix string) string {
	s = strings.TrimSpace(s)
	if _, err := strconv.ParseUint(s, 10, 63); err == nil {
		return prefix + s
	}
	if len(s) > len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return prefix + s[len(prefix):]
	}
	return s
}

// idNumber returns the number in an ID like J-42, or -1.
func idNumber(id string) int64 {
	if i := strings.IndexByte(id, '-'); i >= 0 {
		if n, err := strconv.ParseInt(id[i+1:], 10, 64); err == nil {
			return n
		}
	}
	return -1
}

func actor(ctx context.Context) string { return es.MetadataFrom(ctx).Actor }

// Result is the outcome of a write: the aggregate's state after it, and the
// data of the events it recorded (none if the command changed nothing).
type Result[S any] struct {
	// State is the aggregate's state after the write.
	State S
	// Events holds the data of each event recorded, in order.
	Events []any
}

// Changed reports whether the write recorded anything.
func (r Result[S]) Changed() bool { return len(r.Events) > 0 }

func eventData(pending []es.Envelope) []any {
	out := make([]any, len(pending))
	for i, e := range pending {
		out[i] = e.Data
	}
	return out
}

// allocate takes the next number of a counter stream.
func (s *Service) allocate(ctx context.Context, counter, kind, prefix string) (string, error) {
	ev, err := s.reg.Encode(tracker.IDAllocated{Kind: kind})
	if err != nil {
		return "", err
	}
	ev.Metadata = es.MetadataFrom(ctx)
	recs, err := s.events.Append(ctx, counter, es.Any, []es.Event{ev})
	if err != nil {
		return "", fmt.Errorf("allocate %s ID: %w", kind, err)
	}
	return prefix + strconv.FormatInt(recs[0].Version, 10), nil
}

// maxCreateAttempts bounds how often create takes a new ID because the one
// it took was in use (only possible if a stream was written by other means).
const maxCreateAttempts = 5

// Create makes a new work item in backlog, and adds it to its initiative if
// it names one (which must exist and be active).
func (s *Service) Create(ctx context.Context, n tracker.NewItem) (Result[tracker.Item], error) {
	var res Result[tracker.Item]
	// Check the command before taking an ID, so that bad input wastes none.
	if err := tracker.NewWorkItem().Create(n); err != nil {
		return res, err
	}
	if n.Initiative != "" {
		n.Initiative = InitiativeID(n.Initiative)
		in, err := s.loadInitiative(ctx, n.Initiative)
		if err != nil {
			return res, err
		}
		if in.Status() != tracker.ActiveInitiative {
			return res, fmt.Errorf("%w: initiative %s is %s", tracker.ErrInvalidTransition, n.Initiative, in.Status())
		}
	}
	var w *tracker.WorkItem
	for attempt := 0; ; attempt++ {
		id, err := s.allocate(ctx, itemCounter, tracker.WorkItemType, ItemPrefix)
		if err != nil {
			return res, err
		}
		w = s.items.New(id)
		w.SetActor(actor(ctx))
		if err := w.Create(n); err != nil {
			return res, err
		}
		events := eventData(w.Pending())
		_, err = s.items.Save(ctx, w)
		if err == nil {
			res.Events = events
			break
		}
		if !errors.Is(err, es.ErrConcurrency) || attempt+1 >= maxCreateAttempts {
			return res, err
		}
	}
	res.State = w.Item()
	if n.Initiative != "" {
		if _, err := s.inits.Update(ctx, n.Initiative, func(in *tracker.Initiative) error {
			return in.AddItem(res.State.ID)
		}); err != nil {
			// The initiative was closed in the meantime: take the item
			// out again so that both sides agree.
			if r, uerr := s.updateItem(ctx, res.State.ID, es.Any, func(w *tracker.WorkItem) error {
				return w.SetInitiative("")
			}); uerr == nil {
				res.State, res.Events = r.State, append(res.Events, r.Events...)
			}
			return res, fmt.Errorf("created %s but could not add it to %s: %w", res.State.ID, n.Initiative, err)
		}
		// Another command may have changed the item's membership between
		// the two writes (see reconcile).
		if _, changed, err := s.reconcile(ctx, n.Initiative, res.State.ID); err != nil {
			return res, err
		} else if changed {
			if it, err := s.Item(ctx, res.State.ID); err == nil {
				res.State = it
			}
		}
	}
	return res, nil
}

// aggregate is what update needs of an aggregate; *es.Root provides it.
type aggregate interface {
	es.Aggregate
	Version() int64
	Pending() []es.Envelope
}

// update runs fn on the aggregate id and saves what it raised, returning the
// aggregate and the data of the events recorded. With expected [es.Any] it
// retries on conflict; with an exact version it fails with a
// *es.ConcurrencyError unless the aggregate is at that version.
func update[A aggregate](ctx context.Context, repo *es.Repository[A], id string, expected es.ExpectedVersion, fn func(A) error) (A, []any, error) {
	if expected == es.Any {
		var events []any
		a, err := repo.Update(ctx, id, func(a A) error {
			err := fn(a)
			events = eventData(a.Pending())
			return err
		})
		if err != nil {
			return a, nil, err
		}
		return a, events, nil
	}
	a, err := repo.Load(ctx, id)
	if err != nil {
		return a, nil, err
	}
	if err := expected.Check(repo.Stream(id), a.Version()); err != nil {
		return a, nil, err
	}
	if err := fn(a); err != nil {
		return a, nil, err
	}
	events := eventData(a.Pending())
	if _, err := repo.Save(ctx, a); err != nil {
		return a, nil, err
	}
	return a, events, nil
}
