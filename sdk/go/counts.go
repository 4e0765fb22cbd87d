package switchyard

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Limits of a report (POST /api/v1/events), and of what the client keeps meanwhile.
const (
	maxEntriesPerReport = 1000
	maxCountPerEntry    = 1_000_000
	// maxPending bounds the distinct (flag, variant, reason) counts kept while reports
	// fail; counts for further ones are dropped until a report goes through.
	maxPending = 10_000
)

type countKey struct {
	flag, variant, reason string
}

// countEntry is one entry of a report.
type countEntry struct {
	Flag    string `json:"flag"`
	Variant string `json:"variant,omitempty"`
	Reason  string `json:"reason"`
	Count   int64  `json:"count"`
}

// counter gathers the counts of the definitions held and of those replaced, and what
// failed reports left over. The counting itself happens in each definitions' flags.
type counter struct {
	mu      sync.Mutex
	retired []retired
	pending map[countKey]int64
	dropped int64
	// flushMu makes reports one at a time.
	flushMu sync.Mutex
}

// retired is replaced definitions, kept for two flushes: an evaluation that loaded
// them just before the swap may still count into them.
type retired struct {
	d      *definitions
	drains int
}

func (k *counter) init() { k.pending = map[countKey]int64{} }

func (k *counter) retire(d *definitions) {
	k.mu.Lock()
	k.retired = append(k.retired, retired{d: d})
	k.mu.Unlock()
}

// drainLocked moves d's counters into pending.
func (k *counter) drainLocked(d *definitions) {
	for i := range d.flags {
		f := &d.flags[i]
		for j := range f.counts {
			if f.counts[j].Load() == 0 {
				continue
			}
			n := f.counts[j].Swap(0)
			variant := ""
			if vi := j / len(reasons); vi < len(f.variants) {
				variant = f.variants[vi]
			}
			k.addLocked(countKey{f.key, variant, string(reasons[j%len(reasons)])}, n)
		}
	}
}

func (k *counter) addLocked(key countKey, n int64) {
	if _, ok := k.pending[key]; !ok && len(k.pending) >= maxPending {
		k.dropped += n
		return
	}
	k.pending[key] += n
}

// take drains every counter and returns what is to be reported, in a stable order.
func (k *counter) take(current *definitions) []countEntry {
	k.mu.Lock()
	defer k.mu.Unlock()
	if current != nil {
		k.drainLocked(current)
	}
	kept := k.retired[:0]
	for _, r := range k.retired {
		k.drainLocked(r.d)
		if r.drains++; r.drains < 2 {
			kept = append(kept, r)
		}
	}
	clear(k.retired[len(kept):])
	k.retired = kept
	out := make([]countEntry, 0, len(k.pending))
	for key, n := range k.pending {
		out = append(out, countEntry{Flag: key.flag, Variant: key.variant, Reason: key.reason, Count: n})
	}
	clear(k.pending)
	slices.SortFunc(out, func(a, b countEntry) int {
		return cmp.Or(cmp.Compare(a.Flag, b.Flag), cmp.Compare(a.Variant, b.Variant), cmp.Compare(a.Reason, b.Reason))
	})
	return out
}

// giveBack keeps the entries of a report that failed for the next flush.
func (k *counter) giveBack(entries []countEntry) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, e := range entries {
		k.addLocked(countKey{e.Flag, e.Variant, e.Reason}, e.Count)
	}
}

// takeDropped returns the number of evaluations dropped since the last call.
func (k *counter) takeDropped() int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := k.dropped
	k.dropped = 0
	return n
}

// flushLoop reports the counts every flush interval.
func (c *Client) flushLoop(ctx context.Context) {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.flushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = c.flush(ctx)
		}
	}
}

// flush reports the evaluations counted since the last report, in requests of at most
// maxEntriesPerReport entries. Counts of a request that failed for a reason that may
// pass (network, 429, 5xx) are kept for the next flush; a request refused otherwise
// (4xx) is dropped, as sending it again would be refused again.
func (c *Client) flush(ctx context.Context) error {
	c.counts.flushMu.Lock()
	defer c.counts.flushMu.Unlock()
	entries := split(c.counts.take(c.defs.Load()))
	if n := c.counts.takeDropped(); n > 0 {
		c.log.Warn("switchyard: evaluation counts dropped: too many kept while reports failed", "evaluations", n)
	}
	var errs []error
	for start := 0; start < len(entries); start += maxEntriesPerReport {
		batch := entries[start:min(start+maxEntriesPerReport, len(entries))]
		err := c.report(ctx, batch)
		if err == nil {
			continue
		}
		var se *StatusError
		if errors.As(err, &se) && se.StatusCode >= 400 && se.StatusCode < 500 &&
			se.StatusCode != http.StatusTooManyRequests && se.StatusCode != http.StatusRequestTimeout {
			c.log.Warn("switchyard: evaluation counts refused; dropped", "entries", len(batch), "error", err.Error())
			errs = append(errs, err)
			continue
		}
		c.log.Debug("switchyard: reporting evaluation counts failed; kept for the next report", "error", err.Error())
		c.counts.giveBack(entries[start:])
		errs = append(errs, err)
		break
	}
	return errors.Join(errs...)
}

// split breaks entries whose count exceeds what one entry may carry.
func split(entries []countEntry) []countEntry {
	out := make([]countEntry, 0, len(entries))
	for _, e := range entries {
		for e.Count > maxCountPerEntry {
			x := e
			x.Count = maxCountPerEntry
			out = append(out, x)
			e.Count -= maxCountPerEntry
		}
		out = append(out, e)
	}
	return out
}

// report sends one request of counts.
func (c *Client) report(ctx context.Context, batch []countEntry) error {
	body, err := json.Marshal(struct {
		Evaluations []countEntry `json:"evaluations"`
	}{batch})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.requestTimeout)
	defer cancel()
	req, err := c.newRequest(ctx, http.MethodPost, "/api/v1/events", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.cfg.http.Do(req)
	if err != nil {
		return fmt.Errorf("switchyard: %s: %w", opEvents, err)
	}
	defer drainClose(resp.Body)
	if resp.StatusCode/100 != 2 {
		return statusError(opEvents, resp, snippet(resp.Body))
	}
	return nil
}
