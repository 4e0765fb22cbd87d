// Command fanout measures how the evaluator's definitions stream (GET /api/v1/stream,
// docs/LIVE_UPDATES.md) fans a change out: it opens -streams streams spread over
// -keys new server SDK keys, records the evaluator's resident memory before and with
// them open, then flips a probe flag -changes times through the admin API and
// measures, for every stream, the time from the admin's answer to the write to the
// stream's event announcing the new environment version. With -check-limits it then
// opens one stream more than STREAMS_PER_KEY allows on a new key, and, given -max,
// one more than STREAMS_MAX, and checks that each extra one is refused clearly.
//
//	fanout -admin http://127.0.0.1:8080 -token $ADMIN_TOKEN -evaluator http://127.0.0.1:8081 \
//	       -project demo -streams 10000 -evaluator-pid $(pgrep -n evaluator) -check-limits
//
// Each stream is a raw connection with a hand-written request, one goroutine and
// buffers of about a kilobyte, so that the tool's own cost stays small beside the
// evaluator's on the same machine. It writes Markdown to stdout, progress to stderr,
// and exits non-zero when a stream could not be opened, ended, or missed a change.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"
)

type options struct {
	admin, token, evaluator, project, env string
	streams, keys, changes, evaluatorPID  int
	ramp, concurrency                     int
	timeout, hold                         time.Duration
	checkLimits                           bool
	limitsEvaluator                       string
	perKey, max                           int
	rssBudget                             int64
	p99Budget                             time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.admin, "admin", "http://127.0.0.1:8080", "admin service base URL")
	flag.StringVar(&o.token, "token", os.Getenv("ADMIN_TOKEN"), "admin token (default $ADMIN_TOKEN)")
	flag.StringVar(&o.evaluator, "evaluator", "http://127.0.0.1:8081", "evaluator base URL")
	flag.StringVar(&o.project, "project", "demo", "project key")
	flag.StringVar(&o.env, "environment", "production", "environment key")
	flag.IntVar(&o.streams, "streams", 10_000, "streams to hold open (0: only -check-limits)")
	flag.IntVar(&o.keys, "keys", 0, "server SDK keys to spread the streams over (default: streams ÷ -per-key, rounded up)")
	flag.IntVar(&o.changes, "changes", 5, "changes to announce")
	flag.IntVar(&o.evaluatorPID, "evaluator-pid", 0, "the evaluator's process id, for its resident memory")
	flag.IntVar(&o.ramp, "ramp", 2000, "streams opened per second at most (0: no limit)")
	flag.IntVar(&o.concurrency, "concurrency", 64, "streams being opened at once at most")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "longest wait for a stream to open, or for every stream to hear of one change")
	flag.DurationVar(&o.hold, "hold", 0, "keep the streams open this long after measuring (to profile the evaluator meanwhile)")
	flag.BoolVar(&o.checkLimits, "check-limits", false, "then check the refusals past STREAMS_PER_KEY (and STREAMS_MAX, with -max)")
	flag.StringVar(&o.limitsEvaluator, "limits-evaluator", "", "evaluator whose limits are checked (default -evaluator)")
	flag.IntVar(&o.perKey, "per-key", 1000, "the evaluators' STREAMS_PER_KEY")
	flag.IntVar(&o.max, "max", 0, "STREAMS_MAX of the -limits-evaluator, to check it (0: not checked); nobody else may hold streams there")
	flag.Int64Var(&o.rssBudget, "rss-budget", 300_000_000, "target: the evaluator's RSS with the streams open, bytes")
	flag.DurationVar(&o.p99Budget, "p99-budget", time.Second, "target: p99 from a write's answer to a stream's event")
	flag.Parse()
	if o.limitsEvaluator == "" {
		o.limitsEvaluator = o.evaluator
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
}

func (o *options) validate() error {
	switch {
	case o.token == "":
		return errors.New("an admin token (-token or $ADMIN_TOKEN) is needed")
	case o.streams < 0 || o.changes < 0 || o.keys < 0:
		return errors.New("-streams, -changes and -keys cannot be negative")
	case o.perKey < 1:
		return errors.New("-per-key must be at least 1")
	case o.streams == 0 && !o.checkLimits:
		return errors.New("nothing to do: -streams 0 without -check-limits")
	}
	if o.keys == 0 {
		o.keys = (o.streams + o.perKey - 1) / o.perKey
	}
	if o.streams > 0 && (o.streams+o.keys-1)/o.keys > o.perKey {
		return fmt.Errorf("-keys %d: %d streams need at least %d keys at %d per key (-per-key, the evaluator's STREAMS_PER_KEY)",
			o.keys, o.streams, (o.streams+o.perKey-1)/o.perKey, o.perKey)
	}
	return nil
}

// raiseFileLimit lifts the soft limit on open files to the hard one: each stream is a
// descriptor. (Go has done so by itself since 1.19; this keeps it visible, and returns
// the limit to check against.)
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	return lim.Cur, nil
}

// roomFor fails unless n more descriptors fit under the limit, with some to spare.
func roomFor(limit uint64, n int) error {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil // not Linux: let the dials say so
	}
	if need := uint64(len(fds) + n + 64); need > limit {
		return fmt.Errorf("%d more streams need about %d open files, over this process's limit of %d (ulimit -n; the hard limit is ulimit -Hn)",
			n, need, limit)
	}
	return nil
}

func run(ctx context.Context, o options) error {
	if err := o.validate(); err != nil {
		return err
	}
	limit, err := raiseFileLimit()
	if err != nil {
		return fmt.Errorf("raising the open-file limit: %w", err)
	}
	f, err := newFanout(ctx, o)
	if err != nil {
		return err
	}
	defer f.cleanup(ctx)

	var failed error
	if o.streams > 0 {
		if err := roomFor(limit, o.streams); err != nil {
			return err
		}
		r, err := f.measure(ctx, o)
		if err != nil {
			return err
		}
		r.write(os.Stdout, o)
		failed = r.failure()
		if o.hold > 0 {
			fmt.Fprintf(os.Stderr, "fanout: holding %d streams for %v\n", o.streams, o.hold)
			time.Sleep(o.hold)
		}
	}
	if o.checkLimits {
		need := o.perKey + 1
		if o.max > 0 {
			need = max(need, o.max+1)
		}
		if err := roomFor(limit, need); err != nil {
			return err
		}
		checks, err := f.checkLimits(ctx, o)
		if err != nil {
			return err
		}
		writeLimits(os.Stdout, o, checks)
		for _, c := range checks {
			if !c.ok && failed == nil {
				failed = fmt.Errorf("limit check failed: %s", c.what)
			}
		}
	}
	return failed
}
