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
	Comments    []commentJSON `json:"comments"`
	Version     int64         `json:"version"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
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
	return itemJSON{ID: it.ID, Title: it.Title, Description: it.Description, Type: string(it.Type),
		Status: string(it.Status), Priority: string(it.Priority), Assignee: it.Assignee, Initiative: it.Initiative,
		Comments: cs, Version: it.Version, CreatedAt: it.CreatedAt.UTC(), UpdatedAt: it.UpdatedAt.UTC()}
}

func itemViews(items []tracker.Item) []itemJSON {
	out := make([]itemJSON, len(items))
	for i, it := range items {
		out[i] = itemView(it)
	}
	return out
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
	Data     json.RawMessage `json:"data"`
}

func historyView(h []app.Entry) []historyJSON {
	out := make([]historyJSON, len(h))
	for i, e := range h {
		r := e.Record
		out[i] = historyJSON{Version: r.Version, Position: r.Position, Type: r.Type, Time: r.Time, Actor: r.Metadata.Actor, Data: r.Data}
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
