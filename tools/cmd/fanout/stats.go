package main

import (
	"math"
	"slices"
	"time"
)

// summary is a latency distribution: how many, the median, the 99th percentile, the
// largest.
type summary struct {
	n             int
	p50, p99, max time.Duration
}

// summarize sorts lat in place.
func summarize(lat []time.Duration) summary {
	slices.Sort(lat)
	s := summary{n: len(lat), p50: quantile(lat, 0.50), p99: quantile(lat, 0.99)}
	if len(lat) > 0 {
		s.max = lat[len(lat)-1]
	}
	return s
}

// quantile is the nearest-rank quantile of sorted values: the smallest value with at
// least q of them at or below it (0 when there are none).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// The epsilon keeps an exact rank exact: 0.99×10000 is 9899.999… in floating point.
	rank := int(math.Ceil(q*float64(len(sorted)) - 1e-9))
	return sorted[min(len(sorted), max(1, rank))-1]
}

// latencies is, for each stream that has received version v or a newer one, the time
// from ack (the admin's answer to the write) to that event; an event that came before
// the answer counts as 0, and is counted in early. missed are the streams without it.
func latencies(streams []*stream, v int64, ack time.Time) (lat []time.Duration, early, missed int) {
	lat = make([]time.Duration, 0, len(streams))
	for _, s := range streams {
		at, ok := s.firstAtLeast(v)
		if !ok {
			missed++
			continue
		}
		d := at.Sub(ack)
		if d < 0 {
			early++
			d = 0
		}
		lat = append(lat, d)
	}
	return lat, early, missed
}

// round shows a latency to a useful precision.
func round(d time.Duration) time.Duration {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
