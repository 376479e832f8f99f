package app

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	zone := time.FixedZone("CET", 3600)
	// Friday 27 November 2026, 14:30 local.
	now := time.Date(2026, 11, 27, 14, 30, 0, 0, zone)
	eod := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 23, 59, 59, 999999000, zone) }
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-11-20T10:00:00Z", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)},
		{"2026-11-20T10:00:00.123456+02:00", time.Date(2026, 11, 20, 8, 0, 0, 123456000, time.UTC)},
		{"2026-11-20t10:00:00z", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)},
		{"2026-11-20T10:00:00", time.Date(2026, 11, 20, 10, 0, 0, 0, zone)},
		{"2026-11-20 10:00", time.Date(2026, 11, 20, 10, 0, 0, 0, zone)},
		{"2026-11-20", eod(2026, 11, 20)},
		{"now", now},
		{"yesterday", eod(2026, 11, 26)},
		{"Yesterday", eod(2026, 11, 26)},
		{"last tuesday", eod(2026, 11, 24)},
		{"last friday", eod(2026, 11, 20)}, // today is Friday: the one before
		{"last thu", eod(2026, 11, 26)},
		{"saturday", eod(2026, 11, 21)},
		{"3d ago", now.Add(-72 * time.Hour)},
		{"2h ago", now.Add(-2 * time.Hour)},
		{"30m ago", now.Add(-30 * time.Minute)},
		{"3 days ago", now.Add(-72 * time.Hour)},
		{"1 week ago", now.Add(-7 * 24 * time.Hour)},
		{"  2h   ago ", now.Add(-2 * time.Hour)},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, now)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "soon", "2026-13-01", "3x ago", "ago", "h ago", "last", "last week", "2026-11-20T25:00:00Z", "-3d ago"} {
		if got, err := ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", bad, got)
		}
	}
	// So far back that the duration overflows: never a time after now
	// (which showed the current state as that of 500 years ago).
	for _, far := range []string{"200000d ago", "9223372036854775807s ago", "20000 weeks ago"} {
		if got, err := ParseTime(far, now); err == nil && !got.Before(now) {
			t.Errorf("ParseTime(%q) = %v, after now", far, got)
		}
	}
}
