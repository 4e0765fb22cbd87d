package streams

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
)

func TestLimits(t *testing.T) {
	h := New(Options{PerKey: 2, PerAddress: 2, Max: 5})
	open := func(key string) (*Stream, error) { return h.Open(Owner{Environment: "env", KeyID: key}) }
	browser := func(addr string) (*Stream, error) {
		return h.Open(Owner{Environment: "env", KeyID: "public", Address: addr, ClientKey: true})
	}
	a1, _ := open("a")
	if _, err := open("a"); err != nil {
		t.Fatal(err)
	}
	_, err := open("a")
	if httpapi.Status(err) != 429 || domain.RetryAfter(err) == 0 || !strings.Contains(domain.ErrorMessage(err), "STREAMS_PER_KEY") {
		t.Errorf("past the key's limit: %d %v", httpapi.Status(err), err)
	}
	if _, err := open("b"); err != nil {
		t.Fatal(err)
	}
	// Client keys are limited per address, not per key: one visitor cannot take the
	// places of every user of the app.
	for _, addr := range []string{"10.0.0.1", "10.0.0.1"} {
		if _, err := browser(addr); err != nil {
			t.Fatal(err)
		}
	}
	_, err = browser("10.0.0.1")
	if httpapi.Status(err) != 429 || !strings.Contains(domain.ErrorMessage(err), "STREAMS_PER_ADDRESS") {
		t.Errorf("past an address's limit: %d %v", httpapi.Status(err), err)
	}
	_, err = open("c")
	if httpapi.Status(err) != 503 || domain.RetryAfter(err) == 0 || !strings.Contains(domain.ErrorMessage(err), "STREAMS_MAX") {
		t.Errorf("past the process's limit: %d %v", httpapi.Status(err), err)
	}
	a1.Close()
	a1.Close() // twice is harmless
	if _, err := open("c"); err != nil || h.Len() != 5 {
		t.Errorf("a closed stream frees its place: %v, %d open", err, h.Len())
	}
	if h.Stats.RefusedKey.Load() != 2 || h.Stats.RefusedProcess.Load() != 1 {
		t.Errorf("refusals counted: %d %d", h.Stats.RefusedKey.Load(), h.Stats.RefusedProcess.Load())
	}
}

func TestAnnounce(t *testing.T) {
	h := New(Options{PerKey: 10, Max: 10})
	s, _ := h.Open(Owner{Environment: "env", KeyID: "k"})
	other, _ := h.Open(Owner{Environment: "other", KeyID: "k"})
	if v := h.Version("env", 5); v != 5 {
		t.Fatalf("version seeded from the snapshot: %d", v)
	}
	select { // the version a stream starts from is announced to those open
	case <-s.Wake():
	case <-time.After(time.Second):
		t.Fatal("the version a stream started from was not announced")
	}
	h.Announce("env", 4) // older than known: nothing
	select {
	case <-s.Wake():
		t.Fatal("woken by an older version")
	default:
	}
	h.Announce("env", 6)
	h.Announce("env", 7) // coalesced: one wake-up, the newest version
	select {
	case <-s.Wake():
	default:
		t.Fatal("not woken by a newer version")
	}
	if v := h.Version("env", 0); v != 7 {
		t.Errorf("version %d, want 7", v)
	}
	select {
	case <-other.Wake():
		t.Fatal("another environment's stream woken")
	default:
	}
	if got := h.Keys("env"); len(got) != 1 || got[0] != "k" || !h.Has("env") || h.Has("nowhere") {
		t.Errorf("keys %v, has env %v, has nowhere %v", got, h.Has("env"), h.Has("nowhere"))
	}
	h.EndKey("env", "k")
	select {
	case <-s.Done():
	default:
		t.Fatal("EndKey left the stream open")
	}
	select {
	case <-other.Done():
		t.Fatal("EndKey ended another environment's stream")
	default:
	}
	s.Close()
	// The last stream of an environment takes its version with it.
	if v := h.Version("env", 0); v != 0 {
		t.Errorf("version of an environment without streams: %d", v)
	}
	h.Close()
	select {
	case <-other.Done():
	default:
		t.Fatal("Close left a stream open")
	}
	if _, err := h.Open(Owner{Environment: "env", KeyID: "k"}); httpapi.Status(err) != 503 {
		t.Errorf("open after Close: %v", err)
	}
}

// TestConcurrentAnnounce: streams opened, woken and closed from many goroutines (run
// with the race detector) end with nothing held.
func TestConcurrentAnnounce(t *testing.T) {
	h := New(Options{PerKey: 1000, Max: 1000})
	var opened, wg sync.WaitGroup
	opened.Add(50)
	start := make(chan struct{})
	for i := range 50 {
		wg.Go(func() {
			s, err := h.Open(Owner{Environment: "env", KeyID: "k"})
			opened.Done()
			if err != nil {
				t.Error(err)
				return
			}
			<-start
			h.Announce("env", int64(i+1))
			select { // every stream was open before the first announcement
			case <-s.Wake():
			case <-time.After(5 * time.Second):
				t.Error("a stream was never woken")
			}
			s.Close()
		})
	}
	opened.Wait()
	close(start)
	wg.Wait()
	if h.Len() != 0 || len(h.Environments()) != 0 {
		t.Errorf("%d streams, %v environments left", h.Len(), h.Environments())
	}
}

func TestTokens(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tk := NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Minute)
	tk.now = func() time.Time { return now }
	tok, _ := tk.Issue("env-1", "key-1")
	if env, key, err := tk.Verify(tok); err != nil || env != "env-1" || key != "key-1" {
		t.Fatalf("verify: %s %s %v", env, key, err)
	}
	other := NewTokens([]byte("another secret, just as long, 0123"), time.Minute)
	parts := strings.Split(tok, ".")
	exp, _ := strconv.ParseInt(parts[2], 10, 64)
	life := time.Unix(exp, 0).Sub(now)
	if life <= time.Minute || life > 2*time.Minute {
		t.Errorf("a token lives %v, want one to two TTLs", life)
	}
	tests := []struct {
		name  string
		token string
		after time.Duration
		want  error
	}{
		{"fresh", tok, 0, nil},
		{"end of the next window", tok, life - time.Second, nil},
		{"expired", tok, life, ErrExpiredToken},
		{"other environment", strings.Replace(tok, "env-1", "env-2", 1), 0, ErrBadToken},
		{"other key", strings.Replace(tok, "key-1", "key-2", 1), 0, ErrBadToken},
		{"later expiry", tok[:strings.LastIndexByte(tok, '.')-1] + "9" + tok[strings.LastIndexByte(tok, '.'):], 0, ErrBadToken},
		{"other secret", token(other.Issue("env-1", "key-1")), 0, ErrBadToken},
		{"empty", "", 0, ErrBadToken},
		{"garbage", "a.b.c.d.e", 0, ErrBadToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk.now = func() time.Time { return now.Add(tt.after) }
			if _, _, err := tk.Verify(tt.token); err != tt.want {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	// One URL per window: clients that revalidate keep their connection.
	tk.now = func() time.Time { return now }
	if token(tk.Issue("env-1", "key-1")) != tok {
		t.Error("two tokens in one window")
	}
	tk.now = func() time.Time { return now.Add(time.Minute) }
	if token(tk.Issue("env-1", "key-1")) == tok || tag(tk, "key-1") == tag(NewTokens(nil, time.Minute), "key-1") {
		t.Error("the same token in the next window")
	}
}

func token(tok, _ string) string { return tok }

// tag is the tag of the tokens tk issues now for key.
func tag(tk *Tokens, key string) string {
	_, t := tk.Issue("env", key)
	return t
}

// TestTag: the tag changes with the window and with the secret, not otherwise.
func TestTag(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	a := NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Minute)
	b := NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Minute)
	c := NewTokens([]byte("another secret, just as long, 0123"), time.Minute)
	for _, tk := range []*Tokens{a, b, c} {
		tk.now = func() time.Time { return now }
	}
	if tag(a, "k") != tag(b, "k") || tag(a, "k") == tag(c, "k") || strings.Contains(tag(a, "k"), "0123456789") {
		t.Errorf("tags: %s %s %s", tag(a, "k"), tag(b, "k"), tag(c, "k"))
	}
	before := tag(a, "k")
	a.now = func() time.Time { return now.Add(time.Minute) }
	if tag(a, "k") == before {
		t.Error("the same tag in the next window")
	}
	// Keys' windows do not all turn at once.
	turns := map[int64]bool{}
	for i := range 20 {
		tok, _ := a.Issue("env", fmt.Sprint("key-", i))
		exp, _ := strconv.ParseInt(strings.Split(tok, ".")[2], 10, 64)
		turns[exp] = true
	}
	if len(turns) < 10 {
		t.Errorf("20 keys' tokens expire at only %d moments", len(turns))
	}
}

// TestSeenWakes: a stream that starts from a snapshot newer than the announcements
// (the cache reloaded before the invalidation came) announces it to the streams
// already open; the invalidation, when it comes, is then old news.
func TestSeenWakes(t *testing.T) {
	h := New(Options{PerKey: 10, Max: 10})
	a, _ := h.Open(Owner{Environment: "env", KeyID: "k"})
	if v := h.Version("env", 5); v != 5 {
		t.Fatalf("version %d", v)
	}
	select { // the first version seen
	case <-a.Wake():
	case <-time.After(time.Second):
		t.Fatal("the version a stream started from was not announced")
	}
	b, _ := h.Open(Owner{Environment: "env", KeyID: "k"})
	if v := h.Version("env", 6); v != 6 {
		t.Fatalf("version %d", v)
	}
	h.Announce("env", 6)
	select {
	case <-a.Wake():
	default:
		t.Fatal("the stream opened at version 5 was not told about version 6")
	}
	_ = b
}

// TestEndKeyAt: an expiry set after streams opened ends them when it comes, once
// however often it is scheduled.
func TestEndKeyAt(t *testing.T) {
	h := New(Options{PerKey: 10, Max: 10})
	s, _ := h.Open(Owner{Environment: "env", KeyID: "k"})
	other, _ := h.Open(Owner{Environment: "env", KeyID: "other"})
	at := time.Now().Add(50 * time.Millisecond)
	for range 3 {
		h.EndKeyAt("env", "k", at)
	}
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the expired key's stream is still open")
	}
	if h.Stats.Revoked.Load() != 1 {
		t.Errorf("ended %d times", h.Stats.Revoked.Load())
	}
	select {
	case <-other.Done():
		t.Fatal("another key's stream ended")
	default:
	}
}
