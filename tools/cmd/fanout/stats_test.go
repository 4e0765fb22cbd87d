package main

import (
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		d := make([]time.Duration, len(vs))
		for i, v := range vs {
			d[i] = time.Duration(v) * time.Millisecond
		}
		return d
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"none", nil, 0.99, 0},
		{"one", ms(7), 0.5, 7 * time.Millisecond},
		{"one, p99", ms(7), 0.99, 7 * time.Millisecond},
		{"median of two is the lower", ms(1, 2), 0.5, 1 * time.Millisecond},
		{"median of three", ms(1, 2, 3), 0.5, 2 * time.Millisecond},
		{"p99 of 100 is the 99th", ms(hundred...), 0.99, 99 * time.Millisecond},
		{"p50 of 100 is the 50th", ms(hundred...), 0.50, 50 * time.Millisecond},
		{"p100 is the largest", ms(hundred...), 1, 100 * time.Millisecond},
		{"p0 is the smallest", ms(hundred...), 0, 1 * time.Millisecond},
		{"p99 of 10 is the largest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantile(tt.sorted, tt.q); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestQuantileExactRankAtScale(t *testing.T) {
	lat := make([]time.Duration, 10_000)
	for i := range lat {
		lat[i] = time.Duration(i + 1)
	}
	if got := quantile(lat, 0.99); got != 9900 {
		t.Fatalf("p99 of 1..10000: got %d, want 9900", got)
	}
}

func TestSummarize(t *testing.T) {
	s := summarize([]time.Duration{5, 1, 4, 2, 3})
	if s != (summary{n: 5, p50: 3, p99: 5, max: 5}) {
		t.Fatalf("got %+v", s)
	}
	if s := summarize(nil); s != (summary{}) {
		t.Fatalf("empty: got %+v", s)
	}
}

func TestLatencies(t *testing.T) {
	ack := time.Now()
	at := func(d time.Duration) time.Time { return ack.Add(d) }
	streamWith := func(got ...arrival) *stream { return &stream{got: got} }
	streams := []*stream{
		streamWith(arrival{5, at(-time.Second)}, arrival{6, at(20 * time.Millisecond)}), // 6: 20ms
		streamWith(arrival{5, at(-time.Second)}, arrival{7, at(30 * time.Millisecond)}), // a newer one counts
		streamWith(arrival{5, at(-time.Second)}, arrival{6, at(-time.Millisecond)}),     // before the answer: 0
		streamWith(arrival{5, at(-time.Second)}),                                        // missed
		streamWith(arrival{6, at(10 * time.Millisecond)}, arrival{7, at(time.Second)}),  // the first that has it
	}
	lat, early, missed := latencies(streams, 6, ack)
	want := []time.Duration{20 * time.Millisecond, 30 * time.Millisecond, 0, 10 * time.Millisecond}
	if len(lat) != len(want) || early != 1 || missed != 1 {
		t.Fatalf("got %v early %d missed %d", lat, early, missed)
	}
	for i := range want {
		if lat[i] != want[i] {
			t.Fatalf("stream %d: got %v, want %v", i, lat[i], want[i])
		}
	}
}
