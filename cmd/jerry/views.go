package main

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// The --json shapes. Their fields are a contract, documented in
// docs/json.md (TestJSONShapesMatchDocs holds the two together): add none
// without updating it.

type itemJSON struct {
	ID          string        `json:"id"`
	Title       string        `json:"title"`
	Description string        `json:"description"`
	Type        string        `json:"type"`
	Status      string        `json:"status"`
	Priority    string        `json:"priority"`
	Assignee    string        `json:"assignee"`
	Initiative  string        `json:"initiative"`
	Labels      []string      `json:"labels"`
	Comments    []commentJSON `json:"comments"`
	Blockers    []refJSON     `json:"blockers"`
	Blocks      []refJSON     `json:"blocks"`
	Claim       *claimJSON    `json:"claim,omitempty"`
	Version     int64         `json:"version"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
}

// refJSON is another work item as an item shows it: a blocker, or an item
// that waits on it.
type refJSON struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Status   string `json:"status"`
	Assignee string `json:"assignee"`
}

type claimJSON struct {
	Holder    string    `json:"holder"`
	Since     time.Time `json:"since"`
	ExpiresAt time.Time `json:"expires_at"`
	Expired   bool      `json:"expired"`
}

func refViews(bs []tracker.BlockerState) []refJSON {
	out := make([]refJSON, len(bs))
	for i, b := range bs {
		out[i] = refJSON{ID: b.ID, Title: b.Title, Status: string(b.Status), Assignee: b.Assignee}
		if b.Status == "" {
			out[i].Status = "unknown"
		}
	}
	return out
}

// cardView is the --json shape of a work item: the item, its blockers and
// the items waiting on it, and its claim, at the card's moment.
func cardView(c app.Card) itemJSON {
	v := itemView(c.Item)
	v.Blockers, v.Blocks = refViews(c.Blockers), refViews(c.Blocks)
	v.Claim = claimView(c.Claim)
	return v
}

func claimView(cl *app.ClaimState) *claimJSON {
	if cl == nil {
		return nil
	}
	return &claimJSON{Holder: cl.Holder, Since: cl.Since.UTC(), ExpiresAt: cl.ExpiresAt.UTC(), Expired: cl.Expired}
}

func cardViews(cards []app.Card) []itemJSON {
	out := make([]itemJSON, len(cards))
	for i, c := range cards {
		out[i] = cardView(c)
	}
	return out
}

// stuckJSON is an item that cannot move now, and why.
type stuckJSON struct {
	itemJSON
	Why whyJSON `json:"why"`
}

type whyJSON struct {
	Blockers     []refJSON `json:"blockers"`
	Manual       bool      `json:"manual"`
	Reason       string    `json:"reason"`
	ClaimExpired bool      `json:"claim_expired"`
}

func stuckViews(stuck []app.Stuck) []stuckJSON {
	out := make([]stuckJSON, len(stuck))
	for i, s := range stuck {
		v := itemView(s.Item)
		v.Blockers = refViews(s.Why.Blockers)
		v.Claim = claimView(s.Claim)
		out[i] = stuckJSON{itemJSON: v, Why: whyJSON{Blockers: refViews(s.Why.Blockers), Manual: s.Why.Manual,
			Reason: s.Why.Reason, ClaimExpired: s.Why.Expired}}
	}
	return out
}

type commentJSON struct {
	Author string    `json:"author"`
	Time   time.Time `json:"time"`
	Text   string    `json:"text"`
}

func itemView(it tracker.Item) itemJSON {
	cs := make([]commentJSON, len(it.Comments))
	for i, c := range it.Comments {
		cs[i] = commentJSON{Author: c.Author, Time: c.Time.UTC(), Text: c.Text}
	}
	bs := make([]refJSON, len(it.Blockers))
	for i, b := range it.Blockers {
		bs[i] = refJSON{ID: b, Status: "unknown"}
	}
	labels := it.Labels
	if labels == nil {
		labels = []string{}
	}
	return itemJSON{ID: it.ID, Title: it.Title, Description: it.Description, Type: string(it.Type),
		Status: string(it.Status), Priority: string(it.Priority), Assignee: it.Assignee, Initiative: it.Initiative,
		Labels: labels, Comments: cs, Blockers: bs, Blocks: []refJSON{}, Version: it.Version, CreatedAt: it.CreatedAt.UTC(), UpdatedAt: it.UpdatedAt.UTC()}
}

type initiativeJSON struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Status      string    `json:"status"`
	Members     []string  `json:"members"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func initiativeView(s tracker.InitiativeState) initiativeJSON {
	m := s.Members
	if m == nil {
		m = []string{}
	}
	return initiativeJSON{ID: s.ID, Title: s.Title, Description: s.Description, Status: string(s.Status),
		Members: m, Version: s.Version, CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
}

// initiativeDetailJSON is what initiative show gives: the initiative, its
// members' states and its progress.
type initiativeDetailJSON struct {
	initiativeJSON
	MemberStates []refJSON    `json:"member_states"`
	Progress     progressJSON `json:"progress"`
}

// progressJSON counts an initiative's members by where they stand.
type progressJSON struct {
	Total     int `json:"total"`
	Done      int `json:"done"`
	Cancelled int `json:"cancelled"`
	Open      int `json:"open"`
}

func initiativeDetailView(in tracker.InitiativeState, members []app.Member) initiativeDetailJSON {
	n := app.CountMembers(members)
	out := initiativeDetailJSON{initiativeJSON: initiativeView(in), MemberStates: make([]refJSON, len(members)),
		Progress: progressJSON{Total: n.Total, Done: n.Done, Cancelled: n.Cancelled, Open: n.Open}}
	for i, m := range members {
		it := m.Item
		out.MemberStates[i] = refJSON{ID: it.ID, Title: it.Title, Status: string(it.Status), Assignee: it.Assignee}
		if m.Err != nil {
			out.MemberStates[i].Status = "unknown"
		}
	}
	return out
}

func initiativeViews(list []tracker.InitiativeState) []initiativeJSON {
	out := make([]initiativeJSON, len(list))
	for i, in := range list {
		out[i] = initiativeView(in)
	}
	return out
}

type historyJSON struct {
	Version  int64           `json:"version"`
	Position int64           `json:"position"`
	Type     string          `json:"type"`
	Time     time.Time       `json:"time"`
	Actor    string          `json:"actor"`
	Forced   bool            `json:"forced"`
	Data     json.RawMessage `json:"data"`
}

func historyView(h []app.Entry) []historyJSON {
	out := make([]historyJSON, len(h))
	for i, e := range h {
		r := e.Record
		out[i] = historyJSON{Version: r.Version, Position: r.Position, Type: r.Type, Time: r.Time, Actor: r.Metadata.Actor, Forced: app.Forced(r.Metadata), Data: r.Data}
	}
	return out
}

type logJSON struct {
	Position int64           `json:"position"`
	Stream   string          `json:"stream"`
	Version  int64           `json:"version"`
	Type     string          `json:"type"`
	Time     time.Time       `json:"time"`
	ID       uuid.UUID       `json:"id"`
	Data     json.RawMessage `json:"data"`
	Metadata es.Metadata     `json:"metadata"`
}

func logView(r es.Record) logJSON {
	return logJSON{Position: r.Position, Stream: r.Stream, Version: r.Version, Type: r.Type, Time: r.Time, ID: r.ID, Data: r.Data, Metadata: r.Metadata}
}
