package board

import (
	"encoding/binary"
)

// Each item keeps its state intervals in one value of its row: the list
// state it held from each time on (the running maximum of its event times,
// "at"), as long as it held. As of time T the item is in the state of its
// last interval that starts at or before T (none: it did not exist yet).
// One value per item rather than a row per interval: a bulk load writes a
// tenth of the rows, and a catch-up rewrites one small value per item it
// touches. Each interval is encoded as the difference of its start from
// the previous one (a signed varint), a mask of the fields that differ
// from the previous interval's state (the first: from the empty state),
// and those fields: strings as a length and bytes, created as a varint.

// The fields of a listState, as bits of an interval's mask.
const (
	fTitle = 1 << iota
	fDescription
	fType
	fStatus
	fPriority
	fAssignee
	fInitiative
	fLabels
	fBlockers
	fCreated
	fExtra
)

// appendInterval appends the interval that starts at from in state st,
// after an interval in state prev, to intervals; last is the start of the
// previous interval (0 for the first).
func appendInterval(intervals []byte, last, from int64, prev, st *listState) []byte {
	var mask uint64
	strs := [...]struct {
		bit      uint64
		old, new string
	}{
		{fTitle, prev.title, st.title}, {fDescription, prev.description, st.description}, {fType, prev.typ, st.typ},
		{fStatus, prev.status, st.status}, {fPriority, prev.priority, st.priority}, {fAssignee, prev.assignee, st.assignee},
		{fInitiative, prev.initiative, st.initiative}, {fLabels, prev.labels, st.labels}, {fBlockers, prev.blockers, st.blockers},
	}
	for _, s := range strs {
		if s.old != s.new {
			mask |= s.bit
		}
	}
	if prev.created != st.created {
		mask |= fCreated
	}
	if prev.extra != st.extra {
		mask |= fExtra
	}
	intervals = binary.AppendVarint(intervals, from-last)
	intervals = binary.AppendUvarint(intervals, mask)
	for _, s := range strs {
		if mask&s.bit != 0 {
			intervals = appendString(intervals, s.new)
		}
	}
	if mask&fCreated != 0 {
		intervals = binary.AppendVarint(intervals, st.created)
	}
	if mask&fExtra != 0 {
		intervals = appendString(intervals, st.extra)
	}
	return intervals
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// rawState is a listState whose strings still point into an encoded
// value: reading an interval allocates nothing until its state is kept.
type rawState struct {
	str     [9][]byte // title ... blockers, in mask order
	created int64
	extra   []byte
}

func (r *rawState) state() listState {
	return listState{title: string(r.str[0]), description: string(r.str[1]), typ: string(r.str[2]), status: string(r.str[3]),
		priority: string(r.str[4]), assignee: string(r.str[5]), initiative: string(r.str[6]), labels: string(r.str[7]),
		blockers: string(r.str[8]), created: r.created, extra: string(r.extra)}
}

func (r *rawState) status() string { return string(r.str[3]) }

// stateAt reads, from an item's intervals, the state it was in at time t.
// found is false if it had none yet; ok is false if intervals is damaged.
// last is the start of the last interval.
func stateAt(intervals []byte, t int64, st *rawState) (found, ok bool, last int64) {
	*st = rawState{}
	var from int64
	for len(intervals) > 0 {
		d, n := binary.Varint(intervals)
		if n <= 0 {
			return false, false, 0
		}
		from += d
		if from > t {
			return found, true, last
		}
		intervals = intervals[n:]
		mask, n := binary.Uvarint(intervals)
		if n <= 0 {
			return false, false, 0
		}
		intervals = intervals[n:]
		for i := range st.str {
			if mask&(1<<i) != 0 {
				if st.str[i], intervals, ok = readString(intervals); !ok {
					return false, false, 0
				}
			}
		}
		if mask&fCreated != 0 {
			if st.created, n = binary.Varint(intervals); n <= 0 {
				return false, false, 0
			}
			intervals = intervals[n:]
		}
		if mask&fExtra != 0 {
			if st.extra, intervals, ok = readString(intervals); !ok {
				return false, false, 0
			}
		}
		found, last = true, from
	}
	return found, true, last
}

func readString(b []byte) (s, rest []byte, ok bool) {
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < l {
		return nil, nil, false
	}
	return b[n : n+int(l)], b[n+int(l):], true
}
