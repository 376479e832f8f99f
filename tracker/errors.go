package tracker

import (
	"errors"
	"fmt"

	"github.com/jerry-es/jerry/es"
)

// Errors returned by the domain's commands. Branch on them with errors.Is.
var (
	// ErrInvalidInput means a command's argument is not acceptable: an
	// empty title, an unknown status, type or priority. It is
	// es.ErrInvalidInput: the domain's bad input and the store's match one
	// sentinel. The more specific sentinels below match it too.
	ErrInvalidInput = es.ErrInvalidInput

	// ErrInvalidStatus means a status name is not one of the six.
	ErrInvalidStatus = es.NewInputError("invalid status")
	// ErrInvalidType means a work item type is not one of the five.
	ErrInvalidType = es.NewInputError("invalid type")
	// ErrInvalidPriority means a priority is not one of the four.
	ErrInvalidPriority = es.NewInputError("invalid priority")
	// ErrEmptyTitle means a title is empty or only spaces.
	ErrEmptyTitle = es.NewInputError("empty title")
	// ErrEmptyComment means a comment's text is empty or only spaces.
	ErrEmptyComment = es.NewInputError("empty comment")
	// ErrInvalidLabel means a label is empty, too long, or holds a
	// character other than a letter, a digit or one of "-_.:/".
	ErrInvalidLabel = es.NewInputError("invalid label")
	// ErrSelfBlock means an item was asked to block itself.
	ErrSelfBlock = es.NewInputError("an item cannot block itself")
	// ErrCycle means a dependency would close a cycle of blockers.
	ErrCycle = es.NewInputError("dependency cycle")

	// ErrInvalidTransition means the aggregate's status does not allow the
	// command: leaving done or cancelled other than by reopen, reopening an
	// open item, claiming a closed one, changing a finished initiative.
	ErrInvalidTransition = errors.New("invalid transition")

	// ErrBlocked means an item cannot start because a blocker is not done.
	ErrBlocked = errors.New("blocked")

	// ErrClaimed means another agent holds the item. It is a conflict: the
	// command lost a race, or came too late. The error is a *ClaimedError.
	ErrClaimed = errors.New("claimed by another agent")

	// ErrNotMember means an initiative does not hold the item.
	ErrNotMember = errors.New("not a member")
)

// invalidf wraps sentinel with detail.
func invalidf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
