package switchyard

import (
	"bufio"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// TestSSE: events are read as the contract writes them, comments and unknown fields
// skipped, and lines split by \r\n too.
func TestSSE(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		want       []sseEvent
	}{
		{"contract", "retry: 1000\n\nid: 42\ndata: {\"version\":42}\n\n: heartbeat\n\nid: 43\ndata: {\"version\":43}\n\n",
			[]sseEvent{{id: "42", data: `{"version":42}`, hasData: true}, {id: "43", data: `{"version":43}`, hasData: true}}},
		{"crlf and no space", "id:7\r\ndata:{\"version\":7}\r\n\r\n", []sseEvent{{id: "7", data: `{"version":7}`, hasData: true}}},
		{"multi-line data", "data: a\ndata: b\n\n", []sseEvent{{data: "a\nb", hasData: true}}},
		{"named event", "event: ping\ndata: x\n\n", []sseEvent{{event: "ping", data: "x", hasData: true}}},
		{"comments only", ": heartbeat\n\n: heartbeat\n\n", nil},
		{"unfinished", "id: 9\ndata: {}", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []sseEvent
			var ev sseEvent
			sc := bufio.NewScanner(strings.NewReader(tt.text))
			for sc.Scan() {
				if ev.line(sc.Text()) {
					got = append(got, ev)
					ev = sseEvent{}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestReceived: the version comes from the data, else from the id; versions
// announced never go down; unknown event types are ignored.
func TestReceived(t *testing.T) {
	c := &Client{wake: make(chan struct{}, 1), log: testLogger(t)}
	for _, tt := range []struct {
		ev   sseEvent
		want int64
	}{
		{sseEvent{id: "3", data: `{"version":5}`, hasData: true}, 5},
		{sseEvent{id: "7"}, 7},
		{sseEvent{id: "4", data: `{"version":4}`, hasData: true}, 7},
		{sseEvent{data: `not json`, hasData: true}, 7},
		{sseEvent{event: "other", data: `{"version":99}`, hasData: true}, 7},
		{sseEvent{event: "message", data: `{"version":8}`, hasData: true}, 8},
	} {
		c.received(&tt.ev)
		if got := c.announced.Load(); got != tt.want {
			t.Errorf("after %+v: announced %d, want %d", tt.ev, got, tt.want)
		}
	}
}

// TestBackoff: delays grow exponentially from min to max, are drawn at random below
// the ceiling (full jitter), and start again after reset.
func TestBackoff(t *testing.T) {
	b := backoff{min: 10 * time.Millisecond, max: 80 * time.Millisecond}
	ceilings := []time.Duration{10, 20, 40, 80, 80, 80}
	for i, ceil := range ceilings {
		ceil *= time.Millisecond
		var top time.Duration
		for range 200 {
			probe := b
			d := probe.next()
			if d <= 0 || d > ceil {
				t.Fatalf("attempt %d: delay %v outside (0, %v]", i, d, ceil)
			}
			top = max(top, d)
		}
		if top < ceil/2 {
			t.Errorf("attempt %d: delays up to %v only, ceiling %v", i, top, ceil)
		}
		b.next()
	}
	b.reset()
	for range 100 {
		probe := b
		if d := probe.next(); d > 10*time.Millisecond {
			t.Fatalf("after reset: %v", d)
		}
	}
	if d := (&backoff{min: time.Hour, max: 1000 * time.Hour, n: 1000}).next(); d <= 0 || d > 1000*time.Hour {
		t.Errorf("no overflow: %v", d)
	}
}

func TestJitter(t *testing.T) {
	for range 1000 {
		if d := jitter(100 * time.Millisecond); d < 80*time.Millisecond || d > 100*time.Millisecond {
			t.Fatalf("jitter %v", d)
		}
	}
}

// TestChanged: added, removed and redefined flags; the same definitions, reordered,
// change nothing; archived flags are not served.
func TestChanged(t *testing.T) {
	defs := func(fcs ...domain.FlagConfig) *definitions {
		d, err := compile(snapshot(1, fcs...), "")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	flags := fixtureFlags()
	archived := flags[1]
	archived.Flag.Archived = true
	renamed := flags[2]
	renamed.Flag.Name = "Half and half"
	for _, tt := range []struct {
		name       string
		prev, next *definitions
		want       []string
	}{
		{"same", defs(flags...), defs(flags...), nil},
		{"reordered", defs(flags...), defs(append([]domain.FlagConfig{flags[3]}, append(flags[:3:3], flags[4:]...)...)...), nil},
		{"killed", defs(flags...), defs(append([]domain.FlagConfig{killed()}, flags[1:]...)...), []string{"new-checkout"}},
		{"archived", defs(flags...), defs(append([]domain.FlagConfig{archived}, flags...)...), nil},
		{"archived now", defs(flags...), defs(append(slices.Clone(flags[:1]), append([]domain.FlagConfig{archived}, flags[2:]...)...)...), []string{"everyone"}},
		{"added and renamed", defs(flags[:2]...), defs(flags[0], flags[1], renamed), []string{"half"}},
		{"removed", defs(flags...), defs(), []string{"button-color", "disabled", "everyone", "half", "limits", "max-items", "new-checkout"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := changed(tt.prev, tt.next); !slices.Equal(got, tt.want) {
				t.Errorf("changed %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRetryAfterHeader(t *testing.T) {
	for h, want := range map[string]time.Duration{"": 0, "5": 5 * time.Second, "-1": 0, "soon": 0, "99999": 10 * time.Minute} {
		if got := retryAfter(h); got != want {
			t.Errorf("Retry-After %q: %v, want %v", h, got, want)
		}
	}
}

// TestParseAdvertisedHeartbeat: the comment opening a stream, ": heartbeat <seconds>",
// is read as the evaluator's heartbeat; anything else is none; an absurd value is
// capped so that a dead stream is still noticed.
func TestParseAdvertisedHeartbeat(t *testing.T) {
	for line, want := range map[string]time.Duration{
		": heartbeat 15":        15 * time.Second,
		": heartbeat 60":        time.Minute,
		":heartbeat 15":         15 * time.Second,
		": heartbeat 15 ":       15 * time.Second,
		": heartbeat 1.5":       1500 * time.Millisecond,
		": heartbeat 999999999": maxAdvertisedHeartbeat,
		": heartbeat":           0,
		": heartbeat 0":         0,
		": heartbeat -15":       0,
		": heartbeat NaN":       0,
		": heartbeat +Inf":      0,
		": heartbeat 15s":       0,
		": heartbeats 15":       0,
		"heartbeat 15":          0,
		"retry: 1000":           0,
		"data: 15":              0,
		"":                      0,
	} {
		if got := advertisedHeartbeat(line); got != want {
			t.Errorf("%q: %v, want %v", line, got, want)
		}
	}
}
