package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/switchyard/switchyard/tools/internal/adminclient"
	"github.com/switchyard/switchyard/tools/internal/procstat"
)

const probe = "fanout-probe"

// fanout is one run: the admin client, where streams go, and what to undo at the end.
type fanout struct {
	admin        *adminclient.Client
	project, env string
	ep, limitsEP endpoint
	held         []*stream      // every stream open, closed by cleanup
	heldOn       map[string]int // streams held per evaluator address
	keyIDs       []string       // keys created, revoked by cleanup
}

func newFanout(ctx context.Context, o options) (*fanout, error) {
	ep, err := parseEndpoint(o.evaluator)
	if err != nil {
		return nil, err
	}
	limitsEP, err := parseEndpoint(o.limitsEvaluator)
	if err != nil {
		return nil, err
	}
	f := &fanout{admin: adminclient.New(o.admin, o.token), project: o.project, env: o.env,
		ep: ep, limitsEP: limitsEP, heldOn: map[string]int{}}
	if err := f.admin.EnsureProject(ctx, o.project); err != nil {
		return nil, err
	}
	return f, nil
}

// newKeys creates n server SDK keys.
func (f *fanout) newKeys(ctx context.Context, n int, name string) ([]string, error) {
	keys := make([]string, n)
	for i := range n {
		id, key, err := f.admin.NewSDKKey(ctx, f.project, f.env, fmt.Sprintf("%s %d", name, i+1), "server")
		if err != nil {
			return nil, err
		}
		f.keyIDs = append(f.keyIDs, id)
		keys[i] = key
	}
	return keys, nil
}

func (f *fanout) hold(ep endpoint, streams []*stream) {
	f.held = append(f.held, streams...)
	f.heldOn[ep.addr] += len(streams)
}

// cleanup closes the streams and revokes the keys this run made.
func (f *fanout) cleanup(ctx context.Context) {
	for _, s := range f.held {
		s.close()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, id := range f.keyIDs {
		if err := f.admin.RevokeSDKKey(ctx, f.project, f.env, id); err != nil {
			fmt.Fprintln(os.Stderr, "fanout: revoking a key it made:", err)
			return
		}
	}
}

func (f *fanout) envVersion(ctx context.Context) (int64, error) {
	var env struct {
		Version int64 `json:"version"`
	}
	err := f.admin.Expect(ctx, &env, http.MethodGet, "/api/v1/projects/"+f.project+"/environments/"+f.env, nil, http.StatusOK)
	return env.Version, err
}

// change is what one write's announcement measured.
type change struct {
	version       int64
	lat           summary
	early, missed int
}

// report is what measure found.
type report struct {
	streams, keys             int
	openTook                  time.Duration
	rssIdle, rssOpen, rssPeak int64 // the evaluator's; 0 without -evaluator-pid
	selfRSS                   int64
	changes                   []change
	all                       summary
	early, missed             int
	ended                     int
	firstEnd                  error
}

// measure opens the streams, then announces o.changes writes to them.
func (f *fanout) measure(ctx context.Context, o options) (*report, error) {
	if err := f.admin.EnsureFlag(ctx, o.project, map[string]any{"key": probe, "kind": "boolean",
		"description": "Flipped by the fan-out measurement"}); err != nil {
		return nil, err
	}
	if _, err := f.admin.Configure(ctx, o.project, probe, o.env, map[string]any{"enabled": true,
		"default": map[string]any{"variant": "on"}, "off_variant": "off"}); err != nil {
		return nil, err
	}
	keys, err := f.newKeys(ctx, o.keys, "fan-out measurement")
	if err != nil {
		return nil, err
	}
	r := &report{streams: o.streams, keys: o.keys}
	evalRSS := func() int64 {
		if o.evaluatorPID == 0 {
			return 0
		}
		b, err := procstat.RSS(o.evaluatorPID)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fanout: evaluator RSS:", err)
		}
		return b
	}
	r.rssIdle = evalRSS()

	fmt.Fprintf(os.Stderr, "fanout: opening %d streams over %d keys\n", o.streams, o.keys)
	op := openMany(ctx, f.ep, keys, o.streams, o.ramp, o.concurrency, o.timeout)
	f.hold(f.ep, op.streams)
	r.openTook = op.took
	if len(op.streams) < o.streams {
		return nil, openFailure(o.streams, op)
	}
	fmt.Fprintf(os.Stderr, "fanout: %d streams open in %v\n", len(op.streams), op.took.Round(time.Millisecond))
	time.Sleep(time.Second) // let the evaluator settle before reading its memory
	r.rssOpen = evalRSS()
	r.rssPeak = r.rssOpen
	r.selfRSS, _ = procstat.RSS(os.Getpid())

	toggle := "/api/v1/projects/" + o.project + "/flags/" + probe + "/environments/" + o.env + "/toggle"
	var all []time.Duration
	for i := range o.changes {
		want := i%2 == 1 // configured on above: the first write turns it off
		if err := f.admin.Expect(ctx, nil, http.MethodPost, toggle, map[string]any{"enabled": want}, http.StatusOK); err != nil {
			return nil, fmt.Errorf("change %d: %w", i+1, err)
		}
		ack := time.Now()
		// Read after the answer: the version the write made, or a newer one if something
		// else wrote meanwhile (which only makes the figures worse, never better).
		v, err := f.envVersion(ctx)
		if err != nil {
			return nil, err
		}
		if peak := f.await(op.streams, v, ack.Add(o.timeout), evalRSS); peak > r.rssPeak {
			r.rssPeak = peak
		}
		lat, early, missed := latencies(op.streams, v, ack)
		all = append(all, lat...)
		c := change{version: v, lat: summarize(lat), early: early, missed: missed}
		r.changes = append(r.changes, c)
		r.early += early
		r.missed += missed
		fmt.Fprintf(os.Stderr, "fanout: change %d (version %d): p99 %v, %d missed\n", i+1, v, round(c.lat.p99), missed)
	}
	r.all = summarize(all)
	for _, s := range op.streams {
		if err := s.endedWith(); err != nil {
			if r.ended++; r.firstEnd == nil {
				r.firstEnd = err
			}
		}
	}
	return r, nil
}

// await waits until every stream has version v, or has ended, or until deadline;
// meanwhile it samples the evaluator's memory and returns the highest sample.
func (f *fanout) await(streams []*stream, v int64, deadline time.Time, evalRSS func() int64) int64 {
	var peak int64
	sampled := time.Time{}
	pending := streams
	for len(pending) > 0 && time.Now().Before(deadline) {
		if time.Since(sampled) >= 100*time.Millisecond {
			peak = max(peak, evalRSS())
			sampled = time.Now()
		}
		time.Sleep(5 * time.Millisecond)
		next := pending[:0:0]
		for _, s := range pending {
			if s.latest.Load() < v && s.endedWith() == nil {
				next = append(next, s)
			}
		}
		pending = next
	}
	return max(peak, evalRSS())
}

func openFailure(n int, op opened) error {
	msg := fmt.Sprintf("opened %d of %d streams in %v", len(op.streams), n, op.took.Round(time.Millisecond))
	if len(op.refusals) > 0 {
		msg += fmt.Sprintf("; %d refused, the first: %v", len(op.refusals), op.refusals[0])
	}
	if len(op.errs) > 0 {
		msg += fmt.Sprintf("; %d failed, the first: %v", len(op.errs), op.errs[0])
	}
	return errors.New(msg)
}

// failure is the run's error when a stream ended early or missed a change. Missed
// targets are reported, not failures.
func (r *report) failure() error {
	switch {
	case r.ended > 0:
		return fmt.Errorf("%d streams ended while measured, the first: %v", r.ended, r.firstEnd)
	case r.missed > 0:
		return fmt.Errorf("%d times a stream did not hear of a change in time", r.missed)
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func (r *report) write(w io.Writer, o options) {
	fmt.Fprintf(w, "## Fan-out (%d streams over %d SDK keys, %d changes)\n\n", r.streams, r.keys, len(r.changes))
	fmt.Fprintf(w, "%d streams of `GET /api/v1/stream` opened in %v (at most %d a second, %d at a time); each got its first event.\n"+
		"Latency is from the admin's answer to a write to a stream's event with the new version, as this tool read it on the same machine.\n\n",
		r.streams, r.openTook.Round(time.Millisecond), o.ramp, o.concurrency)
	fmt.Fprintln(w, "| change | version | streams told | p50 | p99 | max | missed |\n|---|---|---|---|---|---|---|")
	for i, c := range r.changes {
		fmt.Fprintf(w, "| %d | %d | %d | %v | %v | %v | %d |\n", i+1, c.version, c.lat.n, round(c.lat.p50), round(c.lat.p99), round(c.lat.max), c.missed)
	}
	fmt.Fprintf(w, "| all | | %d | %v | %v | %v | %d |\n\n", r.all.n, round(r.all.p50), round(r.all.p99), round(r.all.max), r.missed)
	if r.early > 0 {
		fmt.Fprintf(w, "%d events arrived before the admin's answer and count as 0.\n\n", r.early)
	}
	fmt.Fprintln(w, "| measure | value |\n|---|---|")
	if o.evaluatorPID != 0 {
		per := float64(r.rssOpen-r.rssIdle) / float64(max(1, r.streams))
		fmt.Fprintf(w, "| evaluator RSS before the streams | %s |\n", procstat.MiB(r.rssIdle))
		fmt.Fprintf(w, "| evaluator RSS with %d streams open | %s (+%s) |\n", r.streams, procstat.MiB(r.rssOpen), procstat.MiB(r.rssOpen-r.rssIdle))
		fmt.Fprintf(w, "| evaluator RSS, highest while announcing | %s |\n", procstat.MiB(r.rssPeak))
		fmt.Fprintf(w, "| evaluator memory per stream | %.1f KiB |\n", per/1024)
	} else {
		fmt.Fprintln(w, "| evaluator RSS | not measured (no -evaluator-pid) |")
	}
	fmt.Fprintf(w, "| this tool's RSS with the streams open | %s |\n\n", procstat.MiB(r.selfRSS))

	fmt.Fprintln(w, "| target | got | wanted | |\n|---|---|---|---|")
	fmt.Fprintf(w, "| announce p99, every stream and change | %v | ≤ %v | %s |\n", round(r.all.p99), o.p99Budget,
		verdict(r.all.n > 0 && r.all.p99 <= o.p99Budget && r.missed == 0))
	if o.evaluatorPID != 0 {
		fmt.Fprintf(w, "| evaluator RSS with %d streams, highest | %s | ≤ %d MB (%s) | %s |\n", r.streams, procstat.MiB(r.rssPeak),
			o.rssBudget/1_000_000, procstat.MiB(o.rssBudget), verdict(r.rssPeak <= o.rssBudget))
	}
	fmt.Fprintf(w, "| streams ended or changes missed | %d | 0 | %s |\n\n", r.ended+r.missed, verdict(r.ended+r.missed == 0))
}

// limitCheck is one limit's check: what was done, what came back, what should have.
type limitCheck struct {
	what, got, want string
	ok              bool
}

// checkLimits opens one stream more than a key may hold, on a new key, and with
// o.max one more than the evaluator may hold, and checks the refusals.
func (f *fanout) checkLimits(ctx context.Context, o options) ([]limitCheck, error) {
	var checks []limitCheck
	keys, err := f.newKeys(ctx, 1, "fan-out limit check")
	if err != nil {
		return nil, err
	}
	op := openMany(ctx, f.limitsEP, keys, o.perKey+1, o.ramp, o.concurrency, o.timeout)
	f.hold(f.limitsEP, op.streams)
	checks = append(checks, refusedOnce(fmt.Sprintf("%d streams on one new key", o.perKey+1), op, o.perKey,
		http.StatusTooManyRequests, "STREAMS_PER_KEY"))
	if o.max == 0 {
		return checks, nil
	}
	room := o.max - f.heldOn[f.limitsEP.addr]
	what := fmt.Sprintf("%d more streams on new keys, with %d held", room+1, f.heldOn[f.limitsEP.addr])
	if room < 0 {
		return append(checks, limitCheck{what: what, got: "more streams held than -max", want: "-max at least what is held"}), nil
	}
	keys, err = f.newKeys(ctx, (room+o.perKey)/o.perKey, "fan-out limit check")
	if err != nil {
		return nil, err
	}
	op = openMany(ctx, f.limitsEP, keys, room+1, o.ramp, o.concurrency, o.timeout)
	f.hold(f.limitsEP, op.streams)
	return append(checks, refusedOnce(what, op, room, http.StatusServiceUnavailable, "STREAMS_MAX")), nil
}

// refusedOnce checks that all but one stream opened, and the last was refused with
// status, a Retry-After and a problem naming the limit.
func refusedOnce(what string, op opened, accepted, status int, limit string) limitCheck {
	c := limitCheck{what: what, want: fmt.Sprintf("%d opened, one %d with Retry-After, naming %s", accepted, status, limit)}
	c.got = fmt.Sprintf("%d opened", len(op.streams))
	if len(op.refusals) > 0 {
		c.got += fmt.Sprintf(", %d refused: %v", len(op.refusals), op.refusals[0])
	}
	if len(op.errs) > 0 {
		c.got += fmt.Sprintf(", %d failed: %v", len(op.errs), op.errs[0])
	}
	c.ok = len(op.streams) == accepted && len(op.errs) == 0 && len(op.refusals) == 1 &&
		op.refusals[0].status == status && op.refusals[0].retryAfter != "" && strings.Contains(op.refusals[0].detail, limit)
	return c
}

func writeLimits(w io.Writer, o options, checks []limitCheck) {
	fmt.Fprintf(w, "## Stream limits (%s: STREAMS_PER_KEY %d", o.limitsEvaluator, o.perKey)
	if o.max > 0 {
		fmt.Fprintf(w, ", STREAMS_MAX %d", o.max)
	}
	fmt.Fprint(w, ")\n\n| check | got | expected | |\n|---|---|---|---|\n")
	for _, c := range checks {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", c.what, strings.ReplaceAll(c.got, "|", `\|`), c.want, verdict(c.ok))
	}
	fmt.Fprintln(w)
}
