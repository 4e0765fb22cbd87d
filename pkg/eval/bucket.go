package eval

import (
	"github.com/cespare/xxhash/v2"
)

// Buckets is the number of buckets a rollout divides contexts into: 100% with three
// decimals.
const Buckets = 100_000

// Bucket returns the bucket of key for a flag salt, as documented in the package
// comment.
func Bucket(salt, key string) uint32 {
	d := digest(salt)
	_, _ = d.WriteString(key)
	return uint32(d.Sum64() % Buckets)
}

// bucketBytes is Bucket for a key rendered into a buffer.
func bucketBytes(salt string, key []byte) uint32 {
	d := digest(salt)
	_, _ = d.Write(key)
	return uint32(d.Sum64() % Buckets)
}

func digest(salt string) xxhash.Digest {
	var d xxhash.Digest
	d.Reset()
	_, _ = d.WriteString(salt)
	_, _ = d.WriteString(":")
	return d
}
