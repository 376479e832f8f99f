package tracker

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/jerry-es/jerry/es"
)

// Comment is a remark on a work item.
type Comment struct {
	Author string    `json:"author"`
	Time   time.Time `json:"time"`
	Text   string    `json:"text"`
}

// Item is the state of a work item: what its events add up to. Read models
// fold events into Items with [Item.Apply], the same fold the [WorkItem]
// aggregate uses, so that both always agree.
type Item struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Type        ItemType  `json:"type"`
	Status      Status    `json:"status"`
	Priority    Priority  `json:"priority"`
	Assignee    string    `json:"assignee,omitempty"`
	Initiative  string    `json:"initiative,omitempty"`
	Comments    []Comment `json:"comments,omitempty"`
	// Blockers are the items that must be done before this one can start,
	// in the order they were added.
	Blockers []string `json:"blockers,omitempty"`
	// Labels are the item's labels, normalised and sorted.
	Labels    []string  `json:"labels,omitempty"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Apply folds one event into it: its data, and its version and time. Events
// that are not a work item's are ignored.
func (it *Item) Apply(e es.Envelope) {
	switch d := e.Data.(type) {
	case ItemCreated:
		it.Title, it.Description, it.Type, it.Priority = d.Title, d.Description, d.Type, d.Priority
		it.Initiative, it.Status = d.Initiative, Backlog
	case StatusChanged:
		it.Status = d.To
	case Reopened:
		it.Status = Backlog
	case ItemEdited:
		for _, c := range d.Changes {
			switch c.Field {
			case "title":
				it.Title = c.To
			case "description":
				it.Description = c.To
			case "type":
				it.Type = ItemType(c.To)
			case "priority":
				it.Priority = Priority(c.To)
			}
		}
	case Assigned:
		it.Assignee = d.Assignee
	case Claimed:
		it.Assignee = d.Assignee
	case Released:
		it.Assignee = ""
	case Commented:
		it.Comments = append(it.Comments, Comment{Author: d.Author, Time: e.Time, Text: d.Text})
	case InitiativeChanged:
		it.Initiative = d.Initiative
	case BlockerAdded:
		if !slices.Contains(it.Blockers, d.Blocker) {
			it.Blockers = append(it.Blockers, d.Blocker)
		}
	case BlockerRemoved:
		it.Blockers = slices.DeleteFunc(it.Blockers, func(b string) bool { return b == d.Blocker })
	case Labeled:
		for _, l := range d.Labels {
			if i, found := slices.BinarySearch(it.Labels, l); !found {
				it.Labels = slices.Insert(it.Labels, i, l)
			}
		}
	case Unlabeled:
		it.Labels = slices.DeleteFunc(it.Labels, func(l string) bool { return slices.Contains(d.Labels, l) })
	default:
		return
	}
	it.Version = e.Version
	if it.CreatedAt.IsZero() {
		it.CreatedAt = e.Time
	}
	it.UpdatedAt = e.Time
}

// WorkItem is the work item aggregate. Its commands check the rules and
// raise events; a command that would change nothing raises none.
type WorkItem struct {
	es.Root
	item Item
}

var (
	_ es.Aggregate   = (*WorkItem)(nil)
	_ es.Snapshotter = (*WorkItem)(nil)
)

// NewWorkItem returns an empty work item aggregate, for a repository.
func NewWorkItem() *WorkItem { return &WorkItem{} }

// Apply implements es.Aggregate.
func (w *WorkItem) Apply(e es.Envelope) { w.item.Apply(e) }

// Item returns a copy of the item's current state.
func (w *WorkItem) Item() Item {
	it := w.item
	it.ID, it.Version = w.ID(), w.Version()
	it.CreatedAt, it.UpdatedAt = w.CreatedAt(), w.UpdatedAt()
	it.Comments = slices.Clone(it.Comments)
	it.Blockers = slices.Clone(it.Blockers)
	it.Labels = slices.Clone(it.Labels)
	return it
}

// Status returns the item's status.
func (w *WorkItem) Status() Status { return w.item.Status }

// Assignee returns the agent the item is assigned to, or "".
func (w *WorkItem) Assignee() string { return w.item.Assignee }

// Blockers returns the IDs of the items that block this one.
func (w *WorkItem) Blockers() []string { return slices.Clone(w.item.Blockers) }

// MarshalSnapshot implements es.Snapshotter.
func (w *WorkItem) MarshalSnapshot() ([]byte, error) { return json.Marshal(w.item) }

// UnmarshalSnapshot implements es.Snapshotter.
func (w *WorkItem) UnmarshalSnapshot(state []byte) error { return json.Unmarshal(state, &w.item) }

// NewItem holds what a new work item is created with. Empty Type and
// Priority mean task and medium.
type NewItem struct {
	Title       string
	Description string
	Type        ItemType
	Priority    Priority
	Initiative  string
	// Labels are put on the item as it is created (see [WorkItem.Label]).
	Labels []string
}

// Create records the creation of the item. The aggregate must be new.
func (w *WorkItem) Create(n NewItem) error {
	if w.item.Status != "" {
		return fmt.Errorf("%w: %s already exists", ErrInvalidTransition, w.ID())
	}
	title := strings.TrimSpace(n.Title)
	if title == "" {
		return ErrEmptyTitle
	}
	if n.Type == "" {
		n.Type = Task
	}
	typ, err := ParseType(string(n.Type))
	if err != nil {
		return err
	}
	if n.Priority == "" {
		n.Priority = Medium
	}
	prio, err := ParsePriority(string(n.Priority))
	if err != nil {
		return err
	}
	n.Type, n.Priority = typ, prio
	labels, err := parseLabels(n.Labels)
	if err != nil {
		return err
	}
	es.Raise(w, ItemCreated{Title: title, Description: n.Description, Type: n.Type, Priority: n.Priority, Initiative: n.Initiative})
	if len(labels) > 0 {
		es.Raise(w, Labeled{Labels: labels})
	}
	return nil
}

// BlockerStatus tells a command the status of another item: ok is false if
// the item is unknown.
type BlockerStatus func(id string) (s Status, ok bool)

// ChangeStatus moves the item to status to. Moving to the status it has
// records nothing. A done or cancelled item is left only by [WorkItem.Reopen].
// Moving to in_progress needs every blocker done: blockers reports their
// statuses (nil means the item has none to check).
func (w *WorkItem) ChangeStatus(to Status, reason string, blockers BlockerStatus) error {
	if !slices.Contains(Statuses, to) {
		return invalidf(ErrInvalidStatus, "%q", to)
	}
	from := w.item.Status
	if to == from {
		return nil
	}
	if from.Closed() {
		return fmt.Errorf("%w: %s is %s; reopen it first", ErrInvalidTransition, w.ID(), from)
	}
	if to == InProgress {
		var open []string
		for _, b := range w.item.Blockers {
			s, ok := Status(""), false
			if blockers != nil {
				s, ok = blockers(b)
			}
			if !ok || s != Done {
				open = append(open, b)
			}
		}
		if len(open) > 0 {
			return fmt.Errorf("%w: %s cannot start until %s done", ErrBlocked, w.ID(), joinIDs(open))
		}
	}
	es.Raise(w, StatusChanged{From: from, To: to, Reason: strings.TrimSpace(reason)})
	return nil
}

func joinIDs(ids []string) string {
	if len(ids) == 1 {
		return ids[0] + " is"
	}
	return strings.Join(ids, ", ") + " are"
}

// Reopen moves a done or cancelled item back to backlog.
func (w *WorkItem) Reopen(reason string) error {
	if !w.item.Status.Closed() {
		return fmt.Errorf("%w: %s is %s, not done or cancelled", ErrInvalidTransition, w.ID(), w.item.Status)
	}
	es.Raise(w, Reopened{From: w.item.Status, Reason: strings.TrimSpace(reason)})
	return nil
}

// Edit holds the fields to change; nil means leave as is.
type Edit struct {
	Title       *string
	Description *string
	Type        *ItemType
	Priority    *Priority
}

// Edit changes the given fields. Fields set to their current value are not
// recorded; if none changes, nothing is.
func (w *WorkItem) Edit(e Edit) error {
	var changes []FieldChange
	if e.Title != nil {
		t := strings.TrimSpace(*e.Title)
		if t == "" {
			return ErrEmptyTitle
		}
		if t != w.item.Title {
			changes = append(changes, FieldChange{"title", w.item.Title, t})
		}
	}
	if e.Description != nil && *e.Description != w.item.Description {
		changes = append(changes, FieldChange{"description", w.item.Description, *e.Description})
	}
	if e.Type != nil {
		t, err := ParseType(string(*e.Type))
		if err != nil {
			return err
		}
		if t != w.item.Type {
			changes = append(changes, FieldChange{"type", string(w.item.Type), string(t)})
		}
	}
	if e.Priority != nil {
		p, err := ParsePriority(string(*e.Priority))
		if err != nil {
			return err
		}
		if p != w.item.Priority {
			changes = append(changes, FieldChange{"priority", string(w.item.Priority), string(p)})
		}
	}
	if len(changes) > 0 {
		es.Raise(w, ItemEdited{Changes: changes})
	}
	return nil
}

// Assign gives the item to agent, whoever holds it; an empty agent
// unassigns it.
func (w *WorkItem) Assign(agent string) error {
	agent = strings.TrimSpace(agent)
	if agent == w.item.Assignee {
		return nil
	}
	es.Raise(w, Assigned{Assignee: agent, Previous: w.item.Assignee})
	return nil
}

// Claim assigns the item to actor. It fails with [ErrClaimed] if another
// agent holds it, and with [ErrInvalidTransition] if the item is done or
// cancelled. Claiming an item one already holds records nothing.
func (w *WorkItem) Claim(actor string) error {
	actor = strings.TrimSpace(actor)
	if actor == "" {
		return invalidf(ErrInvalidInput, "claim needs an actor")
	}
	switch holder := w.item.Assignee; {
	case holder == actor:
		return nil
	case holder != "":
		return fmt.Errorf("%w: %s is held by %s", ErrClaimed, w.ID(), holder)
	case w.item.Status.Closed():
		return fmt.Errorf("%w: %s is %s", ErrInvalidTransition, w.ID(), w.item.Status)
	}
	es.Raise(w, Claimed{Assignee: actor})
	return nil
}

// Release gives up actor's hold on the item. Releasing an unassigned item
// records nothing; releasing one that another agent holds fails with
// [ErrClaimed] unless force is set.
func (w *WorkItem) Release(actor string, force bool) error {
	holder := w.item.Assignee
	switch {
	case holder == "":
		return nil
	case holder != strings.TrimSpace(actor) && !force:
		return fmt.Errorf("%w: %s is held by %s", ErrClaimed, w.ID(), holder)
	}
	es.Raise(w, Released{Previous: holder})
	return nil
}

// Comment adds a comment by author.
func (w *WorkItem) Comment(author, text string) error {
	if strings.TrimSpace(text) == "" {
		return ErrEmptyComment
	}
	es.Raise(w, Commented{Author: author, Text: text})
	return nil
}

// SetInitiative records the item joining initiative id ("" to leave its
// initiative). The application layer records the initiative's side.
func (w *WorkItem) SetInitiative(id string) error {
	if id == w.item.Initiative {
		return nil
	}
	es.Raise(w, InitiativeChanged{Initiative: id, Previous: w.item.Initiative})
	return nil
}

// Initiative returns the ID of the item's initiative, or "".
func (w *WorkItem) Initiative() string { return w.item.Initiative }

// AddBlocker records that the item cannot start until blocker is done. An
// item cannot block itself; adding a blocker twice records nothing.
func (w *WorkItem) AddBlocker(blocker string) error {
	if blocker == w.ID() {
		return fmt.Errorf("%w: %s", ErrSelfBlock, blocker)
	}
	if slices.Contains(w.item.Blockers, blocker) {
		return nil
	}
	es.Raise(w, BlockerAdded{Blocker: blocker})
	return nil
}

// RemoveBlocker removes blocker from the item's blockers. It fails with
// [ErrNotBlocker] if blocker is not one.
func (w *WorkItem) RemoveBlocker(blocker string) error {
	if !slices.Contains(w.item.Blockers, blocker) {
		return fmt.Errorf("%w: %s does not block %s", ErrNotBlocker, blocker, w.ID())
	}
	es.Raise(w, BlockerRemoved{Blocker: blocker})
	return nil
}

// Labels returns the item's labels, sorted.
func (w *WorkItem) Labels() []string { return slices.Clone(w.item.Labels) }

// Label puts labels on the item. Each is normalised by [ParseLabel]; one
// that is not a label is refused with [ErrInvalidLabel] and nothing is
// recorded. Labels the item has already record nothing; if it has them all,
// nothing is recorded.
func (w *WorkItem) Label(labels ...string) error {
	ls, err := parseLabels(labels)
	if err != nil {
		return err
	}
	ls = slices.DeleteFunc(ls, func(l string) bool { _, found := slices.BinarySearch(w.item.Labels, l); return found })
	if len(ls) > 0 {
		es.Raise(w, Labeled{Labels: ls})
	}
	return nil
}

// Unlabel takes labels off the item. Each is normalised by [ParseLabel];
// labels the item does not have record nothing.
func (w *WorkItem) Unlabel(labels ...string) error {
	ls, err := parseLabels(labels)
	if err != nil {
		return err
	}
	ls = slices.DeleteFunc(ls, func(l string) bool { _, found := slices.BinarySearch(w.item.Labels, l); return !found })
	if len(ls) > 0 {
		es.Raise(w, Unlabeled{Labels: ls})
	}
	return nil
}

// MaxLabelLen is the longest label in bytes.
const MaxLabelLen = 50

// ParseLabel returns label normalised: trimmed and in lower case. A label is
// 1 to [MaxLabelLen] bytes of letters, digits and "-_.:/", and starts with a
// letter or a digit; anything else is an error matching [ErrInvalidLabel].
// Commas and spaces are refused so that a list of labels can be written
// "a,b" on a command line.
func ParseLabel(label string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(label))
	if l == "" || len(l) > MaxLabelLen {
		return "", invalidf(ErrInvalidLabel, "%q (want 1 to %d letters, digits or -_.:/)", label, MaxLabelLen)
	}
	for i, r := range l {
		ok := unicode.IsLetter(r) || unicode.IsDigit(r) || (i > 0 && strings.ContainsRune("-_.:/", r))
		if !ok {
			return "", invalidf(ErrInvalidLabel, "%q (want letters, digits or -_.:/, starting with a letter or digit)", label)
		}
	}
	return l, nil
}

// parseLabels normalises labels, sorted and without duplicates.
func parseLabels(labels []string) ([]string, error) {
	out := make([]string, 0, len(labels))
	for _, l := range labels {
		n, err := ParseLabel(l)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
