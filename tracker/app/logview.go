package app

import (
	"context"
	"iter"
	"strings"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/projection"
	"github.com/jerry-es/jerry/tracker"
)

// followPoll is how often Follow reads the log of a store that cannot wake
// its subscribers: often enough that a person watching sees events at once,
// rarely enough that an idle follower costs nothing to speak of.
const followPoll = 200 * time.Millisecond

// Follow returns the global log from position from, upcast to current
// schemas, and then every event as it commits, in position order, each once.
// It uses the store's own subscription if it has one (woken by its commits,
// and for the file store by other processes' too), else it polls. The
// sequence ends without an error when ctx is cancelled. The token stream
// ([TokenStream]) is left out: who holds which token is for `jerry token
// list`, not for every reader of a feed.
func (s *Service) Follow(ctx context.Context, from int64) iter.Seq2[es.Record, error] {
	seq := projection.Subscribe(ctx, s.log, from, s.reg, followPoll)
	return func(yield func(es.Record, error) bool) {
		for rec, err := range seq {
			if err != nil && ctx.Err() != nil {
				return // cancelled: the end, not a failure
			}
			if err == nil && rec.Stream == TokenStream {
				continue
			}
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
}

// Describe says in a few words what a record of the log changed; a record
// of a type this registry does not know is described by its type.
func (s *Service) Describe(rec es.Record) string {
	data, err := s.reg.Decode(rec)
	if err != nil {
		return rec.Type
	}
	return describe(rec, data)
}

// describe says what an event changed, and that it was forced past a claim
// or open blockers if it was (see [Force]).
func describe(rec es.Record, data any) string {
	s := tracker.Describe(data)
	if Forced(rec.Metadata) {
		s += " [forced by " + rec.Metadata.Actor + "]"
	}
	return s
}

// StreamLabel names a stream as people type and read it: J-42 for
// workitem-J-42, I-7 for initiative-I-7, ids:workitem for the counter of
// work item IDs, dependencies for [DependencyStream]; any other stream by
// its own ID.
func StreamLabel(stream string) string {
	if rest, ok := strings.CutPrefix(stream, counterPrefix); ok {
		return "ids:" + rest
	}
	if stream == DependencyStream {
		return "dependencies"
	}
	for _, p := range []string{itemStreamPrefix, initiativeStreamPrefix} {
		if rest, ok := strings.CutPrefix(stream, p); ok {
			return rest
		}
	}
	return stream
}
