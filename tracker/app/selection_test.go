package app_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/board"
)

// Every face's filter is read here: values normalised as the domain reads
// them, "none" for no assignee or initiative, the first bad value an error
// that names its field.
func TestSelectionNarrow(t *testing.T) {
	var q board.Query
	sel := app.Selection{
		Statuses: []string{"Ready", "in-progress"}, Assignees: []string{" alice ", "None"},
		Types: []string{"bug"}, Priorities: []string{"0", "high"}, Labels: []string{"UI"},
		Initiatives: []string{"none", "I-1"},
	}
	if err := sel.Narrow(&q); err != nil {
		t.Fatal(err)
	}
	want := board.Query{
		Statuses: []tracker.Status{tracker.Ready, tracker.InProgress}, Assignees: []string{"alice", ""},
		Types: []tracker.ItemType{tracker.Bug}, Priorities: []tracker.Priority{tracker.Critical, tracker.High},
		Labels: []string{"ui"}, Initiatives: []string{"", "I-1"},
	}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("Narrow: %+v, want %+v", q, want)
	}
	for _, tc := range []struct {
		sel  app.Selection
		want error
	}{
		{app.Selection{Statuses: []string{"doing"}}, tracker.ErrInvalidStatus},
		{app.Selection{Types: []string{"epic"}}, tracker.ErrInvalidType},
		{app.Selection{Priorities: []string{"urgent"}}, tracker.ErrInvalidPriority},
		{app.Selection{Labels: []string{"no spaces"}}, tracker.ErrInvalidLabel},
	} {
		if err := tc.sel.Narrow(&board.Query{}); !errors.Is(err, tc.want) {
			t.Errorf("Narrow(%+v): %v, want %v", tc.sel, err, tc.want)
		}
	}
}
