package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// jerry stats counts what the log records, per day: an item imported with
// a history three days long, and one started now.
func TestStatsCommand(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UTC()
	if left := now.Truncate(24 * time.Hour).Add(24 * time.Hour).Sub(now); left < time.Minute {
		// The commands below must see the day this test computes with.
		time.Sleep(left)
		now = time.Now().UTC()
	}
	var lines []string
	for i, ev := range []struct {
		stream, typ, data string
		at                time.Time
	}{
		{"jerry-ids-workitem", "id.allocated", `{"kind":"workitem"}`, now.Add(-72 * time.Hour)},
		{"workitem-J-1", "workitem.created", `{"title":"old","type":"task","priority":"medium"}`, now.Add(-72 * time.Hour)},
		{"workitem-J-1", "workitem.status_changed", `{"from":"backlog","to":"in_progress"}`, now.Add(-48 * time.Hour)},
		{"workitem-J-1", "workitem.status_changed", `{"from":"in_progress","to":"done"}`, now.Add(-24 * time.Hour)},
	} {
		version := 1
		if ev.stream == "workitem-J-1" {
			version = i
		}
		lines = append(lines, fmt.Sprintf(`{"position":%d,"stream":%q,"version":%d,"type":%q,"schema":1,"time":%q,"id":%q,"data":%s,"metadata":{"actor":"ann"}}`,
			i+1, ev.stream, version, ev.typ, ev.at.Format(time.RFC3339Nano), uuid.New(), ev.data))
	}
	if r := e.runIn([]byte(strings.Join(lines, "\n")+"\n"), "import"); r.code != 0 {
		t.Fatalf("import: %d %s", r.code, r.stderr)
	}
	b := e.create("new")
	e.ok("status", b, "in_progress")

	var st struct {
		Throughput int `json:"throughput"`
		CycleTime  struct {
			Count int     `json:"count"`
			P50   float64 `json:"p50_seconds"`
		} `json:"cycle_time"`
		Days []struct {
			Date       string         `json:"date"`
			Throughput int            `json:"throughput"`
			WIP        int            `json:"wip"`
			Statuses   map[string]int `json:"statuses"`
		} `json:"days"`
	}
	e.okJSON(&st, "stats", "--since", "7d")
	if st.Throughput != 1 || st.CycleTime.Count != 1 || st.CycleTime.P50 != 86400 {
		t.Fatalf("throughput %d, cycle times %+v; want 1 done in 24 h", st.Throughput, st.CycleTime)
	}
	if len(st.Days) != 8 {
		t.Fatalf("%d days for --since 7d, want 8", len(st.Days))
	}
	byDate := map[string]int{}
	for i, d := range st.Days {
		byDate[d.Date] = i
	}
	started, done, today := st.Days[byDate[now.Add(-48*time.Hour).Format(time.DateOnly)]],
		st.Days[byDate[now.Add(-24*time.Hour).Format(time.DateOnly)]], st.Days[len(st.Days)-1]
	if started.WIP != 1 || started.Statuses["in_progress"] != 1 {
		t.Errorf("the day J-1 started: %+v", started)
	}
	if done.Throughput != 1 || done.WIP != 0 || done.Statuses["done"] != 1 {
		t.Errorf("the day J-1 was done: %+v", done)
	}
	if today.Date != now.Format(time.DateOnly) || today.WIP != 1 || today.Statuses["done"] != 1 || today.Statuses["in_progress"] != 1 {
		t.Errorf("today: %+v", today)
	}
	out := e.ok("stats", "--since", "7d")
	for _, want := range []string{"throughput: 1 done", "p50 1d 0h", done.Date} {
		if !strings.Contains(out, want) {
			t.Errorf("jerry stats lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"0d", "-3h", "someday", "tomorrow"} {
		r := e.run("stats", "--since", bad, "--json")
		var doc struct{ Error struct{ Code string } }
		if r.code != 2 || json.Unmarshal([]byte(r.stderr), &doc) != nil || doc.Error.Code != "usage" {
			t.Errorf("stats --since %s: exit %d, %s", bad, r.code, r.stderr)
		}
	}
}
