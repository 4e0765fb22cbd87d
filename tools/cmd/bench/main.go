// Command bench is the load half of make bench. Against running services on loopback
// it seeds a project of 100 flags and one of 10,000 through the admin API, then:
//
//   - loads the HTTP floor (cmd/httpfloor: GET with the query decoded, POST with the
//     body decoded) and the evaluator with wrk, with the same settings, for native
//     and OFREP single-flag evaluation and native and OFREP bulk evaluation of 100
//     flags, and prints req/s, p50 and p99 with each ratio to its floor;
//   - measures the evaluator's resident memory before and after it loads the
//     10,000-flag environment, and how long cold loads take over HTTP;
//   - measures admin configuration writes: one writer's latency, 8 writers' rate;
//   - summarises the Go benchmarks of the same run (engine, compile, cache levels,
//     handlers) from their output file;
//   - prints every target of the performance round as met or missed.
//
// Each load figure is measured -rounds times (default 3) and reported as the median.
//
// It writes the report as Markdown to stdout and to -out.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

type options struct {
	admin, token, evaluator, floor string
	evaluatorPID                   int
	threads, connections           int
	duration, warmup               time.Duration
	rounds                         int
	bigFlags                       int
	goBench, out                   string
}

func main() {
	var o options
	flag.StringVar(&o.admin, "admin", "http://127.0.0.1:8080", "admin service base URL")
	flag.StringVar(&o.token, "token", os.Getenv("ADMIN_TOKEN"), "admin token (default $ADMIN_TOKEN)")
	flag.StringVar(&o.evaluator, "evaluator", "http://127.0.0.1:8081", "evaluator base URL")
	flag.StringVar(&o.floor, "floor", "http://127.0.0.1:18190", "httpfloor base URL")
	flag.IntVar(&o.evaluatorPID, "evaluator-pid", 0, "the evaluator's process id, for its resident memory")
	flag.IntVar(&o.threads, "threads", 2, "wrk threads")
	flag.IntVar(&o.connections, "connections", 64, "wrk connections")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured wrk run")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "length of the unmeasured wrk run before each")
	flag.IntVar(&o.rounds, "rounds", 3, "times each load figure is measured (the report gives medians)")
	flag.IntVar(&o.bigFlags, "big-flags", 10_000, "flags of the environment whose memory is measured")
	flag.StringVar(&o.goBench, "go-bench", "", "output of the Go benchmarks of this run, to summarise")
	flag.StringVar(&o.out, "out", "", "also write the report here")
	flag.Parse()
	if o.rounds < 1 {
		fmt.Fprintln(os.Stderr, "bench: -rounds must be at least 1")
		os.Exit(2)
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.token == "" {
		return errors.New("an admin token (-token or $ADMIN_TOKEN) is needed")
	}
	var report strings.Builder
	w := io.MultiWriter(os.Stdout, &report)
	host, _ := os.Hostname()
	fmt.Fprintf(w, "# Switchyard benchmarks\n\n%s on %s: %d CPUs (%s), %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		host, runtime.NumCPU(), cpuModel(), runtime.Version())

	var t targets
	if o.goBench != "" {
		if err := goBenchmarks(w, o.goBench, &t); err != nil {
			return err
		}
	} else {
		t.unmeasured("the Go benchmarks' targets (allocations, Redis hit, refresh stalls)", "", "Go benchmarks not run (GO_BENCH=0)")
	}

	start := time.Now()
	s, err := seed(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: seeded %d + %d flags in %v\n", benchFlags, o.bigFlags, time.Since(start).Round(time.Millisecond))

	if err := memory(ctx, w, o, s, &t); err != nil {
		return err
	}
	if err := load(ctx, w, o, s, &t); err != nil {
		return err
	}
	if err := writes(ctx, w, o, &t); err != nil {
		return err
	}
	t.print(w)
	if o.out != "" {
		return os.WriteFile(o.out, []byte(report.String()), 0o644)
	}
	return nil
}

func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
