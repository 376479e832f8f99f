package tracker

import (
	"errors"
	"fmt"
)

// Errors returned by the domain's commands. Branch on them with errors.Is.
var (
	// ErrInvalidInput means a command's argument is not acceptable: an
	// empty title, an unknown status, type or priority. Its errors also
	// match the more specific sentinels below.
	ErrInvalidInput = errors.New("invalid input")

	// ErrInvalidStatus means a status name is not one of the six.
	ErrInvalidStatus = invalid("invalid status")
	// ErrInvalidType means a work item type is not one of the five.
	ErrInvalidType = invalid("invalid type")
	// ErrInvalidPriority means a priority is not one of the four.
	ErrInvalidPriority = invalid("invalid priority")
	// ErrEmptyTitle means a title is empty or only spaces.
	ErrEmptyTitle = invalid("empty title")
	// ErrEmptyComment means a comment's text is empty or only spaces.
	ErrEmptyComment = invalid("empty comment")
	// ErrInvalidLabel means a label is empty, too long, or holds a
	// character other than a letter, a digit or one of "-_.:/".
	ErrInvalidLabel = invalid("invalid label")
	// ErrSelfBlock means an item was asked to block itself.
	ErrSelfBlock = invalid("an item cannot block itself")
	// ErrCycle means a dependency would close a cycle of blockers.
	ErrCycle = invalid("dependency cycle")

	// ErrInvalidTransition means the aggregate's status does not allow the
	// command: leaving done or cancelled other than by reopen, reopening an
	// open item, claiming a closed one, changing a finished initiative.
	ErrInvalidTransition = errors.New("invalid transition")

	// ErrBlocked means an item cannot start because a blocker is not done.
	ErrBlocked = errors.New("blocked")

	// ErrClaimed means another agent holds the item. It is a conflict: the
	// command lost a race, or came too late.
	ErrClaimed = errors.New("claimed by another agent")

	// ErrNotBlocker means unblock named an item that is not a blocker.
	ErrNotBlocker = errors.New("not a blocker")

	// ErrNotMember means an initiative does not hold the item.
	ErrNotMember = errors.New("not a member")
)

// inputError is one kind of invalid input; it also matches ErrInvalidInput.
type inputError struct{ msg string }

func invalid(msg string) error { return &inputError{msg: msg} }

func (e *inputError) Error() string        { return e.msg }
func (e *inputError) Is(target error) bool { return target == ErrInvalidInput }

// invalidf wraps sentinel with detail.
func invalidf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
