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

// benchLine matches a Go benchmark result: name, iterations, ns/op, and optionally
// B/op and allocs/op.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op(?:\s+([0-9.]+) B/op\s+([0-9.]+) allocs/op)?`)

// summarised are the Go benchmarks the report quotes, with what each measures.
var summarised = []struct{ name, what string }{
	{"BenchmarkEvaluate", "engine: one flag, 10 rules × 3 conditions"},
	{"BenchmarkEvaluateAll1000", "engine: 1,000 flags for one context"},
	{"BenchmarkCompile1000", "snapshot compile: 1,000 flags"},
	{"BenchmarkGet/memory", "snapshot from memory (100 flags)"},
	{"BenchmarkGet/redis", "Redis hit: fetch, decode, compile (100 flags)"},
	{"BenchmarkGet/postgres", "cold PostgreSQL miss: load, compile (100 flags)"},
	{"BenchmarkHandler/ofrep-single", "HTTP handler in process: OFREP single"},
	{"BenchmarkHandler/api-single", "HTTP handler in process: native single"},
	{"BenchmarkHandler/ofrep-bulk-100", "HTTP handler in process: OFREP bulk of 100"},
	{"BenchmarkHandler/api-bulk-100", "HTTP handler in process: native bulk of 100"},
}

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

func goBenchmarks(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	ns := map[string][]float64{}
	allocs := map[string][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		ns[m[1]] = append(ns[m[1]], v)
		if m[4] != "" {
			a, _ := strconv.ParseFloat(m[4], 64)
			allocs[m[1]] = append(allocs[m[1]], a)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Fprintf(w, "## Go benchmarks (median of each benchmark's runs; full output in %s)\n\n", path)
	fmt.Fprintln(w, "| benchmark | what | time/op | allocs/op | runs |\n|---|---|---|---|---|")
	for _, s := range summarised {
		v := ns[s.name]
		if len(v) == 0 {
			fmt.Fprintf(w, "| `%s` | %s | not run | | |\n", strings.TrimPrefix(s.name, "Benchmark"), s.what)
			continue
		}
		a := "?"
		if len(allocs[s.name]) > 0 {
			a = strconv.FormatFloat(median(allocs[s.name]), 'f', -1, 64)
		}
		fmt.Fprintf(w, "| `%s` | %s | %v | %s | %d |\n", strings.TrimPrefix(s.name, "Benchmark"), s.what,
			roundDuration(time.Duration(median(v))), a, len(v))
	}
	fmt.Fprintln(w)
	return nil
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
