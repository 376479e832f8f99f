package mcpserver

import (
	"time"

	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// The tools' inputs and outputs. Their JSON schemas are derived from these
// types: a field without omitempty is required, and the jsonschema tag is
// its description, which is what an agent reads to call the tool.

// Summary is a work item in a list: enough to choose one.
type Summary struct {
	ID       string   `json:"id" jsonschema:"the work item's ID, like J-42"`
	Title    string   `json:"title" jsonschema:"the work item's title"`
	Status   string   `json:"status" jsonschema:"backlog, ready, in_progress, blocked, done or cancelled"`
	Priority string   `json:"priority" jsonschema:"critical, high, medium or low"`
	Type     string   `json:"type" jsonschema:"task, bug, story, spike or chore"`
	Assignee string   `json:"assignee,omitempty" jsonschema:"the agent that holds the item; absent if nobody does"`
	Blockers []string `json:"blockers,omitempty" jsonschema:"items that must be done before this one can start"`
	Claim    *Claim   `json:"claim,omitempty" jsonschema:"the assignee's hold on the item; absent if nobody holds it"`
	Version  int64    `json:"version" jsonschema:"the item's version: give it as expect_version to write only if nobody changed the item since"`
}

// Claim is an agent's hold on a work item, as it stands when the tool
// answers.
type Claim struct {
	Holder    string    `json:"holder" jsonschema:"the agent that holds the item"`
	Since     time.Time `json:"since" jsonschema:"when the holder claimed it (RFC 3339, UTC)"`
	ExpiresAt time.Time `json:"expires_at" jsonschema:"when the claim stops holding unless the holder writes to the item or sends a heartbeat (RFC 3339, UTC)"`
	Expired   bool      `json:"expired" jsonschema:"true once the claim no longer holds: another agent may take the item over"`
}

// Blocker is the state of another work item that one waits on.
type Blocker struct {
	ID       string `json:"id" jsonschema:"the blocker's ID"`
	Title    string `json:"title,omitempty" jsonschema:"its title; absent if the item is unknown"`
	Status   string `json:"status,omitempty" jsonschema:"its status; absent if the item is unknown"`
	Assignee string `json:"assignee,omitempty" jsonschema:"the agent that holds it, who to ask"`
}

// Item is a work item in full.
type Item struct {
	Summary
	Description string    `json:"description,omitempty" jsonschema:"the longer description"`
	Reason      string    `json:"status_reason,omitempty" jsonschema:"the reason given with the last change of status"`
	Initiative  string    `json:"initiative,omitempty" jsonschema:"the initiative the item belongs to, like I-3"`
	Comments    []Comment `json:"comments,omitempty" jsonschema:"the latest comments, oldest first, up to the limit"`
	WaitingOn   []Blocker `json:"blocker_states,omitempty" jsonschema:"show only: each blocker with its state at the moment shown"`
	Blocks      []Blocker `json:"blocks,omitempty" jsonschema:"show only, for the present: the open items that wait on this one"`
	CommentsAll int       `json:"comments_total" jsonschema:"how many comments the item has in all"`
	CreatedAt   time.Time `json:"created_at" jsonschema:"when the item was created (RFC 3339, UTC)"`
	UpdatedAt   time.Time `json:"updated_at" jsonschema:"when the item last changed (RFC 3339, UTC)"`
}

// Comment is a remark on a work item.
type Comment struct {
	Author string    `json:"author" jsonschema:"who wrote it"`
	Time   time.Time `json:"time" jsonschema:"when (RFC 3339, UTC)"`
	Text   string    `json:"text" jsonschema:"what it says"`
}

// Written is the result of a tool that writes one work item: compact, as
// show gives the rest.
type Written struct {
	Item    Summary  `json:"item" jsonschema:"the item after the write (show gives it in full)"`
	Changes []string `json:"changes" jsonschema:"what the write recorded, one line per event; empty if nothing needed to change"`
}

// Items is a list of work items, cut to a limit.
type Items struct {
	Items     []Summary `json:"items" jsonschema:"the first items, up to the limit"`
	Total     int       `json:"total" jsonschema:"how many items matched, also those past the limit"`
	Truncated bool      `json:"truncated" jsonschema:"true if the limit left items out"`
}

// Waiting is a work item that cannot move now, in the blocked tool's
// answer, with why.
type Waiting struct {
	Summary
	WaitingOn     []Blocker `json:"waiting_on,omitempty" jsonschema:"the blockers that are not done yet"`
	BlockedReason string    `json:"blocked_reason,omitempty" jsonschema:"the reason given when the item's status was set to blocked by hand"`
	ManualBlock   bool      `json:"manual_block" jsonschema:"true if the item's status is blocked, set by hand"`
	ClaimExpired  bool      `json:"claim_expired" jsonschema:"true if the item is held by a claim that has expired: its agent is gone, and ready offers it again"`
}

// WaitingItems is the blocked tool's answer.
type WaitingItems struct {
	Items     []Waiting `json:"items" jsonschema:"the first waiting items, by ID, up to the limit"`
	Total     int       `json:"total" jsonschema:"how many items wait, also those past the limit"`
	Truncated bool      `json:"truncated" jsonschema:"true if the limit left items out"`
}

// Event is one entry of a work item's history or of the activity feed.
type Event struct {
	Item     string    `json:"item" jsonschema:"the work item's ID"`
	Version  int64     `json:"version" jsonschema:"the item's version after this event"`
	Position int64     `json:"position" jsonschema:"the event's position in the store's global log"`
	Type     string    `json:"type" jsonschema:"the event type, like workitem.status_changed"`
	Time     time.Time `json:"time" jsonschema:"when it was recorded (RFC 3339, UTC)"`
	Actor    string    `json:"actor" jsonschema:"who did it"`
	Change   string    `json:"change" jsonschema:"what changed, in a few words"`
}

// History is the history tool's answer.
type History struct {
	Events    []Event `json:"events" jsonschema:"the events from the version asked for, oldest first, up to the limit"`
	Total     int     `json:"total" jsonschema:"how many events the item has in all"`
	Truncated bool    `json:"truncated" jsonschema:"true if the limit left later events out"`
}

// Feed is the changes_since tool's answer.
type Feed struct {
	Changes   []Event `json:"changes" jsonschema:"changes to work items, oldest first, up to the limit"`
	Total     int     `json:"total" jsonschema:"how many changes matched, also those past the limit"`
	Truncated bool    `json:"truncated" jsonschema:"true if the limit left changes out"`
	Next      int64   `json:"next_position" jsonschema:"give this as position in the next call to get only what came after"`
}

// Ready is the ready tool's answer.
type Ready struct {
	Items     []Summary `json:"items,omitempty" jsonschema:"without claim: the items ready to take, most urgent first, up to the limit"`
	Total     int       `json:"total" jsonschema:"without claim: how many items are ready in all; with claim: 1"`
	Truncated bool      `json:"truncated" jsonschema:"true if the limit left items out"`
	Claimed   *Item     `json:"claimed,omitempty" jsonschema:"with claim: the item now held by you"`
}

// Who is the whoami tool's answer.
type Who struct {
	Actor   string `json:"actor" jsonschema:"the name recorded on every event this server writes; fixed when the server started"`
	Store   string `json:"store,omitempty" jsonschema:"the store the server works on"`
	Version string `json:"version,omitempty" jsonschema:"the jerry version serving"`
}

// Inputs.

// WriteIn names a work item to write, with an optional version condition.
type WriteIn struct {
	ID            string `json:"id" jsonschema:"the work item's ID, like J-42 (42 alone also works)"`
	ExpectVersion *int64 `json:"expect_version,omitempty" jsonschema:"write only if the item is at this version, else fail with code conflict; leave it out to retry when another agent wrote first"`
}

// ReadyIn is the ready tool's input.
type ReadyIn struct {
	Limit int    `json:"limit,omitempty" jsonschema:"list at most this many items (default 20)"`
	Claim bool   `json:"claim,omitempty" jsonschema:"claim the most urgent ready item for yourself, move it to in_progress and return it; agents claiming at once each get a different item"`
	Lease string `json:"lease,omitempty" jsonschema:"with claim: how long the claim holds after your last write to the item, like 30m or 2h (default: the server's)"`
}

// ClaimIn is the claim tool's input.
type ClaimIn struct {
	WriteIn
	Lease string `json:"lease,omitempty" jsonschema:"how long the claim holds after your last write to the item, like 30m or 2h (default: the server's)"`
	Start bool   `json:"start,omitempty" jsonschema:"also move the item to in_progress, in the same write"`
}

// HeartbeatIn is the heartbeat tool's input.
type HeartbeatIn struct {
	WriteIn
	Lease string `json:"lease,omitempty" jsonschema:"make the claim's lease this long, like 30m or 2h (default: keep it)"`
}

// ReleaseIn is the release tool's input.
type ReleaseIn struct {
	WriteIn
	Reason string `json:"reason,omitempty" jsonschema:"why, recorded with the release"`
	Force  bool   `json:"force,omitempty" jsonschema:"release even if another agent's claim holds the item; the history records that you forced it"`
}

// ShowIn is the show tool's input.
type ShowIn struct {
	ID    string `json:"id" jsonschema:"the work item's ID, like J-42 (42 alone also works)"`
	At    int64  `json:"at,omitempty" jsonschema:"show the item as it was after this version"`
	AsOf  string `json:"as_of,omitempty" jsonschema:"show the item as it was at this time (RFC 3339, like 2026-11-20T10:00:00Z)"`
	Limit int    `json:"limit,omitempty" jsonschema:"show at most this many comments, the latest (default 20)"`
}

// ListIn is the list tool's input: the filters of jerry list.
type ListIn struct {
	Status     string `json:"status,omitempty" jsonschema:"only items with this status: backlog, ready, in_progress, blocked, done or cancelled"`
	Assignee   string `json:"assignee,omitempty" jsonschema:"only items held by this agent"`
	Type       string `json:"type,omitempty" jsonschema:"only items of this type: task, bug, story, spike or chore"`
	Initiative string `json:"initiative,omitempty" jsonschema:"only items in this initiative, like I-3"`
	AsOf       string `json:"as_of,omitempty" jsonschema:"the items as they were at this time (RFC 3339)"`
	Limit      int    `json:"limit,omitempty" jsonschema:"return at most this many items (default 20)"`
}

// CreateIn is the create tool's input.
type CreateIn struct {
	Title       string `json:"title" jsonschema:"what is to be done, in one line"`
	Description string `json:"description,omitempty" jsonschema:"more detail"`
	Type        string `json:"type,omitempty" jsonschema:"task, bug, story, spike or chore (default task)"`
	Priority    string `json:"priority,omitempty" jsonschema:"critical, high, medium or low (default medium)"`
	Initiative  string `json:"initiative,omitempty" jsonschema:"an active initiative to add the item to, like I-3"`
}

// StatusIn is the status tool's input.
type StatusIn struct {
	WriteIn
	Status string `json:"status" jsonschema:"the new status: backlog, ready, in_progress, blocked, done or cancelled (done and cancelled are final)"`
	Reason string `json:"reason,omitempty" jsonschema:"why, recorded with the change"`
}

// CommentIn is the comment tool's input.
type CommentIn struct {
	WriteIn
	Text string `json:"text" jsonschema:"the comment"`
}

// BlockIn is the block and unblock tools' input.
type BlockIn struct {
	WriteIn
	Blocker string `json:"blocker" jsonschema:"the item that must be done before id can start, like J-7"`
}

// HistoryIn is the history tool's input.
type HistoryIn struct {
	ID          string `json:"id" jsonschema:"the work item's ID, like J-42 (42 alone also works)"`
	FromVersion int64  `json:"from_version,omitempty" jsonschema:"start at this version (default 1)"`
	Limit       int    `json:"limit,omitempty" jsonschema:"return at most this many events (default 20)"`
}

// ChangesIn is the changes_since tool's input.
type ChangesIn struct {
	Position int64  `json:"position,omitempty" jsonschema:"only changes after this log position: the next_position of the previous call (default 0: from the start)"`
	Since    string `json:"since,omitempty" jsonschema:"only changes recorded after this time (RFC 3339)"`
	Limit    int    `json:"limit,omitempty" jsonschema:"return at most this many changes (default 20)"`
}

// LimitIn is the input of a tool that only lists.
type LimitIn struct {
	Limit int `json:"limit,omitempty" jsonschema:"return at most this many items (default 20)"`
}

// NoIn is the input of a tool that takes none.
type NoIn struct{}

// summaryOf returns it in short, with its claim as the application layer
// says it stands at the moment shown (nil: none).
func summaryOf(it tracker.Item, claim *app.ClaimState) Summary {
	s := Summary{ID: it.ID, Title: it.Title, Status: string(it.Status), Priority: string(it.Priority),
		Type: string(it.Type), Assignee: it.Assignee, Blockers: it.Blockers, Version: it.Version}
	if c := claim; c != nil {
		s.Claim = &Claim{Holder: c.Holder, Since: c.Since.UTC(), ExpiresAt: c.ExpiresAt.UTC(), Expired: c.Expired}
	}
	return s
}

func blockersOf(bs []tracker.BlockerState) []Blocker {
	if len(bs) == 0 {
		return nil
	}
	out := make([]Blocker, len(bs))
	for i, b := range bs {
		out[i] = Blocker{ID: b.ID, Title: b.Title, Status: string(b.Status), Assignee: b.Assignee}
	}
	return out
}

// itemOf returns it in full, with its claim at the moment shown and its
// last comments comments.
func itemOf(it tracker.Item, claim *app.ClaimState, comments int) Item {
	var cs []Comment
	for _, c := range it.Comments[max(0, len(it.Comments)-comments):] {
		cs = append(cs, Comment{Author: c.Author, Time: c.Time.UTC(), Text: c.Text})
	}
	return Item{Summary: summaryOf(it, claim), Description: it.Description, Reason: it.StatusReason, Initiative: it.Initiative, Comments: cs,
		CommentsAll: len(it.Comments), CreatedAt: it.CreatedAt.UTC(), UpdatedAt: it.UpdatedAt.UTC()}
}

func eventOf(item string, e app.Entry) Event {
	r := e.Record
	return Event{Item: item, Version: r.Version, Position: r.Position, Type: r.Type, Time: r.Time.UTC(),
		Actor: r.Metadata.Actor, Change: e.Summary}
}
