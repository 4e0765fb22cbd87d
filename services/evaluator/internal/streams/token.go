package streams

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Tokens sign the stream URLs of OFREP answers. Browsers' EventSource cannot send an
// Authorization header, so the URL carries the credential; it must not be the SDK
// key, which would then sit in proxies' and browsers' logs. A token names the
// environment and the key it was issued for and when it expires, and is signed with
// HMAC-SHA256: "<environment>.<key id>.<expiry, unix seconds>.<signature>".
//
// Tokens are issued per window of one TTL and expire at the end of the window after
// it, so every answer within a window carries the same URL (clients keep their
// connection when they revalidate) and a token lives between one and two TTLs. Each
// key's windows are offset by a hash of its id, so that the clients of different keys
// do not all fetch new URLs, and reconnect, at the same moment.
type Tokens struct {
	secret []byte
	id     string // names the secret without revealing it
	ttl    time.Duration
	now    func() time.Time
	// issued caches, per key id, the key's window offset and the token and tag of its
	// latest window: every bulk answer carries them, and signing each time cost more
	// than encoding a hundred results.
	issued sync.Map // key id → *keyTokens
}

// keyTokens is what Tokens caches for a key.
type keyTokens struct {
	offset int64
	latest atomic.Pointer[issuedTokens]
}

type issuedTokens struct {
	window             int64
	env, token, tagged string
}

// NewTokens returns a signer; a nil secret means a random one (a single replica, or
// tokens valid only on the replica that issued them).
func NewTokens(secret []byte, ttl time.Duration) *Tokens {
	if secret == nil {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret) // never fails (crypto/rand)
	}
	t := &Tokens{secret: secret, ttl: ttl, now: time.Now}
	t.id = t.sign("secret id")[:8]
	return t
}

// window returns the number of the key's current window, and its offset.
func (t *Tokens) window(keyID string) (n int64, k *keyTokens) {
	v, ok := t.issued.Load(keyID)
	if !ok {
		h := sha256.Sum256([]byte(keyID))
		v, _ = t.issued.LoadOrStore(keyID, &keyTokens{offset: int64(binary.BigEndian.Uint64(h[:8]) % uint64(t.ttl))})
	}
	k = v.(*keyTokens)
	return (t.now().UnixNano() + k.offset) / int64(t.ttl), k
}

// current returns the key's token and tag for this window, signing them when the
// window (or the environment) is new.
func (t *Tokens) current(environmentID, keyID string) *issuedTokens {
	n, k := t.window(keyID)
	if c := k.latest.Load(); c != nil && c.window == n && c.env == environmentID {
		return c
	}
	expires := time.Unix(0, (n+2)*int64(t.ttl)-k.offset)
	payload := environmentID + "." + keyID + "." + strconv.FormatInt(expires.Unix(), 10)
	c := &issuedTokens{window: n, env: environmentID, token: payload + "." + t.sign(payload),
		tagged: strconv.FormatInt(n, 10) + "." + t.id}
	k.latest.Store(c)
	return c
}

// Issue returns a token for the environment and key, valid until the end of the next
// window, and the tag of the tokens issued now for the key: the window and the secret.
// Answers that carry a token name its tag in their ETag, so a client that revalidates
// in a later window, or after a restart with another secret, gets a fresh URL rather
// than a 304 that would keep one now refused.
func (t *Tokens) Issue(environmentID, keyID string) (token, tag string) {
	c := t.current(environmentID, keyID)
	return c.token, c.tagged
}

// Errors of Verify; the HTTP layer answers both with 401.
var (
	ErrBadToken     = errors.New("invalid stream token")
	ErrExpiredToken = errors.New("this stream token has expired; ask for the flags again for a new one")
)

// Verify checks a token's signature and expiry, and returns what it names.
func (t *Tokens) Verify(token string) (environmentID, keyID string, err error) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return "", "", ErrBadToken
	}
	payload, sig := token[:i], token[i+1:]
	if subtle.ConstantTimeCompare([]byte(sig), []byte(t.sign(payload))) != 1 {
		return "", "", ErrBadToken
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 {
		return "", "", ErrBadToken
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", "", ErrBadToken
	}
	if !t.now().Before(time.Unix(exp, 0)) {
		return "", "", ErrExpiredToken
	}
	return parts[0], parts[1], nil
}

func (t *Tokens) sign(payload string) string {
	m := hmac.New(sha256.New, t.secret)
	m.Write([]byte("switchyard-stream-v1\x00"))
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}
