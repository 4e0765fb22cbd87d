package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/tools/internal/adminclient"
)

// writes measures configuration writes through the admin API on loopback: one writer's
// latency (p50, p99 over 200 writes) and the rate of 8 concurrent writers on different
// flags, o.rounds times each; each write changes the rollout, so every one is a real
// change with its audit row, outbox row and invalidation.
func writes(ctx context.Context, w io.Writer, o options, t *targets) error {
	admin := adminclient.New(o.admin, o.token)
	n := 0
	write := func(flag int) error {
		cfg := flagConfig()
		n++
		on := 1 + (flag*31+n)%98
		cfg["default"] = map[string]any{"rollout": map[string]any{"weights": map[string]any{"on": on, "off": 100 - on}}}
		_, err := admin.Configure(ctx, benchProject, fmt.Sprintf("flag-%03d", flag), benchEnv, cfg)
		return err
	}
	const sequential, writers = 200, 8
	var p50s, p99s, rates []float64
	for round := range o.rounds {
		lat := make([]time.Duration, 0, sequential)
		for i := range sequential {
			start := time.Now()
			if err := write(i % benchFlags); err != nil {
				return err
			}
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		p50s = append(p50s, float64(lat[len(lat)/2]))
		p99s = append(p99s, float64(lat[len(lat)*99/100]))

		var done atomic.Int64
		var firstErr error
		var once sync.Once
		var wg sync.WaitGroup
		end := time.Now().Add(3 * time.Second)
		start := time.Now()
		for g := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each writer has flags of its own: flag ≡ g (mod writers).
				for i := 0; time.Now().Before(end); i++ {
					cfg := flagConfig()
					on := 1 + (i+round)%98
					cfg["default"] = map[string]any{"rollout": map[string]any{"weights": map[string]any{"on": on, "off": 100 - on}}}
					flag := g + writers*(i%(benchFlags/writers))
					if _, err := admin.Configure(ctx, benchProject, fmt.Sprintf("flag-%03d", flag), benchEnv, cfg); err != nil {
						once.Do(func() { firstErr = err })
						return
					}
					done.Add(1)
				}
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
		rates = append(rates, float64(done.Load())/time.Since(start).Seconds())
	}
	fmt.Fprintf(w, "## Admin configuration writes (PUT through the admin API, on loopback; %d rounds)\n\n", o.rounds)
	fmt.Fprintln(w, "| measure | rounds | median |\n|---|---|---|")
	durs := func(v []float64) string {
		each := make([]string, len(v))
		for i, x := range v {
			each[i] = time.Duration(x).Round(10 * time.Microsecond).String()
		}
		return strings.Join(each, " / ")
	}
	p50 := time.Duration(median(p50s))
	fmt.Fprintf(w, "| one writer, p50 over %d writes | %s | %v |\n", sequential, durs(p50s), p50.Round(10*time.Microsecond))
	fmt.Fprintf(w, "| one writer, p99 over %d writes | %s | %v |\n", sequential, durs(p99s), time.Duration(median(p99s)).Round(10*time.Microsecond))
	each := make([]string, len(rates))
	for i, r := range rates {
		each[i] = fmt.Sprintf("%.0f", r)
	}
	rs := strings.Join(each, " / ")
	rate := median(rates)
	fmt.Fprintf(w, "| %d writers on different flags, writes/s over 3 s | %s | %.0f |\n\n", writers, rs, rate)
	t.add("admin configuration write, p50 (one writer)", p50 <= 3*time.Millisecond, p50.Round(10*time.Microsecond).String(), "≤ 3 ms")
	t.add(fmt.Sprintf("admin configuration writes/s, %d writers on different flags", writers), rate >= 300, fmt.Sprintf("%.0f", rate), "≥ 300")
	return nil
}
