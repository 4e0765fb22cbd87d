package domain

import (
	"testing"
	"time"
)

func TestStale(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := Project{StaleAfterDays: 30}
	cutoff := p.StaleCutoff(now)
	if !cutoff.Equal(now.AddDate(0, 0, -30)) {
		t.Fatalf("cutoff %v", cutoff)
	}
	at := func(days int) *time.Time { v := now.AddDate(0, 0, -days); return &v }
	tests := []struct {
		name    string
		created time.Time
		last    *time.Time
		stale   bool
	}{
		{"never evaluated, old", *at(40), nil, true},
		{"never evaluated, young", *at(10), nil, false},
		{"evaluated lately", *at(400), at(1), false},
		{"evaluated long ago", *at(400), at(31), true},
		{"evaluated at the cutoff", *at(400), at(30), false},
		{"created at the cutoff", *at(30), nil, false},
		{"created just before the cutoff", now.AddDate(0, 0, -30).Add(-time.Microsecond), nil, true},
	}
	for _, tt := range tests {
		if got := Stale(tt.created, tt.last, cutoff); got != tt.stale {
			t.Errorf("%s: stale %v, want %v", tt.name, got, tt.stale)
		}
	}
}

func TestBucketSize(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 23, 59, 59, 0, time.FixedZone("x", 3*3600))
	if got := BucketHour.Start(t0); !got.Equal(time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)) || got.Location() != time.UTC {
		t.Errorf("hour of %v: %v", t0, got)
	}
	if got := BucketDay.Start(t0); !got.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("UTC day of %v: %v", t0, got)
	}
	if BucketHour.Duration() != time.Hour || BucketDay.Duration() != 24*time.Hour {
		t.Error("durations")
	}
}
