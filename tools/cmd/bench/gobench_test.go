package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoTargets: the targets judged from the Go benchmarks' output pass only on the
// work they claim, and a missing benchmark is "not measured", never met.
func TestGoTargets(t *testing.T) {
	const out = `
BenchmarkHandler/floor-2          1000  4000 ns/op  1560 B/op  33 allocs/op
BenchmarkHandler/ofrep-single-2   1000  3000 ns/op   312 B/op   5 allocs/op
BenchmarkHandler/api-single-2     1000  2000 ns/op   168 B/op  12 allocs/op
BenchmarkColdLoad10k/redis-2         5  31000000 ns/op
BenchmarkSnapshotMemory10k/postgres-2  1  1 ns/op  745.0 B/flag
BenchmarkMaxAgeBoundary/never-2      1  1000000000 ns/op  500 max-µs  0.13 p99-µs  0.3 p99.9-µs  0 confirmations  0 reloads
BenchmarkMaxAgeBoundary/confirmed-2  1  1000000000 ns/op  3000 max-µs  0.14 p99-µs  0.3 p99.9-µs  19 confirmations  0 reloads
BenchmarkMaxAgeBoundary/reloaded-2   1  1000000000 ns/op  5000 max-µs  0.15 p99-µs  0.3 p99.9-µs  0 confirmations  2 reloads
`
	path := filepath.Join(t.TempDir(), "go-bench.txt")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	var tg targets
	if err := goBenchmarks(io.Discard, path, &tg); err != nil {
		t.Fatal(err)
	}
	verdict := func(prefix string) string {
		for _, x := range tg.list {
			if strings.HasPrefix(x.what, prefix) {
				switch {
				case !x.measured:
					return "not measured"
				case x.ok:
					return "met"
				}
				return "missed"
			}
		}
		return "absent"
	}
	for prefix, want := range map[string]string{
		"heap allocations per request, ofrep-single, handler":    "met",
		"heap allocations per request, api-single, handler":      "missed", // 12
		"heap allocations per request, ofrep-single, end to end": "not measured",
		"Redis hit for 10,000 flags":                             "missed", // 31 ms
		"no refresh stalls, confirmed":                           "met",
		"no refresh stalls, reloaded":                            "missed", // 2 reloads only
		"bytes per compiled flag":                                "not measured",
	} {
		if got := verdict(prefix); got != want {
			t.Errorf("%s: %s, want %s", prefix, got, want)
		}
	}
}
