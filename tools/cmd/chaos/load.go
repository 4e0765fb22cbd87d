package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/tools/internal/adminclient"
)

const (
	project      = "chaos"        // evaluated flags and the probe
	writeProject = "chaos-writes" // the write burst's flags, apart so they do not churn snapshots
	env          = "production"
	evalFlags    = 10
	probeFlag    = "probe"
)

// answer is one replica's reply to an evaluation.
type answer struct {
	status int // 0 when no answer came
	value  any
	err    error // the transport error, or a body that would not decode
}

// outcome is what the client does with an answer.
type outcome int

const (
	served outcome = iota // the right value
	again                 // what a load balancer retries on another replica
	wrong                 // a failure no retry may hide
)

// judge classifies an answer. Only what a load balancer retries moves to the other
// replica: a refused or reset connection (the replica is not there) and 502/503/504.
// A wrong value, a 4xx, a 500 or a timeout is a failed evaluation: retrying it would
// hide a replica that answers wrongly.
func judge(a answer) (outcome, string) {
	switch {
	case a.status == 0 && a.err != nil:
		if reason, ok := gone(a.err); ok {
			return again, reason
		}
		return wrong, "no answer: " + a.err.Error()
	case a.status == http.StatusBadGateway, a.status == http.StatusServiceUnavailable, a.status == http.StatusGatewayTimeout:
		return again, fmt.Sprint(a.status)
	case a.status != http.StatusOK:
		return wrong, fmt.Sprintf("answered %d", a.status)
	case a.err != nil:
		return wrong, "unreadable answer: " + a.err.Error()
	case a.value != true:
		return wrong, fmt.Sprintf("served %v, want true", a.value)
	}
	return served, ""
}

// gone is whether a transport error means the replica was not there to answer: the
// connection was refused, or closed before any answer (a replica shutting down closes
// its idle connections, and a request may race that).
func gone(err error) (string, bool) {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", true
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		strings.Contains(err.Error(), "server closed idle connection"): // net/http exports no error for it
		return "connection closed", true
	}
	return "", false
}

// evaluate asks one replica for a flag through OFREP.
func evaluate(c *adminclient.Client, flag, key string) answer {
	// Each evaluation gets its own deadline, not the run's: a request in flight when the
	// load stops still counts.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	status, raw, err := c.Do(ctx, http.MethodPost, "/ofrep/v1/evaluate/flags/"+flag,
		map[string]any{"context": map[string]any{"targetingKey": key}})
	if err != nil {
		return answer{status: status, err: err}
	}
	var res adminclient.OFREPResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return answer{status: status, err: fmt.Errorf("%w: %.100s", err, raw)}
	}
	return answer{status: status, value: res.Value}
}

// evalLoad evaluates static flags on the replicas in turn, as an SDK behind a load
// balancer would; see judge for what is retried.
type evalLoad struct {
	replicas []*adminclient.Client
	names    []string
	since    func() time.Duration

	mu      sync.Mutex
	ended   []time.Duration // when each evaluation ended
	failed  []string
	retries []retry
}

func (l *evalLoad) run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				l.once(fmt.Sprintf("eval-%02d", i%evalFlags), fmt.Sprintf("user-%d", i), (w+i)%len(l.replicas))
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
}

// once evaluates a flag, starting on replica first and moving on only when judge says
// a load balancer would.
func (l *evalLoad) once(flag, key string, first int) {
	for try := range len(l.replicas) {
		i := (first + try) % len(l.replicas)
		a := evaluate(l.replicas[i], flag, key)
		out, reason := judge(a)
		at := l.since()
		l.mu.Lock()
		switch {
		case out == served:
			l.ended = append(l.ended, at)
		case out == again && try < len(l.replicas)-1:
			l.retries = append(l.retries, retry{at: at, replica: l.names[i], status: a.status, reason: reason})
		default:
			l.ended = append(l.ended, at)
			l.failed = append(l.failed, fmt.Sprintf("%.3fs %s on %s: %s", at.Seconds(), flag, l.names[i], reason))
		}
		l.mu.Unlock()
		if out != again {
			return
		}
	}
}

// writeLog records writes that were not acknowledged, with their status.
type writeLog struct {
	since    func() time.Duration
	mu       sync.Mutex
	refusals []refusal
}

func (w *writeLog) refused(status int) {
	at := w.since()
	w.mu.Lock()
	w.refusals = append(w.refusals, refusal{at: at, status: status})
	w.mu.Unlock()
}

// writes creates uniquely named flags as fast as burst allows: acknowledged (201),
// refused (another answer), or unknown (no answer: the admin service went away
// mid-request, so the write may or may not have happened).
type writes struct {
	admin *adminclient.Client
	log   *writeLog
	burst atomic.Bool
	next  atomic.Int64
	mu    sync.Mutex
	acked []string
}

func (w *writes) run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				key := fmt.Sprintf("w-%06d", w.next.Add(1))
				cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				status, _, err := w.admin.Do(cctx, http.MethodPost, "/api/v1/projects/"+writeProject+"/flags",
					map[string]any{"key": key, "kind": "boolean"})
				cancel()
				switch {
				case err != nil:
					w.log.refused(0)
				case status == http.StatusCreated:
					w.mu.Lock()
					w.acked = append(w.acked, key)
					w.mu.Unlock()
				default:
					w.log.refused(status)
				}
				if !w.burst.Load() {
					time.Sleep(25 * time.Millisecond)
				} else if err != nil {
					time.Sleep(5 * time.Millisecond) // the admin service is restarting
				}
			}
		}()
	}
	wg.Wait()
}

// probe flips the probe flag and measures, on each replica, the time from the write's
// acknowledgement to the replica serving the new value: propagation when no fault is
// active, staleness in general.
type probe struct {
	admin    *adminclient.Client
	replicas []*adminclient.Client
	log      *writeLog
	faulty   func() bool // whether a fault is active now

	mu     sync.Mutex
	steady []time.Duration // convergence measured entirely outside fault windows
	all    []time.Duration // convergence, every write
	stale  []staleness
	since  func() time.Duration
	want   bool
}

func (p *probe) run(ctx context.Context) {
	toggle := "/api/v1/projects/" + project + "/flags/" + probeFlag + "/environments/" + env + "/toggle"
	want := false
	for ctx.Err() == nil {
		want = !want
		faultAtStart := p.faulty()
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		status, _, err := p.admin.Do(cctx, http.MethodPost, toggle, map[string]any{"enabled": want})
		cancel()
		if err != nil || status != http.StatusOK {
			p.log.refused(status) // 0 when err: no answer
			want = !want          // not written; try the same value again
			time.Sleep(100 * time.Millisecond)
			continue
		}
		acked, ackedAt := time.Now(), p.since()
		p.mu.Lock()
		p.want = want
		p.mu.Unlock()
		var wg sync.WaitGroup
		for _, r := range p.replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, stale := waitServed(r, want, acked, 60*time.Second)
				p.mu.Lock()
				p.all = append(p.all, d)
				if stale > 0 {
					p.stale = append(p.stale, staleness{at: ackedAt, d: stale})
				}
				if !faultAtStart && !p.faulty() {
					p.steady = append(p.steady, d)
				}
				p.mu.Unlock()
			}()
		}
		wg.Wait()
		time.Sleep(50 * time.Millisecond)
	}
}

// waitServed polls a replica until it serves want. It returns how long after since
// that happened (converged) and how long after since the replica was last seen serving
// the old value (stale; zero when never). A replica that does not answer is neither.
func waitServed(r *adminclient.Client, want bool, since time.Time, limit time.Duration) (converged, stale time.Duration) {
	for time.Since(since) < limit {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		status, res, err := r.OFREP(cctx, probeFlag, map[string]any{"targetingKey": "probe"})
		cancel()
		if err == nil && status == http.StatusOK {
			if res.Value == want {
				return time.Since(since), stale
			}
			stale = time.Since(since)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return limit, stale
}
