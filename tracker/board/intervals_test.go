package board

import (
	"math/rand/v2"
	"testing"
)

// Each state appended is the one read back at every time from its start
// to the next one's, whatever fields changed between them; before the
// first there is none.
func TestIntervalsRoundTrip(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	pick := func(vals ...string) string { return vals[rnd.IntN(len(vals))] }
	for round := range 200 {
		var enc []byte
		var states []listState
		var starts []int64
		var last int64
		prev := listState{}
		at := int64(1_700_000_000_000_000)
		for i := range 1 + rnd.IntN(8) {
			st := prev
			if i == 0 || rnd.IntN(2) == 0 {
				st.title = pick("a", "b", "ünïcode", "")
			}
			if i == 0 || rnd.IntN(3) == 0 {
				st.status = pick("backlog", "ready", "done")
				st.labels = pick("[]", `["ui"]`, `["db","ui"]`)
				st.extra = pick("{}", `{"status_reason":"x"}`)
			}
			if i == 0 {
				st.created = at - int64(rnd.IntN(1000))
			}
			at += int64(rnd.IntN(3)) // the same time twice: the later state wins
			enc = appendInterval(enc, last, at, &prev, &st)
			last, prev = at, st
			states, starts = append(states, st), append(starts, at)
		}
		var raw rawState
		for k, from := range starts {
			to := int64(1 << 62)
			if k+1 < len(starts) {
				to = starts[k+1]
			}
			if from == to {
				continue
			}
			for _, q := range []int64{from, to - 1} {
				found, ok, _ := stateAt(enc, q, &raw)
				if !ok || !found || raw.state() != states[k] {
					t.Fatalf("round %d: at %d: %v %v %+v, want %+v", round, q, found, ok, raw.state(), states[k])
				}
			}
		}
		if found, ok, _ := stateAt(enc, starts[0]-1, &raw); !ok || found {
			t.Fatalf("round %d: a state before the first interval (found %v, ok %v)", round, found, ok)
		}
	}
}

// Damaged values are reported, never a panic.
func FuzzStateAt(f *testing.F) {
	var st listState
	st.title, st.status = "t", "ready"
	f.Add(appendInterval(nil, 0, 5, &listState{}, &st), int64(7))
	f.Add([]byte{0xff, 0xff, 0xff}, int64(1))
	f.Fuzz(func(t *testing.T, b []byte, at int64) {
		var raw rawState
		stateAt(b, at, &raw)
		timeAt(b, at)
	})
}
