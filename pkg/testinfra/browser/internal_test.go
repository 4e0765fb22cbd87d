package browser

import (
	"testing"
	"time"
)

// A browser of the test's own (what Start gives without Main): it starts, reports its
// version, and stops with the test.
func TestOwnBrowser(t *testing.T) {
	t.Parallel()
	if _, err := chromiumPath(); err != nil {
		unavailable(t, err)
	}
	began := time.Now()
	b, err := launch()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("browser start: %v (%s)", b.Startup, b.Version)
	if b.Version == "" {
		t.Error("no version")
	}
	b.close()
	t.Logf("start and stop: %v", time.Since(began))
	b.close() // a second close is harmless
}
