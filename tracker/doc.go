// Package tracker is Jerry's domain: work items and initiatives as
// event-sourced aggregates, their events and their rules. It does no I/O:
// the application layer (package tracker/app) loads and saves aggregates
// through an [es.Repository], and decides what needs more than one aggregate
// (ID allocation, blocker cycles, initiative membership on both sides).
//
// # Rules
//
//   - A work item starts in [Backlog]. Its status moves freely among backlog,
//     ready, in_progress and blocked, and to done or cancelled; done and
//     cancelled are left only by [WorkItem.Reopen], back to backlog.
//   - A command that would change nothing (a status it already has, an edit to
//     the same value, claiming an item one already holds) records no event.
//   - [WorkItem.Claim] assigns the item to the acting agent and fails with
//     [ErrClaimed] when another agent holds it; [WorkItem.Release] gives it up.
//   - An item cannot start (move to in_progress) while one of its blockers is
//     not done; an item cannot block itself. Cycles through other items are
//     refused by the application layer, which sees the whole graph.
//   - Labels are normalised to lower case and must be 1 to 50 letters,
//     digits or "-_.:/" ([ParseLabel]); putting on a label the item has, or
//     taking off one it lacks, records nothing. Any item may be labeled,
//     done and cancelled ones included.
//   - An initiative is active until completed or cancelled; only an active
//     initiative takes new members.
//
// # Errors
//
// Rule violations return errors matching one of the sentinels in errors.go
// (errors.Is): [ErrInvalidTransition], [ErrClaimed], [ErrInvalidInput] and so
// on. The application layer maps them to exit codes.
//
// # Events
//
// Every event has an explicit, stable type name ("workitem.created") and a
// schema version, registered by [Register]. Renaming a Go type never changes
// what is stored.
package tracker
