// Package secret makes and recognises the bearer secrets Switchyard issues: SDK keys,
// which authenticate clients of the evaluator, and API tokens of the admin API.
//
// A secret is its kind's marker ("sy_sdk_", "sy_adm_"), 43 URL-safe characters (256
// random bits) and a 6-character checksum: the CRC-32 of everything before it, in base
// 62, as large token issuers do. Only its SHA-256 digest is stored; its first characters
// (Prefix) are shown in listings so people can tell secrets apart.
//
// The checksum is not a defence against someone who knows the format: it lets a
// service refuse a mistyped, truncated or made-up secret without any I/O, and lets
// secret scanners tell a real leak from random text. Deliberate guessing is bounded by
// the services' limits on failed authentications per client.
//
// Secrets issued before the checksum existed (marker + 43 characters) are still
// recognised, as Legacy, so that existing keys keep working until they are rotated.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"hash/crc32"
	"strings"
)

// Kind is a family of secrets, told apart by their marker.
type Kind struct{ Marker string }

// The kinds Switchyard issues.
var (
	SDKKey     = Kind{Marker: "sy_sdk_"}
	AdminToken = Kind{Marker: "sy_adm_"}
)

const (
	randomLen   = 43 // base64url of 32 bytes, unpadded
	checksumLen = 6  // base 62 of a CRC-32: 62^6 > 2^32
	prefixLen   = 6  // random characters a listing shows
)

// Shape says what a string looks like to a kind.
type Shape int

// Shapes.
const (
	Invalid Shape = iota // not a secret of this kind: refuse without a lookup
	Valid                // the current format, checksum correct
	Legacy               // the format before checksums: look it up
)

// New returns a new random secret of the kind, its display prefix and its digest.
func (k Kind) New() (secret, prefix string, digest []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("secret: no randomness: " + err.Error())
	}
	body := k.Marker + base64.RawURLEncoding.EncodeToString(b)
	secret = body + checksum(body)
	return secret, Prefix(secret), Digest(secret)
}

// Check tells a well-formed secret of the kind from anything else, without I/O.
func (k Kind) Check(s string) Shape {
	if !strings.HasPrefix(s, k.Marker) {
		return Invalid
	}
	switch len(s) {
	case len(k.Marker) + randomLen:
		if urlSafe(s[len(k.Marker):]) {
			return Legacy
		}
	case len(k.Marker) + randomLen + checksumLen:
		body := s[:len(s)-checksumLen]
		if urlSafe(body[len(k.Marker):]) && s[len(body):] == checksum(body) {
			return Valid
		}
	}
	return Invalid
}

// Looks reports whether s starts like a secret of the kind, well-formed or not: enough
// to tell a client it sent the wrong kind of credential.
func (k Kind) Looks(s string) bool { return strings.HasPrefix(s, k.Marker) }

// Prefix is the part of a secret that listings show.
func Prefix(s string) string {
	i := strings.Index(s, "_")
	if j := strings.Index(s[i+1:], "_"); i >= 0 && j >= 0 {
		n := i + 1 + j + 1 + prefixLen
		if n <= len(s) {
			return s[:n]
		}
	}
	return s
}

// Digest is what the database stores and looks secrets up by.
func Digest(s string) []byte {
	d := sha256.Sum256([]byte(s))
	return d[:]
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func checksum(body string) string {
	c := uint64(crc32.ChecksumIEEE([]byte(body)))
	var out [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = base62[c%62]
		c /= 62
	}
	return string(out[:])
}

func urlSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
