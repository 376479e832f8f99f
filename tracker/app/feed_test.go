package app_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
)

func TestChangesFeedsWorkItemEventsOnly(t *testing.T) {
	s, _ := newService(t)
	ctx := as("ann")
	a := create(t, s, "a")
	b := create(t, s, "b")
	if _, err := s.Block(ctx, b.ID, a.ID, es.Any); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Comment(ctx, a.ID, "hello", es.Any); err != nil {
		t.Fatal(err)
	}
	all, err := s.Changes(context.Background(), 0, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range all.Changes {
		got = append(got, c.Item+" "+c.Record.Type)
		if c.Record.Stream != "workitem-"+c.Item || c.Summary == "" {
			t.Errorf("change %+v", c)
		}
	}
	// The ID counters' and the dependency stream's events are left out.
	want := []string{"J-1 workitem.created", "J-2 workitem.created", "J-2 workitem.blocker_added", "J-1 workitem.commented"}
	if !slices.Equal(got, want) || all.Total != 4 {
		t.Fatalf("feed %q (total %d), want %q", got, all.Total, want)
	}
	var lastPos int64
	for rec, err := range s.Log(context.Background(), 1) {
		if err != nil {
			t.Fatal(err)
		}
		lastPos = rec.Position
	}
	if all.Next != lastPos {
		t.Fatalf("next %d, want the log's end %d", all.Next, lastPos)
	}

	// A limit cuts the page and says where to go on; going on gives the rest.
	page, err := s.Changes(context.Background(), 0, time.Time{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Changes) != 2 || page.Total != 4 || page.Next != page.Changes[1].Record.Position {
		t.Fatalf("page %+v", page)
	}
	rest, err := s.Changes(context.Background(), page.Next, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Changes) != 2 || rest.Changes[0].Record.Type != "workitem.blocker_added" {
		t.Fatalf("rest %+v", rest)
	}

	// since: only what was recorded after it.
	since := all.Changes[2].Record.Time
	later, err := s.Changes(context.Background(), 0, since, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range later.Changes {
		if !c.Record.Time.After(since) {
			t.Fatalf("change at %v is not after %v", c.Record.Time, since)
		}
	}
	if _, err := s.Changes(context.Background(), -1, time.Time{}, 0); err == nil {
		t.Fatal("a negative position was taken")
	}
}
