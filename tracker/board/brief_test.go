package board

import (
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/jerry-es/jerry/tracker"
)

// A brief row packs any text, and unpacks to the fields it was made of.
func TestBriefRowRoundTrip(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE items (id TEXT, title TEXT, type TEXT, status TEXT, priority TEXT, assignee TEXT, created INTEGER, updated INTEGER)"); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	want := []tracker.Item{
		{ID: "J-1", Title: "plain", Type: tracker.Bug, Status: tracker.Ready, Priority: tracker.High, CreatedAt: t0, UpdatedAt: t0.Add(time.Hour)},
		{ID: "J-22", Title: "1,2:3 ünïcødé ✓ \x00 tail", Type: tracker.Task, Status: tracker.Backlog, Priority: tracker.Low,
			Assignee: "名前:a,b", CreatedAt: time.UnixMicro(-5).UTC(), UpdatedAt: t0},
		{ID: "X-3", Title: "", Type: tracker.Chore, Status: tracker.Blocked, Priority: tracker.Critical, Assignee: "bob"},
	}
	for _, it := range want {
		if _, err := db.Exec("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)", it.ID, it.Title, string(it.Type), string(it.Status),
			string(it.Priority), it.Assignee, micros(it.CreatedAt), micros(it.UpdatedAt)); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.Query("SELECT " + briefCols + " FROM items i ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	got, err := scanBrief(rows, false)
	rows.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if w := want[i]; !(got[i].ID == w.ID && got[i].Title == w.Title && got[i].Type == w.Type && got[i].Status == w.Status &&
			got[i].Priority == w.Priority && got[i].Assignee == w.Assignee && got[i].CreatedAt.Equal(w.CreatedAt) && got[i].UpdatedAt.Equal(w.UpdatedAt)) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], w)
		}
	}
}

// A malformed brief row is refused, not misread.
func TestBriefRowMalformed(t *testing.T) {
	for _, s := range []string{"", "abc", "3,3,5,4,0,1,2", "3,3,5,4,0,1:J-1", "3,3,5,4,0,1,2,3:J-1bugreadyhigh",
		"9,3,5,4,0,1,2:J-1", "3,x,5,4,0,1,2:J-1bugreadyhigh", "-1,3,5,4,0,1,2:J-1bugreadyhigh", "3,3,5,4,9,1,2:J-1bugreadyhigh"} {
		if it, ok := unpackBrief(s); ok {
			t.Errorf("unpackBrief(%q) = %+v, want refused", s, it)
		}
	}
	if it, ok := unpackBrief("3,3,5,4,0,1,2:J-1bugreadyhightitle"); !ok || it.Title != "title" || it.Priority != "high" {
		t.Errorf("a good row: %+v %v", it, ok)
	}
}

// plainList reads what jsonList writes as the JSON decoder does, and
// leaves anything else to it.
func TestPlainList(t *testing.T) {
	for _, l := range [][]string{{"J-1"}, {"J-1", "J-22"}, {"a,b", "c:d", "名前", ""}, {`q"uote`, `back\slash`}, {"<&>", "tab\t"}, {""}} {
		s := jsonList(l)
		var got []string
		if err := decodeList(s, &got); err != nil || !slices.Equal(got, l) {
			t.Errorf("decodeList(%s) = %q, %v; want %q", s, got, err, l)
		}
	}
	for _, s := range []string{`["a" ,"b"]`, `["a\"b"]`, `[ "a"]`, `["a"`, `"a"]`, `[""]x`} {
		if l, ok := plainList(s); ok && s != `[""]` {
			t.Errorf("plainList(%s) = %q, want left to the decoder", s, l)
		}
	}
}

// A state row packs any text and unpacks to its fields; a malformed one
// is refused.
func TestStateRow(t *testing.T) {
	want := tracker.BlockerState{ID: "J-7", Title: "1,2:3 ü ✓", Status: tracker.InProgress, Assignee: "名前:a,b"}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE items (id TEXT, title TEXT, status TEXT, assignee TEXT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO items VALUES (?, ?, ?, ?)", want.ID, want.Title, string(want.Status), want.Assignee); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	got := map[string]tracker.BlockerState{}
	if err := states(t.Context(), tx, []string{"J-7", "J-8"}, got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["J-7"] != want {
		t.Fatalf("states = %+v, want J-7 %+v", got, want)
	}
	for _, s := range []string{"", "J-7", "3,5:J-7ready", "3,5,0,1:J-7ready", "9,5,0:J-7ready", "3,x,0:J-7ready", "-1,5,0:J-7ready", "3,5,4:J-7ready"} {
		if st, ok := unpackState(s); ok {
			t.Errorf("unpackState(%q) = %+v, want refused", s, st)
		}
	}
}
