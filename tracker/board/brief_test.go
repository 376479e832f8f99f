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
