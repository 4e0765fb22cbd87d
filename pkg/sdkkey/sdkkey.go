// Package sdkkey makes and recognises the per-environment SDK keys that authenticate
// clients of the evaluator. A key is "sy_sdk_" followed by 43 URL-safe characters (256
// random bits); only its SHA-256 digest is stored, and its first characters (Prefix)
// are shown in listings so people can tell keys apart.
package sdkkey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Marker starts every SDK key, so a leaked one is recognisable (and scannable).
const Marker = "sy_sdk_"

const randomLen = 43 // base64url of 32 bytes, unpadded

// New returns a new random key, its display prefix and its digest.
func New() (key, prefix string, digest []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("sdkkey: no randomness: " + err.Error())
	}
	key = Marker + base64.RawURLEncoding.EncodeToString(b)
	return key, Prefix(key), Digest(key)
}

// Prefix is the part of a key that listings show.
func Prefix(key string) string {
	if len(key) < len(Marker)+6 {
		return key
	}
	return key[:len(Marker)+6]
}

// Digest is what the database stores and looks keys up by.
func Digest(key string) []byte {
	d := sha256.Sum256([]byte(key))
	return d[:]
}

// WellFormed reports whether s has the shape of an SDK key, so that garbage is refused
// without a database lookup.
func WellFormed(s string) bool {
	if len(s) != len(Marker)+randomLen || !strings.HasPrefix(s, Marker) {
		return false
	}
	for _, c := range s[len(Marker):] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
