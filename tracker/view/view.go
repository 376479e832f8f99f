// Package view holds the JSON shapes in which every face of jerry shows
// work items, initiatives, histories and log records: the jerry command's
// --json output and the HTTP API's bodies are the same documents. The
// shapes are a contract documented in docs/json.md (cmd/jerry's
// TestJSONShapesMatchDocs holds them to it, and tracker/httpapi's
// TestHTTPDocs holds docs/http.md's examples of them): add no field
// without updating both. Span is how the faces that draw for people (the
// jerry command's tables, the web board) print a duration.
package view

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// Item is a work item: docs/json.md ## item.
type Item struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Type        string    `json:"type"`
	Status      string    `json:"status"`
	Priority    string    `json:"priority"`
	Assignee    string    `json:"assignee"`
	Initiative  string    `json:"initiative"`
	Labels      []string  `json:"labels"`
	Comments    []Comment `json:"comments"`
	Blockers    []Ref     `json:"blockers"`
	Blocks      []Ref     `json:"blocks"`
	Claim       *Claim    `json:"claim,omitempty"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Ref is another work item as an item shows it: a blocker, or an item that
// waits on it.
type Ref struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Status   string `json:"status"`
	Assignee string `json:"assignee"`
}

// Claim is an item's claim at the moment shown.
type Claim struct {
	Holder    string    `json:"holder"`
	Since     time.Time `json:"since"`
	ExpiresAt time.Time `json:"expires_at"`
	Expired   bool      `json:"expired"`
}

// Comment is a remark on a work item.
type Comment struct {
	Author string    `json:"author"`
	Time   time.Time `json:"time"`
	Text   string    `json:"text"`
}

// Refs shows blocker states as refs; an unknown item's status is "unknown".
func Refs(bs []tracker.BlockerState) []Ref {
	out := make([]Ref, len(bs))
	for i, b := range bs {
		out[i] = Ref{ID: b.ID, Title: b.Title, Status: string(b.Status), Assignee: b.Assignee}
		if b.Status == "" {
			out[i].Status = "unknown"
		}
	}
	return out
}

// CardItem is a card's item: the item, its blockers and the items waiting
// on it, and its claim, at the card's moment.
func CardItem(c app.Card) Item {
	v := ItemOf(c.Item)
	v.Blockers, v.Blocks = Refs(c.Blockers), Refs(c.Blocks)
	v.Claim = ClaimOf(c.Claim)
	return v
}

// CardItems shows cards as items.
func CardItems(cards []app.Card) []Item {
	out := make([]Item, len(cards))
	for i, c := range cards {
		out[i] = CardItem(c)
	}
	return out
}

// ClaimOf shows a claim state; nil for none.
func ClaimOf(cl *app.ClaimState) *Claim {
	if cl == nil {
		return nil
	}
	return &Claim{Holder: cl.Holder, Since: cl.Since.UTC(), ExpiresAt: cl.ExpiresAt.UTC(), Expired: cl.Expired}
}

// ItemOf shows an item without its card: blockers by ID only, status
// "unknown", and no claim.
func ItemOf(it tracker.Item) Item {
	cs := make([]Comment, len(it.Comments))
	for i, c := range it.Comments {
		cs[i] = Comment{Author: c.Author, Time: c.Time.UTC(), Text: c.Text}
	}
	bs := make([]Ref, len(it.Blockers))
	for i, b := range it.Blockers {
		bs[i] = Ref{ID: b, Status: "unknown"}
	}
	labels := it.Labels
	if labels == nil {
		labels = []string{}
	}
	return Item{ID: it.ID, Title: it.Title, Description: it.Description, Type: string(it.Type),
		Status: string(it.Status), Priority: string(it.Priority), Assignee: it.Assignee, Initiative: it.Initiative,
		Labels: labels, Comments: cs, Blockers: bs, Blocks: []Ref{}, Version: it.Version, CreatedAt: it.CreatedAt.UTC(), UpdatedAt: it.UpdatedAt.UTC()}
}

// Stuck is an item that cannot move now, and why: docs/json.md ## stuck item.
type Stuck struct {
	Item
	Why Why `json:"why"`
}

// Why says why a stuck item cannot move.
type Why struct {
	Blockers     []Ref  `json:"blockers"`
	Manual       bool   `json:"manual"`
	Reason       string `json:"reason"`
	ClaimExpired bool   `json:"claim_expired"`
}

// StuckItems shows what app.Service.Blocked found.
func StuckItems(stuck []app.Stuck) []Stuck {
	out := make([]Stuck, len(stuck))
	for i, s := range stuck {
		v := ItemOf(s.Item)
		v.Blockers = Refs(s.Why.Blockers)
		v.Claim = ClaimOf(s.Claim)
		out[i] = Stuck{Item: v, Why: Why{Blockers: Refs(s.Why.Blockers), Manual: s.Why.Manual,
			Reason: s.Why.Reason, ClaimExpired: s.Why.Expired}}
	}
	return out
}

// Initiative is an initiative: docs/json.md ## initiative.
type Initiative struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Status      string    `json:"status"`
	Members     []string  `json:"members"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// InitiativeOf shows an initiative's state.
func InitiativeOf(s tracker.InitiativeState) Initiative {
	m := s.Members
	if m == nil {
		m = []string{}
	}
	return Initiative{ID: s.ID, Title: s.Title, Description: s.Description, Status: string(s.Status),
		Members: m, Version: s.Version, CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
}

// Initiatives shows a list of initiatives.
func Initiatives(list []tracker.InitiativeState) []Initiative {
	out := make([]Initiative, len(list))
	for i, in := range list {
		out[i] = InitiativeOf(in)
	}
	return out
}

// InitiativeDetail is an initiative with its members' states and its
// progress: docs/json.md ## initiative detail.
type InitiativeDetail struct {
	Initiative
	MemberStates []Ref    `json:"member_states"`
	Progress     Progress `json:"progress"`
}

// Progress counts an initiative's members by where they stand.
type Progress struct {
	Total     int `json:"total"`
	Done      int `json:"done"`
	Cancelled int `json:"cancelled"`
	Open      int `json:"open"`
}

// InitiativeDetailOf shows an initiative with its members.
func InitiativeDetailOf(in tracker.InitiativeState, members []app.Member) InitiativeDetail {
	n := app.CountMembers(members)
	out := InitiativeDetail{Initiative: InitiativeOf(in), MemberStates: make([]Ref, len(members)),
		Progress: Progress{Total: n.Total, Done: n.Done, Cancelled: n.Cancelled, Open: n.Open}}
	for i, m := range members {
		it := m.Item
		out.MemberStates[i] = Ref{ID: it.ID, Title: it.Title, Status: string(it.Status), Assignee: it.Assignee}
		if m.Err != nil {
			out.MemberStates[i].Status = "unknown"
		}
	}
	return out
}

// HistoryEntry is one event of a stream: docs/json.md ## history entry.
type HistoryEntry struct {
	Version  int64           `json:"version"`
	Position int64           `json:"position"`
	Type     string          `json:"type"`
	Time     time.Time       `json:"time"`
	Actor    string          `json:"actor"`
	Forced   bool            `json:"forced"`
	Data     json.RawMessage `json:"data"`
}

// History shows a history.
func History(h []app.Entry) []HistoryEntry {
	out := make([]HistoryEntry, len(h))
	for i, e := range h {
		r := e.Record
		out[i] = HistoryEntry{Version: r.Version, Position: r.Position, Type: r.Type, Time: r.Time, Actor: r.Metadata.Actor, Forced: app.Forced(r.Metadata), Data: r.Data}
	}
	return out
}

// LogRecord is one event of the global log: docs/json.md ## log record.
type LogRecord struct {
	Position int64           `json:"position"`
	Stream   string          `json:"stream"`
	Version  int64           `json:"version"`
	Type     string          `json:"type"`
	Time     time.Time       `json:"time"`
	ID       uuid.UUID       `json:"id"`
	Data     json.RawMessage `json:"data"`
	Metadata es.Metadata     `json:"metadata"`
}

// LogRecordOf shows a record of the log.
func LogRecordOf(r es.Record) LogRecord {
	return LogRecord{Position: r.Position, Stream: r.Stream, Version: r.Version, Type: r.Type, Time: r.Time, ID: r.ID, Data: r.Data, Metadata: r.Metadata}
}

// Span prints a duration as people read a cycle time: 3d 4h, 5h 12m,
// 4m 10s, 1.5s.
func Span(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd %dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh %dm", d/time.Hour, d%time.Hour/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm %ds", d/time.Minute, d%time.Minute/time.Second)
	}
	return d.Round(time.Millisecond).String()
}
