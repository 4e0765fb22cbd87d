package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// benchLine matches a Go benchmark result: name, iterations, then pairs of a value and
// its unit (ns/op, B/op, allocs/op, and any the benchmark reports itself).
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

var metricPair = regexp.MustCompile(`([0-9.e+-]+) (\S+)`)

// summarised are the Go benchmarks the report quotes, with what each measures.
var summarised = []struct{ name, what string }{
	{"BenchmarkEvaluate", "engine: one flag, 10 rules × 3 conditions"},
	{"BenchmarkEvaluateAll1000", "engine: 1,000 flags for one context"},
	{"BenchmarkCompile1000", "snapshot compile: 1,000 flags"},
	{"BenchmarkGet/memory", "snapshot from memory (100 flags)"},
	{"BenchmarkGet/redis", "Redis hit: fetch, decode, compile (100 flags)"},
	{"BenchmarkGet/postgres", "cold PostgreSQL miss: load, compile (100 flags)"},
	{"BenchmarkColdLoad10k/postgres", "cold PostgreSQL miss: load, compile (10,000 flags)"},
	{"BenchmarkColdLoad10k/redis", "Redis hit: fetch, decode, compile (10,000 flags)"},
	{"BenchmarkHandler/floor", "HTTP handler in process: the floor (bare echo, body decoded)"},
	{"BenchmarkHandler/ofrep-single", "HTTP handler in process: OFREP single"},
	{"BenchmarkHandler/api-single", "HTTP handler in process: native single (GET)"},
	{"BenchmarkHandler/api-post-single", "HTTP handler in process: native single (POST)"},
	{"BenchmarkHandler/ofrep-bulk-100", "HTTP handler in process: OFREP bulk of 100"},
	{"BenchmarkHandler/api-bulk-100", "HTTP handler in process: native bulk of 100"},
	{"BenchmarkLoopback/floor-post", "end to end on loopback: the floor, POST"},
	{"BenchmarkLoopback/ofrep-single", "end to end on loopback: OFREP single"},
	{"BenchmarkLoopback/floor-get", "end to end on loopback: the floor, GET"},
	{"BenchmarkLoopback/api-single", "end to end on loopback: native single (GET)"},
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

// benchRuns are the figures of each benchmark, per unit, one per run.
type benchRuns map[string]map[string][]float64

// metric is the median of a benchmark's figure in unit, and whether it ran.
func (r benchRuns) metric(name, unit string) (float64, bool) {
	v := r[name][unit]
	if len(v) == 0 {
		return 0, false
	}
	return median(v), true
}

func readBenchmarks(path string) (benchRuns, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	runs := benchRuns{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		if runs[m[1]] == nil {
			runs[m[1]] = map[string][]float64{}
		}
		for _, p := range metricPair.FindAllStringSubmatch(m[2], -1) {
			v, err := strconv.ParseFloat(p[1], 64)
			if err == nil {
				runs[m[1]][p[2]] = append(runs[m[1]][p[2]], v)
			}
		}
	}
	return runs, sc.Err()
}

func goBenchmarks(w io.Writer, path string, t *targets) error {
	runs, err := readBenchmarks(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "## Go benchmarks (median of each benchmark's runs; full output in %s)\n\n", path)
	fmt.Fprintln(w, "| benchmark | what | time/op | allocs/op | runs |\n|---|---|---|---|---|")
	for _, s := range summarised {
		ns, ok := runs.metric(s.name, "ns/op")
		if !ok {
			fmt.Fprintf(w, "| `%s` | %s | not run | | |\n", strings.TrimPrefix(s.name, "Benchmark"), s.what)
			continue
		}
		a := "?"
		if v, ok := runs.metric(s.name, "allocs/op"); ok {
			a = strconv.FormatFloat(v, 'f', -1, 64)
		}
		fmt.Fprintf(w, "| `%s` | %s | %v | %s | %d |\n", strings.TrimPrefix(s.name, "Benchmark"), s.what,
			roundDuration(time.Duration(ns)), a, len(runs[s.name]["ns/op"]))
	}
	fmt.Fprintln(w)
	goTargets(w, runs, t)
	return nil
}

// goTargets judges the targets the Go benchmarks measure.
func goTargets(w io.Writer, runs benchRuns, t *targets) {
	// Allocations per request: the handler's own (BenchmarkHandler reuses the request
	// and the writer), and end to end on a loopback connection (BenchmarkLoopback),
	// which adds what net/http allocates to read a request and write its answer, as it
	// does for every server, the floor included.
	for _, c := range []struct{ name, floor string }{{"ofrep-single", "floor-post"}, {"api-single", "floor-get"}} {
		what := "heap allocations per request, " + c.name + ", handler (BenchmarkHandler)"
		if v, ok := runs.metric("BenchmarkHandler/"+c.name, "allocs/op"); ok {
			floor, _ := runs.metric("BenchmarkHandler/floor", "allocs/op")
			t.add(what, v <= 10, fmt.Sprintf("%.0f (the floor's handler: %.0f)", v, floor), "≤ 10")
		} else {
			t.unmeasured(what, "≤ 10", "not run")
		}
		what = "heap allocations per request, " + c.name + ", end to end with net/http (BenchmarkLoopback)"
		if v, ok := runs.metric("BenchmarkLoopback/"+c.name, "allocs/op"); ok {
			floor, _ := runs.metric("BenchmarkLoopback/"+c.floor, "allocs/op")
			t.add(what, v <= 10, fmt.Sprintf("%.0f (the floor end to end: %.0f)", v, floor), "≤ 10")
		} else {
			t.unmeasured(what, "≤ 10", "not run")
		}
	}
	if v, ok := runs.metric("BenchmarkColdLoad10k/redis", "ns/op"); ok {
		d := time.Duration(v)
		t.add("Redis hit for 10,000 flags: fetch, decode, compile (BenchmarkColdLoad10k/redis)", d <= 30*time.Millisecond,
			d.Round(10*time.Microsecond).String(), "≤ 30 ms")
	} else {
		t.unmeasured("Redis hit for 10,000 flags", "≤ 30 ms", "BenchmarkColdLoad10k/redis not run")
	}
	pg, okPG := runs.metric("BenchmarkSnapshotMemory10k/postgres", "B/flag")
	rd, okRedis := runs.metric("BenchmarkSnapshotMemory10k/redis", "B/flag")
	if okPG && okRedis {
		fmt.Fprintf(w, "A compiled flag of the benchmark's shape holds %.0f bytes loaded from PostgreSQL, %.0f from Redis (BenchmarkSnapshotMemory10k).\n\n", pg, rd)
	} else {
		t.unmeasured("bytes per compiled flag", "measured", "BenchmarkSnapshotMemory10k not run")
	}
	// Refresh stalls: in a tight loop of millions of lookups a refresh is one sample,
	// so p99 cannot show a stall (it is printed, not judged); the slowest lookup shows
	// it. A lookup that waited for a reload of 10,000 flags would take as long as the
	// reload (over 100 ms); one that did not takes microseconds, plus what the scheduler
	// and the collector add while a background reload shares the cores. Each case must
	// have done its kind of refresh: confirmations, or reloads.
	fmt.Fprintln(w, "| lookups of 10,000 flags while the snapshot passes its max age (50 ms) | p99 | p99.9 | slowest | confirmations | reloads |\n|---|---|---|---|---|---|")
	const stall = 10 * time.Millisecond
	for _, c := range []struct{ name, kind string }{{"never", ""}, {"confirmed", "confirmations"}, {"reloaded", "reloads"}} {
		n := "BenchmarkMaxAgeBoundary/" + c.name
		p99, ok := runs.metric(n, "p99-µs")
		if !ok {
			t.unmeasured("no refresh stalls: "+c.name, "", n+" not run")
			continue
		}
		p999, _ := runs.metric(n, "p99.9-µs")
		slowest, _ := runs.metric(n, "max-µs")
		confirmations, _ := runs.metric(n, "confirmations")
		reloads, _ := runs.metric(n, "reloads")
		fmt.Fprintf(w, "| %s | %.2f µs | %.2f µs | %.0f µs | %.0f | %.0f |\n", c.name, p99, p999, slowest, confirmations, reloads)
		if c.kind == "" {
			continue
		}
		done, _ := runs.metric(n, c.kind)
		d := time.Duration(slowest * float64(time.Microsecond))
		t.add(fmt.Sprintf("no refresh stalls, %s at each max age: slowest lookup over %.0f %s (median of runs)", c.name, done, c.kind),
			done >= 3 && d < stall, d.Round(10*time.Microsecond).String(), fmt.Sprintf("< %v, with ≥ 3 %s", stall, c.kind))
	}
	fmt.Fprintln(w)
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	case d > time.Microsecond:
		return d.Round(10 * time.Nanosecond)
	}
	return d
}
