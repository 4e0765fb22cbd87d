package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/services/evaluator/internal/adminclient"
)

const (
	project      = "chaos"        // evaluated flags and the probe
	writeProject = "chaos-writes" // the write burst's flags, apart so they do not churn snapshots
	env          = "production"
	evalFlags    = 10
	probeFlag    = "probe"
)

// evalLoad evaluates static flags on the replicas in turn, as an SDK behind a load
// balancer would: a replica that refuses the connection or answers 5xx is retried on
// the other. An evaluation fails when no replica gives the right answer.
type evalLoad struct {
	replicas          []*adminclient.Client
	ok, retried, fail atomic.Int64
	mu                sync.Mutex
	failures          []string // the first few, for the report
}

func (l *evalLoad) run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				flag := fmt.Sprintf("eval-%02d", i%evalFlags)
				first := (w + i) % len(l.replicas)
				var last string
				done := false
				for try := range len(l.replicas) {
					r := l.replicas[(first+try)%len(l.replicas)]
					// Each evaluation gets its own deadline, not the run's: a request in
					// flight when the load stops still counts.
					cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					status, res, err := r.OFREP(cctx, flag, map[string]any{"targetingKey": fmt.Sprintf("user-%d", i)})
					cancel()
					switch {
					case err == nil && status == http.StatusOK && res.Value == true:
						done = true
					case err != nil:
						last = err.Error()
					default:
						last = fmt.Sprintf("%d %s %v", status, res.ErrorCode, res.Value)
					}
					if done {
						break
					}
					if try == 0 {
						l.retried.Add(1)
					}
				}
				if done {
					l.ok.Add(1)
				} else {
					l.fail.Add(1)
					l.mu.Lock()
					if len(l.failures) < 5 {
						l.failures = append(l.failures, time.Now().Format("15:04:05.000")+" "+flag+": "+last)
					}
					l.mu.Unlock()
				}
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
}

// writes creates uniquely named flags as fast as burst allows: acknowledged (201),
// refused (an answer other than 201), or unknown (no answer: the admin service went
// away mid-request, so the write may or may not have happened).
type writes struct {
	admin   *adminclient.Client
	burst   atomic.Bool
	next    atomic.Int64
	mu      sync.Mutex
	acked   []string
	refused atomic.Int64
	unknown atomic.Int64
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
					w.unknown.Add(1)
				case status == http.StatusCreated:
					w.mu.Lock()
					w.acked = append(w.acked, key)
					w.mu.Unlock()
				default:
					w.refused.Add(1)
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
	faulty   func() bool // whether a fault is active now

	mu          sync.Mutex
	steady      []time.Duration // convergence measured entirely outside fault windows
	all         []time.Duration // convergence, every write
	maxStale    time.Duration   // the longest a replica served the old value after a write
	writeFailed int
	want        bool
}

func (p *probe) run(ctx context.Context) {
	toggle := "/api/v1/projects/" + project + "/flags/" + probeFlag + "/environments/" + env + "/toggle"
	want := false
	for ctx.Err() == nil {
		want = !want
		faultAtStart := p.faulty()
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := p.admin.Expect(cctx, nil, http.MethodPost, toggle, map[string]any{"enabled": want}, http.StatusOK)
		cancel()
		if err != nil {
			p.mu.Lock()
			p.writeFailed++
			p.mu.Unlock()
			want = !want // not written; try the same value again
			time.Sleep(100 * time.Millisecond)
			continue
		}
		acked := time.Now()
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
				p.maxStale = max(p.maxStale, stale)
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
