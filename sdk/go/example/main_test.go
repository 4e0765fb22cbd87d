package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/sdk/go/internal/fakeserver"
)

// syncBuffer is a bytes.Buffer safe for the client's callback goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func snapshot(version int64, enabled bool) domain.Snapshot {
	return domain.Snapshot{ProjectKey: "demo", EnvironmentID: "env-1", EnvironmentKey: "production", Version: version,
		Flags: []domain.FlagConfig{{
			Flag:   domain.Flag{Key: "new-checkout", Kind: domain.KindBoolean, Variants: domain.BooleanVariants()},
			Config: domain.Config{Enabled: enabled, OffVariant: "off", Default: domain.Serve{Variant: "on"}},
		}}}
}

// TestExample: the example prints the flag when ready and again when it changes.
func TestExample(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, true))
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{}
	done := make(chan error)
	go func() { done <- run(ctx, out, srv.URL, fakeserver.Key, "new-checkout") }()
	waitFor(t, out, "ready    version 1    new-checkout = true")
	srv.Publish(snapshot(2, false))
	waitFor(t, out, `changed  version 2    new-checkout = false (variant "off", reason DISABLED)`)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), out, "", "", "x"); err == nil || !strings.Contains(err.Error(), "SWITCHYARD_URL") {
		t.Errorf("without settings: %v", err)
	}
}

func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
