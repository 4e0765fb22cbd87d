package switchyard

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/sdk/go/internal/fakeserver"
)

// TestCountsReportedOnClose: every evaluation is counted by flag, variant and reason,
// from many goroutines, and Close sends the counts.
func TestCountsReportedOnClose(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
	c := start(t, srv)
	other := &Context{Key: "u2"}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 250 {
				c.Bool("new-checkout", staffCtx, false)
				c.Bool("new-checkout", other, false)
				c.Bool("half", &Context{}, false)
				c.String("max-items", other, "") // the wrong kind is still an evaluation
				c.Bool("ghost", other, false)    // a flag the environment lacks is not
			}
		})
	}
	wg.Wait()
	if len(srv.Reports()) != 0 {
		t.Fatal("reported before the flush interval")
	}
	if err := c.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		"new-checkout/on/TARGETING_MATCH": 1000,
		"new-checkout/off/DEFAULT":        1000,
		"half/off/ERROR":                  1000,
		"max-items/many/DEFAULT":          1000,
	}
	if got := srv.Counts(); !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	if r := srv.Requests("/api/v1/events"); r[0].Header.Get("Authorization") != "Bearer "+fakeserver.Key {
		t.Errorf("report headers %v", r[0].Header)
	}
}

// TestCountsFlushedPeriodically: counts go out every flush interval, each once.
func TestCountsFlushedPeriodically(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
	c := start(t, srv, WithFlushInterval(20*time.Millisecond))
	c.Bool("everyone", staffCtx, false)
	eventually(t, "a report", func() bool { return len(srv.Reports()) == 1 })
	c.Bool("everyone", staffCtx, false)
	c.Bool("everyone", staffCtx, false)
	eventually(t, "a second report", func() bool { return len(srv.Reports()) == 2 })
	time.Sleep(60 * time.Millisecond)
	if got := srv.Counts(); len(srv.Reports()) != 2 || got["everyone/on/SPLIT"] != 3 {
		t.Errorf("%d reports, counts %v", len(srv.Reports()), got)
	}
}

// TestCountsBatched: a report carries at most 1000 entries, and an entry at most
// 1,000,000 evaluations; bigger flushes are split.
func TestCountsBatched(t *testing.T) {
	var flags []domain.FlagConfig
	for i := range 1500 {
		flags = append(flags, boolFlag(fmt.Sprintf("flag-%04d", i), domain.Config{Enabled: true, OffVariant: "off", Default: domain.Serve{Variant: "on"}}))
	}
	srv := fakeserver.New(t, snapshot(1, flags...))
	c := start(t, srv)
	for _, f := range flags {
		c.Bool(f.Flag.Key, nil, false)
	}
	c.defs.Load().flag("flag-0000").counts[0*len(reasons)+reasonIndex(ReasonDefault)].Add(2_500_000 - 1)
	if err := c.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, r := range srv.Reports() {
		sizes = append(sizes, len(r))
	}
	if !slices.Equal(sizes, []int{1000, 502}) {
		t.Errorf("reports of %v entries", sizes)
	}
	counts := srv.Counts()
	if counts["flag-0000/on/DEFAULT"] != 2_500_000 || counts["flag-1499/on/DEFAULT"] != 1 || len(counts) != 1500 {
		t.Errorf("%d counts; flag-0000 %d", len(counts), counts["flag-0000/on/DEFAULT"])
	}
}

// TestCountsKeptWhenReportFails: counts of a report that failed for a passing reason
// go out with the next one; a report refused as bad is dropped.
func TestCountsKeptWhenReportFails(t *testing.T) {
	for _, tt := range []struct {
		status int
		kept   bool
	}{
		{http.StatusServiceUnavailable, true},
		{http.StatusTooManyRequests, true},
		{http.StatusInternalServerError, true},
		{http.StatusBadRequest, false},
		{http.StatusForbidden, false},
	} {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
			c := start(t, srv)
			c.Bool("everyone", staffCtx, false)
			srv.FailEvents(tt.status)
			if err := c.flush(t.Context()); err == nil {
				t.Fatal("the failed report returned no error")
			}
			c.Bool("everyone", staffCtx, false)
			if err := c.flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			want := int64(1)
			if tt.kept {
				want = 2
			}
			if got := srv.Counts()["everyone/on/SPLIT"]; got != want || len(srv.Reports()) != 1 {
				t.Errorf("%d reports, count %d, want %d", len(srv.Reports()), got, want)
			}
		})
	}
}

// TestCountsKeptWhileEvaluatorDown: counts made while the evaluator is unreachable
// are sent once it is back; the memory they take is bounded.
func TestCountsKeptWhileEvaluatorDown(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
	c := start(t, srv)
	srv.Stop()
	c.Bool("everyone", staffCtx, false)
	if err := c.flush(t.Context()); err == nil {
		t.Fatal("no error with the evaluator down")
	}
	srv.Start(t)
	if err := c.flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := srv.Counts()["everyone/on/SPLIT"]; got != 1 {
		t.Errorf("count %d", got)
	}

	var k counter
	k.init()
	for i := range maxPending + 10 {
		k.giveBack([]countEntry{{Flag: fmt.Sprint(i), Reason: "DEFAULT", Count: 2}})
	}
	if len(k.pending) != maxPending || k.takeDropped() != 20 {
		t.Errorf("%d pending, not bounded", len(k.pending))
	}
}

// TestCountsAcrossVersions: evaluations counted against definitions since replaced
// are reported too.
func TestCountsAcrossVersions(t *testing.T) {
	base := snapshot(1, fixtureFlags()...)
	srv := fakeserver.New(t, base)
	c := start(t, srv)
	c.Bool("new-checkout", staffCtx, false)
	srv.Publish(withFlag(base, 2, killed()))
	eventually(t, "version 2", func() bool { return c.Version() == 2 })
	c.Bool("new-checkout", staffCtx, false)
	c.counts.mu.Lock()
	old := c.counts.retired[0].d
	c.counts.mu.Unlock()
	if err := c.flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A late evaluation into the replaced definitions still counts at the next flush.
	old.flag("new-checkout").count(&Result{Variant: "on", Reason: ReasonTargetingMatch})
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"new-checkout/on/TARGETING_MATCH": 2, "new-checkout/off/DISABLED": 1}
	if got := srv.Counts(); !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
}

// TestNoCountsWhenReportingOff: WithEventReporting(false) sends nothing.
func TestNoCountsWhenReportingOff(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
	c := start(t, srv, WithEventReporting(false))
	c.Bool("everyone", staffCtx, false)
	if err := c.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests("/api/v1/events")); n != 0 {
		t.Errorf("%d reports", n)
	}
}

func TestSplit(t *testing.T) {
	got := split([]countEntry{{Flag: "a", Count: 3}, {Flag: "b", Count: 2_000_001}, {Flag: "c", Count: 1_000_000}})
	want := []countEntry{{Flag: "a", Count: 3}, {Flag: "b", Count: 1_000_000}, {Flag: "b", Count: 1_000_000}, {Flag: "b", Count: 1}, {Flag: "c", Count: 1_000_000}}
	if !slices.Equal(got, want) {
		t.Errorf("split %v", got)
	}
}

// TestNothingRetiredWhenReportingOff: without reporting nothing drains replaced
// definitions, so none may be kept for it: after many versions, the replaced ones are
// neither listed nor reachable.
func TestNothingRetiredWhenReportingOff(t *testing.T) {
	for _, tt := range []struct {
		name  string
		start func(*testing.T) *Client
	}{
		{"reporting off", func(t *testing.T) *Client {
			return start(t, fakeserver.New(t, snapshot(1, fixtureFlags()...)), WithEventReporting(false), WithStreaming(false), WithPollInterval(time.Hour))
		}},
		{"offline", func(t *testing.T) *Client { return offline(t, snapshot(1, fixtureFlags()...)) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.start(t)
			freed := make(chan struct{})
			watchFreed(c.defs.Load(), freed)
			for v := int64(2); v <= 200; v++ {
				if err := c.apply(snapshot(v, fixtureFlags()...), "", "test"); err != nil {
					t.Fatal(err)
				}
				c.Bool("everyone", staffCtx, false)
			}
			if c.Version() != 200 {
				t.Fatalf("version %d", c.Version())
			}
			c.counts.mu.Lock()
			n := len(c.counts.retired)
			c.counts.mu.Unlock()
			if n != 0 {
				t.Errorf("%d replaced definitions kept", n)
			}
			eventually(t, "the first definitions garbage-collected", func() bool {
				runtime.GC()
				select {
				case <-freed:
					return true
				default:
					return false
				}
			})
		})
	}
}

// watchFreed closes freed once d is garbage-collected. It takes d as an argument so
// that no frame of the test keeps it alive.
func watchFreed(d *definitions, freed chan struct{}) {
	runtime.AddCleanup(d, func(ch chan struct{}) { close(ch) }, freed)
}
