package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/tools/internal/adminclient"
	"github.com/switchyard/switchyard/tools/internal/procstat"
)

// memory loads the big environment into the evaluator and reports its resident memory
// before and after, and the cold and warm latency of a bulk evaluation of it.
func memory(ctx context.Context, w io.Writer, o options, s seeded) error {
	fmt.Fprintf(w, "## Memory and cold loads (%d flags in one environment)\n\n", o.bigFlags)
	if o.evaluatorPID == 0 {
		fmt.Fprintln(w, "No -evaluator-pid: resident memory not measured.")
	}
	var before int64
	if o.evaluatorPID != 0 {
		var err error
		if before, err = procstat.RSS(o.evaluatorPID); err != nil {
			return err
		}
	}
	ev := adminclient.New(o.evaluator, s.bigKey)
	body := map[string]any{"context": map[string]any{"key": "user-1", "plan": "pro", "country": "DE"}}
	timed := func() (time.Duration, error) {
		start := time.Now()
		status, raw, err := ev.Do(ctx, http.MethodPost, "/api/v1/evaluate", body)
		if err != nil {
			return 0, err
		}
		if status != http.StatusOK {
			return 0, fmt.Errorf("bulk evaluation of the big environment: %d %.200s", status, raw)
		}
		return time.Since(start), nil
	}
	cold, err := timed()
	if err != nil {
		return err
	}
	warm, err := timed()
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "| measure | value |\n|---|---|")
	fmt.Fprintf(w, "| first bulk evaluation: SDK key and snapshot from PostgreSQL, compile, evaluate %d flags, encode | %v |\n", o.bigFlags, cold.Round(time.Microsecond))
	fmt.Fprintf(w, "| next bulk evaluation, snapshot in memory | %v |\n", warm.Round(time.Microsecond))
	if o.evaluatorPID != 0 {
		time.Sleep(500 * time.Millisecond)
		after, err := procstat.RSS(o.evaluatorPID)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "| evaluator RSS before loading (started, seeded, nothing evaluated yet) | %s |\n", procstat.MiB(before))
		fmt.Fprintf(w, "| evaluator RSS with the %d flags loaded | %s (+%s) |\n", o.bigFlags, procstat.MiB(after), procstat.MiB(after-before))
	}
	fmt.Fprintln(w)
	return nil
}
