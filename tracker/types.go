package tracker

import (
	"strconv"
	"strings"
)

// Status is where a work item stands.
type Status string

// The statuses of a work item.
const (
	Backlog    Status = "backlog"
	Ready      Status = "ready"
	InProgress Status = "in_progress"
	Blocked    Status = "blocked"
	Done       Status = "done"
	Cancelled  Status = "cancelled"
)

// Statuses lists every status, in workflow order.
var Statuses = []Status{Backlog, Ready, InProgress, Blocked, Done, Cancelled}

// ParseStatus returns the status named s. It accepts "in-progress" and
// "canceled" for convenience, ignoring case.
func ParseStatus(s string) (Status, error) {
	switch norm := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_"); norm {
	case "backlog", "ready", "in_progress", "blocked", "done", "cancelled":
		return Status(norm), nil
	case "canceled":
		return Cancelled, nil
	}
	return "", invalidf(ErrInvalidStatus, "%q (want one of backlog, ready, in_progress, blocked, done, cancelled)", s)
}

// Closed reports whether s is done or cancelled: a status left only by reopen.
func (s Status) Closed() bool { return s == Done || s == Cancelled }

// ItemType says what kind of work an item is.
type ItemType string

// The types of work item.
const (
	Task  ItemType = "task"
	Bug   ItemType = "bug"
	Story ItemType = "story"
	Spike ItemType = "spike"
	Chore ItemType = "chore"
)

// ParseType returns the item type named s, ignoring case.
func ParseType(s string) (ItemType, error) {
	switch norm := strings.ToLower(strings.TrimSpace(s)); norm {
	case "task", "bug", "story", "spike", "chore":
		return ItemType(norm), nil
	}
	return "", invalidf(ErrInvalidType, "%q (want one of task, bug, story, spike, chore)", s)
}

// Priority orders work: the higher, the sooner.
type Priority string

// The priorities, highest first.
const (
	Critical Priority = "critical"
	High     Priority = "high"
	Medium   Priority = "medium"
	Low      Priority = "low"
)

// ParsePriority returns the priority named s: critical, high, medium or low,
// or their numeric forms 0 to 3 (also p0 to p3), 0 being critical.
func ParsePriority(s string) (Priority, error) {
	norm := strings.ToLower(strings.TrimSpace(s))
	switch norm {
	case "critical", "high", "medium", "low":
		return Priority(norm), nil
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(norm, "p")); err == nil && n >= 0 && n <= 3 {
		return []Priority{Critical, High, Medium, Low}[n], nil
	}
	return "", invalidf(ErrInvalidPriority, "%q (want one of critical, high, medium, low, or 0 to 3)", s)
}

// Rank returns 0 for critical up to 3 for low: sort ascending for most
// urgent first. An unknown priority ranks after low.
func (p Priority) Rank() int {
	switch p {
	case Critical:
		return 0
	case High:
		return 1
	case Medium:
		return 2
	case Low:
		return 3
	}
	return 4
}

// InitiativeStatus is where an initiative stands.
type InitiativeStatus string

// The statuses of an initiative.
const (
	ActiveInitiative    InitiativeStatus = "active"
	CompletedInitiative InitiativeStatus = "completed"
	CancelledInitiative InitiativeStatus = "cancelled"
)
