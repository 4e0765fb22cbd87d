package switchyard

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
)

// maxDefinitionsBytes bounds a decoded definitions answer (or bootstrap), far above
// what the domain limits allow an environment to hold.
const maxDefinitionsBytes = 256 << 20

// definitions is one version of an environment's flags, ready to serve: the compiled
// snapshot, and per flag what counting and kind checks need. It is immutable once
// built, except for its counters.
type definitions struct {
	snap  *eval.Snapshot
	etag  string // of the answer it came from; empty for a bootstrap
	index map[string]int32
	flags []flagInfo
}

type flagInfo struct {
	key      string
	kind     domain.Kind
	variants []string
	hash     [sha256.Size]byte // of the flag's definition, to tell which flags a version changed
	// counts holds the evaluations since the last flush, by variant (an extra last row
	// for results without a variant) and reason (see reasons).
	counts []atomic.Int64
}

// reasons are the engine's reasons, in the order of a flag's counter columns.
var reasons = eval.Reasons

func reasonIndex(r eval.Reason) int {
	switch r {
	case eval.ReasonTargetingMatch:
		return 0
	case eval.ReasonSplit:
		return 1
	case eval.ReasonDefault:
		return 2
	case eval.ReasonDisabled:
		return 3
	case eval.ReasonPrerequisiteFailed:
		return 4
	case eval.ReasonError:
		return 5
	}
	return -1
}

// count adds one evaluation of the flag: two compares and an atomic add, no
// allocation and no map write.
func (f *flagInfo) count(r *eval.Result) {
	ri := reasonIndex(r.Reason)
	if ri < 0 {
		return
	}
	vi := len(f.variants)
	for i, v := range f.variants {
		if v == r.Variant {
			vi = i
			break
		}
	}
	f.counts[vi*len(reasons)+ri].Add(1)
}

// compile builds the definitions of a snapshot. Flags are listed as the engine keeps
// them: archived flags left out, the first of duplicated keys kept.
func compile(s domain.Snapshot, etag string) (*definitions, error) {
	d := &definitions{snap: eval.Compile(s), etag: etag, index: make(map[string]int32, len(s.Flags))}
	d.flags = make([]flagInfo, 0, len(s.Flags))
	for _, fc := range s.Flags {
		if fc.Flag.Archived {
			continue
		}
		if _, dup := d.index[fc.Flag.Key]; dup {
			continue
		}
		raw, err := json.Marshal(fc)
		if err != nil {
			return nil, fmt.Errorf("flag %q: %w", fc.Flag.Key, err)
		}
		f := flagInfo{key: fc.Flag.Key, kind: fc.Flag.Kind, hash: sha256.Sum256(raw)}
		for _, v := range fc.Flag.Variants {
			f.variants = append(f.variants, v.Key)
		}
		f.counts = make([]atomic.Int64, (len(f.variants)+1)*len(reasons))
		d.index[f.key] = int32(len(d.flags))
		d.flags = append(d.flags, f)
	}
	return d, nil
}

func (d *definitions) flag(key string) *flagInfo {
	if i, ok := d.index[key]; ok {
		return &d.flags[i]
	}
	return nil
}

// supersedes reports whether s may replace the held definitions d: a newer version of
// the same environment. Definitions of another environment (a bootstrap file of
// another environment than the key's) are no reference: the evaluator's win.
func supersedes(s *domain.Snapshot, d *definitions) bool {
	if d == nil {
		return true
	}
	if s.EnvironmentID != "" && d.snap.EnvironmentID != "" && s.EnvironmentID != d.snap.EnvironmentID {
		return true
	}
	return s.Version > d.snap.Version
}

// changed lists, sorted, the keys of the flags that next adds, removes or defines
// differently from prev.
func changed(prev, next *definitions) []string {
	var keys []string
	for i := range next.flags {
		f := &next.flags[i]
		if p := prev.flag(f.key); p == nil || p.hash != f.hash {
			keys = append(keys, f.key)
		}
	}
	for i := range prev.flags {
		if next.flag(prev.flags[i].key) == nil {
			keys = append(keys, prev.flags[i].key)
		}
	}
	slices.Sort(keys)
	return keys
}

// decodeDefinitions reads definitions in the shape of GET /api/v1/flags.
func decodeDefinitions(r io.Reader) (domain.Snapshot, error) {
	var s domain.Snapshot
	lr := &io.LimitedReader{R: r, N: maxDefinitionsBytes + 1}
	dec := json.NewDecoder(lr)
	if err := dec.Decode(&s); err != nil {
		if lr.N <= 0 {
			return s, fmt.Errorf("definitions larger than %d MiB", maxDefinitionsBytes>>20)
		}
		return s, fmt.Errorf("decoding definitions: %w", err)
	}
	if dec.More() {
		return s, errors.New("decoding definitions: data after the JSON object")
	}
	if s.Version < 0 {
		return s, fmt.Errorf("decoding definitions: negative version %d", s.Version)
	}
	return s, nil
}

func decodeBootstrap(b []byte) (domain.Snapshot, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return domain.Snapshot{}, errors.New("empty")
	}
	return decodeDefinitions(bytes.NewReader(b))
}
