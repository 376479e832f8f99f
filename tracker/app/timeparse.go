package app

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads a time as every face takes it (jerry's --as-of, --since
// and --until, the API's and the board's as_of), relative to now, whose
// location is the zone of dates and of times without an offset:
//
//	2026-11-20T10:00:00Z     RFC 3339
//	2026-11-20T10:00:00      local time; also "2026-11-20 10:00" and with seconds
//	2026-11-20               the end of that day, local time
//	now, today               now
//	yesterday                the end of yesterday
//	last tuesday, tuesday    the end of the latest Tuesday before today
//	3d ago, 2h ago, 30m ago  also s, w, and words: "3 days ago", "1 week ago"
func ParseTime(s string, now time.Time) (time.Time, error) {
	in := strings.ToLower(strings.Join(strings.Fields(s), " "))
	loc := now.Location()
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339} {
		if t, err := time.Parse(layout, strings.ToUpper(in)); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02t15:04:05", "2006-01-02 15:04:05", "2006-01-02t15:04", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, in, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.ParseInLocation("2006-01-02", in, loc); err == nil {
		return endOfDay(t), nil
	}
	switch in {
	case "now", "today":
		return now, nil
	case "yesterday":
		return endOfDay(now.AddDate(0, 0, -1)), nil
	}
	if day, ok := weekday(strings.TrimPrefix(in, "last ")); ok {
		// The latest such day strictly before today.
		back := (int(now.Weekday()) - int(day) + 7) % 7
		if back == 0 {
			back = 7
		}
		return endOfDay(now.AddDate(0, 0, -back)), nil
	}
	if rest, ok := strings.CutSuffix(in, " ago"); ok {
		if d, ok := parseAgo(rest); ok {
			return now.Add(-d), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q: want RFC 3339 (2026-11-20T10:00:00Z), a date (2026-11-20), yesterday, last tuesday, or 3d ago / 2h ago", s)
}

func endOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 23, 59, 59, 999999000, t.Location())
}

func weekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if s == name || s == name[:3] {
			return d, true
		}
	}
	return 0, false
}

// parseAgo reads "3d", "3 d", "3 days", "90m", "1 week".
func parseAgo(s string) (time.Duration, bool) {
	s = strings.ReplaceAll(s, " ", "")
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil || i == len(s) {
		return 0, false
	}
	var unit time.Duration
	switch s[i:] {
	case "s", "sec", "secs", "second", "seconds":
		unit = time.Second
	case "m", "min", "mins", "minute", "minutes":
		unit = time.Minute
	case "h", "hr", "hrs", "hour", "hours":
		unit = time.Hour
	case "d", "day", "days":
		unit = 24 * time.Hour
	case "w", "wk", "wks", "week", "weeks":
		unit = 7 * 24 * time.Hour
	default:
		return 0, false
	}
	if int64(n) > math.MaxInt64/int64(unit) {
		return 0, false // about 292 years: more would overflow into the future
	}
	return time.Duration(n) * unit, true
}
