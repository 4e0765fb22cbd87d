// Package auth authenticates callers of the admin API (the bootstrap token, API tokens,
// and JWTs from email/password login) and works out what they may do.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the cost parameters of password hashing. Defaults follows OWASP's
// recommendation for Argon2id: 19 MiB of memory, 2 passes, 1 lane, a 16-byte salt and
// a 32-byte key; each hash takes tens of milliseconds. They are stored with each hash
// (PHC string format), so raising them later keeps old hashes verifiable.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultArgon2 is used in production.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const saltLen, keyLen = 16, 32

// Hasher hashes and verifies passwords.
type Hasher struct {
	params Argon2Params
	dummy  string // hash of a random password, verified when an account does not exist
}

// NewHasher returns a hasher with the given costs.
func NewHasher(p Argon2Params) *Hasher {
	h := &Hasher{params: p}
	h.dummy = h.Hash(rand.Text())
	return h
}

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// Hash returns the PHC string of a password: $argon2id$v=19$m=...,t=...,p=...$salt$key.
func (h *Hasher) Hash(password string) string {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt) // never fails: since Go 1.24 it crashes the program first
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.Memory, h.params.Threads, keyLen)
	b64 := base64.RawStdEncoding.EncodeToString
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.params.Memory, h.params.Time, h.params.Threads, b64(salt), b64(key))
}

var errBadHash = errors.New("malformed password hash")

// Verify reports whether password matches encoded, in constant time.
func (h *Hasher) Verify(password, encoded string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// VerifyNobody spends the time of a verification, so that answers for accounts that do
// not exist take as long as for those that do.
func (h *Hasher) VerifyNobody(password string) { h.Verify(password, h.dummy) }
