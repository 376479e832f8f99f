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
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Type        ItemType `json:"type"`
	Status      Status   `json:"status"`
	// StatusReason is the reason given with the last change of status.
	StatusReason string    `json:"status_reason,omitempty"`
	Priority     Priority  `json:"priority"`
	Assignee     string    `json:"assignee,omitempty"`
	Initiative   string    `json:"initiative,omitempty"`
	Comments     []Comment `json:"comments,omitempty"`
	// Blockers are the items that must be done before this one can start,
	// in the order they were added.
	Blockers []string `json:"blockers,omitempty"`
	// Labels are the item's labels, normalised and sorted.
	Labels []string `json:"labels,omitempty"`
	// Claim is the assignee's hold on the item, nil when unassigned.
	Claim     *Claim    `json:"claim,omitempty"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Apply folds one event into it: its data, and its version and time. Events
// that are not a work item's are ignored. An event whose actor (its
// metadata's) holds the item's claim renews the claim.
func (it *Item) Apply(e es.Envelope) {
	switch d := e.Data.(type) {
	case ItemCreated:
		it.Title, it.Description, it.Type, it.Priority = d.Title, d.Description, d.Type, d.Priority
		it.Initiative, it.Status = d.Initiative, Backlog
	case StatusChanged:
		it.Status, it.StatusReason = d.To, d.Reason
	case Reopened:
		it.Status, it.StatusReason = Backlog, d.Reason
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
		it.hold(d.Assignee, d.Lease, e.Time)
	case Claimed:
		it.hold(d.Assignee, d.Lease, e.Time)
	case Released:
		it.hold("", 0, e.Time)
	case HeartbeatRecorded:
		if it.Claim != nil && d.Lease != 0 {
			it.Claim.Lease = d.Lease
		}
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
	if it.Claim != nil && e.Metadata.Actor == it.Claim.Holder {
		it.Claim.Renewed = e.Time
	}
	it.Version = e.Version
	if it.CreatedAt.IsZero() {
		it.CreatedAt = e.Time
	}
	it.UpdatedAt = e.Time
}

// hold gives the item to agent with a new claim from t ("" to unassign).
func (it *Item) hold(agent string, lease Duration, t time.Time) {
	it.Assignee = agent
	if agent == "" {
		it.Claim = nil
		return
	}
	if lease <= 0 {
		lease = Duration(DefaultLease)
	}
	it.Claim = &Claim{Holder: agent, Since: t, Renewed: t, Lease: lease}
}

// Holder returns the agent whose claim holds the item at t: a claim holds
// until it expires, and not on a done or cancelled item.
func (it Item) Holder(t time.Time) (string, bool) {
	if it.Claim == nil || it.Claim.Expired(t) || it.Status.Closed() {
		return "", false
	}
	return it.Claim.Holder, true
}

// Available reports whether an agent may pick the item up at t, blockers
// aside: it is open, not set to blocked by hand, and either unassigned in
// backlog or ready, or held by a claim that has expired (the agent that held
// it is gone; its item goes back to the pool whatever its status).
func (it Item) Available(t time.Time) bool {
	if it.Status.Closed() || it.Status == Blocked {
		return false
	}
	if it.Claim != nil {
		return it.Claim.Expired(t)
	}
	return it.Assignee == "" && (it.Status == Backlog || it.Status == Ready)
}

// WorkItem is the work item aggregate. Its commands check the rules and
// raise events; a command that would change nothing raises none.
type WorkItem struct {
	es.Root
	item Item
	// actor is who runs the current command: the actor of the events it
	// raises, which have no metadata until they are saved.
	actor string
}

var (
	_ es.Aggregate   = (*WorkItem)(nil)
	_ es.Snapshotter = (*WorkItem)(nil)
)

// NewWorkItem returns an empty work item aggregate, for a repository.
func NewWorkItem() *WorkItem { return &WorkItem{} }

// Apply implements es.Aggregate.
func (w *WorkItem) Apply(e es.Envelope) {
	if e.Metadata.Actor == "" {
		e.Metadata.Actor = w.actor
	}
	w.item.Apply(e)
}

// Item returns a copy of the item's current state.
func (w *WorkItem) Item() Item {
	it := w.item
	it.ID, it.Version = w.ID(), w.Version()
	it.CreatedAt, it.UpdatedAt = w.CreatedAt(), w.UpdatedAt()
	it.Comments = slices.Clone(it.Comments)
	it.Blockers = slices.Clone(it.Blockers)
	it.Labels = slices.Clone(it.Labels)
	if it.Claim != nil {
		c := *it.Claim
		it.Claim = &c
	}
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

// begin starts a command run by act: the events it raises are act.Actor's.
func (w *WorkItem) begin(act Act) { w.SetActor(act.Actor) }

// SetActor says who runs the commands that follow: the actor their events
// will carry in their metadata once saved. The state applies them as that
// actor's at once, so that a write by a claim's holder renews the claim in
// the state (and its snapshots) exactly as a replay of the stored events
// does. Commands that take an [Act] set it themselves; callers set it for
// the others (comments, blocks, membership).
func (w *WorkItem) SetActor(actor string) { w.actor = strings.TrimSpace(actor) }

// bound refuses a command by act while another agent's claim holds the
// item, unless act.Force.
func (w *WorkItem) bound(act Act) error {
	holder, ok := w.item.Holder(act.Now)
	if !ok || holder == strings.TrimSpace(act.Actor) || act.Force {
		return nil
	}
	c := w.item.Claim
	return &ClaimedError{ID: w.ID(), Holder: holder, Since: c.Since, ExpiresAt: c.ExpiresAt()}
}

// needsBlockersDone lists the statuses an item with open blockers cannot
// move to.
func needsBlockersDone(s Status) bool { return s == InProgress || s == Ready || s == Done }

// openBlockers returns the item's blockers that are not done, as blockers
// reports them (an unknown one is open, with only its ID).
func (w *WorkItem) openBlockers(blockers Blockers) []BlockerState {
	var open []BlockerState
	for _, id := range w.item.Blockers {
		b, ok := BlockerState{ID: id}, false
		if blockers != nil {
			b, ok = blockers(id)
			b.ID = id
		}
		if !ok || b.Open() {
			open = append(open, b)
		}
	}
	return open
}

// ChangeStatus moves the item to status to. Moving to the status it has
// records nothing. A done or cancelled item is left only by [WorkItem.Reopen].
// While another agent's claim holds the item it fails with a
// [*ClaimedError]; moving to in_progress, ready or done while a blocker is
// not done fails with a [*BlockedError] (blockers reports their state; nil
// means none is known). act.Force overrides both.
func (w *WorkItem) ChangeStatus(to Status, reason string, act Act, blockers Blockers) error {
	w.begin(act)
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
	if err := w.bound(act); err != nil {
		return err
	}
	if needsBlockersDone(to) && !act.Force {
		if open := w.openBlockers(blockers); len(open) > 0 {
			return &BlockedError{Item: w.ID(), To: to, Blockers: open}
		}
	}
	es.Raise(w, StatusChanged{From: from, To: to, Reason: strings.TrimSpace(reason)})
	return nil
}

// Reopen moves a done or cancelled item back to backlog, unassigned: back
// in the pool, where ready finds it. Reopening an open item records nothing.
func (w *WorkItem) Reopen(reason string, act Act) error {
	w.begin(act)
	if !w.item.Status.Closed() {
		return nil
	}
	reason = strings.TrimSpace(reason)
	es.Raise(w, Reopened{From: w.item.Status, Reason: reason})
	if w.item.Assignee != "" {
		es.Raise(w, Released{Previous: w.item.Assignee, Reason: "reopened"})
	}
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
// recorded; if none changes, nothing is. While another agent's claim holds
// the item it fails with a [*ClaimedError] unless act.Force.
func (w *WorkItem) Edit(e Edit, act Act) error {
	w.begin(act)
	if err := w.bound(act); err != nil {
		return err
	}
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

// Assign gives the item to agent, who then holds it as a claim for lease
// (DefaultLease if zero); an empty agent unassigns it. While another
// agent's claim holds the item it fails with a [*ClaimedError] unless
// act.Force (the holder may hand the item on).
func (w *WorkItem) Assign(agent string, lease time.Duration, act Act) error {
	w.begin(act)
	agent = strings.TrimSpace(agent)
	if agent == w.item.Assignee {
		if c := w.item.Claim; agent == "" || c == nil || !c.Expired(act.Now) {
			return nil // already in effect
		}
	}
	if err := w.bound(act); err != nil {
		return err
	}
	if lease < 0 {
		return invalidf(ErrInvalidInput, "negative lease %s", lease)
	}
	if agent == "" {
		es.Raise(w, Assigned{Previous: w.item.Assignee})
		return nil
	}
	es.Raise(w, Assigned{Assignee: agent, Previous: w.item.Assignee, Lease: leaseOrDefault(lease)})
	return nil
}

func leaseOrDefault(lease time.Duration) Duration {
	if lease <= 0 {
		return Duration(DefaultLease)
	}
	return Duration(lease)
}

// Claim gives the item to act.Actor for lease after the actor's last write
// (DefaultLease if zero). It fails with a [*ClaimedError] if another agent's
// claim holds it (act.Force takes it over all the same), and with
// [ErrInvalidTransition] if the item is done or cancelled. A claim that has
// expired is taken over, recording who held it and since when. Claiming an
// item one already holds renews the claim (and sets its lease) without a
// second claim.
func (w *WorkItem) Claim(act Act, lease time.Duration) error {
	w.begin(act)
	actor := w.actor
	switch {
	case actor == "":
		return invalidf(ErrInvalidInput, "claim needs an actor")
	case lease < 0:
		return invalidf(ErrInvalidInput, "negative lease %s", lease)
	case w.item.Status.Closed():
		return fmt.Errorf("%w: %s is %s", ErrInvalidTransition, w.ID(), w.item.Status)
	}
	if c := w.item.Claim; c != nil && c.Holder == actor && !c.Expired(act.Now) {
		if lease > 0 && Duration(lease) != c.Lease {
			es.Raise(w, HeartbeatRecorded{Lease: Duration(lease)})
		}
		return nil
	}
	if err := w.bound(act); err != nil {
		return err
	}
	ev := Claimed{Assignee: actor, Lease: leaseOrDefault(lease)}
	if c := w.item.Claim; c != nil && c.Holder != actor {
		ev.Previous, ev.PreviousSince = c.Holder, c.Since
	} else if w.item.Assignee != "" && w.item.Assignee != actor {
		ev.Previous = w.item.Assignee
	}
	es.Raise(w, ev)
	return nil
}

// Pick claims the item for act.Actor and moves it to in_progress in one
// step, so that one save stores both: what `ready --claim` and
// `claim --start` do. It fails as [WorkItem.Claim] and
// [WorkItem.ChangeStatus] do, with nothing raised.
func (w *WorkItem) Pick(act Act, lease time.Duration, blockers Blockers) error {
	if w.item.Status != InProgress && !act.Force {
		if open := w.openBlockers(blockers); len(open) > 0 {
			return &BlockedError{Item: w.ID(), To: InProgress, Blockers: open}
		}
	}
	if err := w.Claim(act, lease); err != nil {
		return err
	}
	// The claim makes act.Actor the holder, so the status change is bound
	// by nothing but the rules on statuses, checked before the claim.
	return w.ChangeStatus(InProgress, "picked up", act, blockers)
}

// Heartbeat renews act.Actor's claim without changing anything else; a
// non-zero lease replaces the claim's lease. It fails with a
// [*ClaimedError] if another agent's claim holds the item, and with
// [ErrInvalidTransition] if act.Actor holds no claim on it (an expired claim
// of act.Actor's own is renewed, as any write of its would).
func (w *WorkItem) Heartbeat(act Act, lease time.Duration) error {
	w.begin(act)
	if lease < 0 {
		return invalidf(ErrInvalidInput, "negative lease %s", lease)
	}
	if err := w.bound(act); err != nil && !act.Force {
		return err
	}
	c := w.item.Claim
	if c == nil || c.Holder != w.actor || w.item.Status.Closed() {
		return fmt.Errorf("%w: %s holds no claim on %s", ErrInvalidTransition, w.actor, w.ID())
	}
	var d Duration
	if lease > 0 {
		d = Duration(lease)
	}
	es.Raise(w, HeartbeatRecorded{Lease: d})
	return nil
}

// Release gives up the claim on the item and puts it back in the pool: an
// item in progress goes back to backlog. Releasing an unassigned item
// records nothing; releasing one that another agent's unexpired claim holds
// fails with a [*ClaimedError] unless act.Force.
func (w *WorkItem) Release(reason string, act Act) error {
	w.begin(act)
	holder := w.item.Assignee
	if holder == "" {
		return nil
	}
	if err := w.bound(act); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	es.Raise(w, Released{Previous: holder, Reason: reason})
	if w.item.Status == InProgress {
		es.Raise(w, StatusChanged{From: InProgress, To: Backlog, Reason: "released"})
	}
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

// RemoveBlocker removes blocker from the item's blockers. Removing an item
// that is not a blocker records nothing: the change is already in effect.
func (w *WorkItem) RemoveBlocker(blocker string) error {
	if !slices.Contains(w.item.Blockers, blocker) {
		return nil
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
