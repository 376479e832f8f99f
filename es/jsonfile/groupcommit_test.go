package jsonfile_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
)

// Concurrent appends in one process share commits (the package doc's
// group commit): 16 writers' appends need fewer log writes than appends.
func TestConcurrentAppendsShareCommits(t *testing.T) {
	st, err := jsonfile.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				ev := es.Event{Type: "t", Data: []byte(fmt.Sprintf(`{"i":%d}`, i))}
				if _, err := st.Append(context.Background(), fmt.Sprintf("s-%d", g), es.Any, []es.Event{ev}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	stats := st.Stats()
	if stats.Appends != 800 || stats.Commits >= stats.Appends {
		t.Fatalf("%d appends in %d commits: no commit carried more than one", stats.Appends, stats.Commits)
	}
	t.Logf("%d appends in %d commits", stats.Appends, stats.Commits)
}
