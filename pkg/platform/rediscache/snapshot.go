package rediscache

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// An environment's snapshot is in Redis in one of two formats (the package comment
// says in which field):
//
//   - binary: the byte formatBinary, the version (a varint), then the snapshot as
//     encoder writes it. It decodes about ten times faster than JSON and is a third
//     of its size; repeated strings (attribute names, variant keys, rule ids, values)
//     are written once and referred to after that.
//   - JSON, as encoding/json writes domain.Snapshot (and evaluators that predate the
//     binary format wrote it); it always starts with '{'.
//
// Both decode to the same domain.Snapshot. A format a reader does not know is
// unreadable, hence a miss: any later format must take another leading byte.
const formatBinary = 0x01

// binaryVersion returns the version a snapshot in the binary format carries, and
// false for another format.
func binaryVersion(s string) (int64, bool) {
	if len(s) < 2 || s[0] != formatBinary {
		return 0, false
	}
	d := decoder{data: s[1:]}
	v := d.int()
	return v, d.err == nil
}

// EncodeSnapshot encodes s in the binary format, for WriteBack.
func EncodeSnapshot(s domain.Snapshot) []byte {
	e := encoder{buf: make([]byte, 0, 64+200*len(s.Flags)), seen: map[string]uint64{}}
	e.buf = append(e.buf, formatBinary)
	e.int(s.Version) // first: Load reads it without decoding the rest
	e.str(s.ProjectKey)
	e.str(s.EnvironmentID)
	e.str(s.EnvironmentKey)
	e.length(len(s.Flags), s.Flags == nil)
	for i := range s.Flags {
		e.flag(&s.Flags[i].Flag)
		e.config(&s.Flags[i].Config)
	}
	return e.buf
}

// DecodeSnapshot decodes a snapshot Load returned, in either format.
func DecodeSnapshot(data []byte) (domain.Snapshot, error) {
	var s domain.Snapshot
	switch {
	case len(data) == 0:
		return s, errors.New("empty snapshot")
	case data[0] == '{':
		err := json.Unmarshal(data, &s)
		return s, err
	case data[0] != formatBinary:
		return s, fmt.Errorf("snapshot in unknown format %#x", data[0])
	}
	// One conversion gives every string of the snapshot: the decoded strings are
	// slices of it (callers that keep some, as eval.Compile does, copy them).
	d := decoder{data: string(data[1:])}
	s.Version = d.int()
	s.ProjectKey = d.str()
	s.EnvironmentID = d.str()
	s.EnvironmentKey = d.str()
	if n := d.count(); n >= 0 {
		s.Flags = make([]domain.FlagConfig, n)
		for i := range s.Flags {
			d.flag(&s.Flags[i].Flag)
			d.config(&s.Flags[i].Config)
		}
	}
	if d.err == nil && d.pos != len(d.data) {
		d.err = errors.New("trailing bytes")
	}
	if d.err != nil {
		return domain.Snapshot{}, fmt.Errorf("decode snapshot: %w", d.err)
	}
	return s, nil
}

// SnapshotReader reads a snapshot in the binary format by batches of flags, so that a
// consumer (eval.Builder) can compile flags as they are decoded, rather than hold the
// whole decoded snapshot: a batch's memory is reused for the next batch read into it.
type SnapshotReader struct {
	d       decoder
	header  domain.Snapshot
	n, read int
}

// ReadSnapshot starts reading a snapshot LoadString returned. It returns false when
// data is not in the binary format (DecodeSnapshot reads JSON). An error in the header
// is reported by Err after the first Read. The flags' strings are slices of data.
func ReadSnapshot(data string) (*SnapshotReader, bool) {
	if len(data) == 0 || data[0] != formatBinary {
		return nil, false
	}
	r := &SnapshotReader{d: decoder{data: data[1:]}}
	d := &r.d
	r.header.Version = d.int()
	r.header.ProjectKey = d.str()
	r.header.EnvironmentID = d.str()
	r.header.EnvironmentKey = d.str()
	r.n = max(d.count(), 0)
	return r, true
}

// Header returns the snapshot without its flags.
func (r *SnapshotReader) Header() domain.Snapshot { return r.header }

// Len returns the number of flags.
func (r *SnapshotReader) Len() int { return r.n }

// FlagBatch holds flags a SnapshotReader read; reading into it again reuses its
// memory, so the flags of a batch must no longer be in use then (strings excepted:
// they are never overwritten).
type FlagBatch struct {
	Flags   []domain.FlagConfig
	blocks  arenas
	want    [numArenas]int
	weights []map[string]float64
}

// reuse returns block emptied when it can hold n elements, else a new block of n.
func reuse[T any](block []T, n int) []T {
	if cap(block) < n {
		return make([]T, 0, n)
	}
	clear(block[:cap(block)])
	return block[:0]
}

// Read reads up to max flags into b, and reports whether it read any. After the last
// flag, or an error, it returns false: Err then says whether all was well.
func (r *SnapshotReader) Read(b *FlagBatch, max int) bool {
	d := &r.d
	if d.err != nil || r.read == r.n {
		return false
	}
	k := min(max, r.n-r.read)
	if cap(b.Flags) < k {
		b.Flags = make([]domain.FlagConfig, k)
	}
	b.Flags = b.Flags[:k]
	// Blocks sized by what the batch's last read cut: mostly one block each, reused.
	d.arenas = arenas{
		variants:   reuse(b.blocks.variants, b.want[cutVariants]),
		rules:      reuse(b.blocks.rules, b.want[cutRules]),
		conditions: reuse(b.blocks.conditions, b.want[cutConditions]),
		values:     reuse(b.blocks.values, b.want[cutValues]),
		prereqs:    reuse(b.blocks.prereqs, b.want[cutPrereqs]),
		rollouts:   reuse(b.blocks.rollouts, b.want[cutRollouts]),
	}
	d.cut = [numArenas]int{}
	if b.weights == nil {
		b.weights = make([]map[string]float64, 0, k)
	}
	d.weights, d.used = b.weights, 0
	for i := range b.Flags {
		fc := &b.Flags[i]
		*fc = domain.FlagConfig{}
		d.flag(&fc.Flag)
		d.config(&fc.Config)
	}
	b.blocks, b.want, b.weights = d.arenas, d.cut, d.weights
	d.arenas, d.weights = arenas{}, nil
	r.read += k
	return d.err == nil
}

// Err returns the first error met, once Read has returned false.
func (r *SnapshotReader) Err() error {
	switch {
	case r.d.err == nil && r.read < r.n:
		return errors.New("decode snapshot: not read to the end")
	case r.d.err == nil && r.d.pos != len(r.d.data):
		r.d.err = errors.New("trailing bytes")
	}
	if r.d.err != nil {
		return fmt.Errorf("decode snapshot: %w", r.d.err)
	}
	return nil
}

// SnapshotJSON returns a snapshot Load returned as JSON: as it is when it is JSON,
// re-encoded when it is binary.
func SnapshotJSON(data []byte) ([]byte, error) {
	if len(data) > 0 && data[0] == '{' {
		return data, nil
	}
	s, err := DecodeSnapshot(data)
	if err != nil {
		return nil, err
	}
	return json.Marshal(s) // as the evaluator encodes a snapshot from PostgreSQL
}

type encoder struct {
	buf  []byte
	seen map[string]uint64 // strings written, by their number
}

func (e *encoder) uint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) int(v int64)   { e.buf = binary.AppendVarint(e.buf, v) }

// str writes a string the first time as its length (shifted, low bit clear) and its
// bytes, and after that as its number (shifted, low bit set).
func (e *encoder) str(s string) {
	if s == "" {
		e.uint(0)
		return
	}
	if n, ok := e.seen[s]; ok {
		e.uint(n<<1 | 1)
		return
	}
	e.seen[s] = uint64(len(e.seen))
	e.uint(uint64(len(s)) << 1)
	e.buf = append(e.buf, s...)
}

// length writes a slice's length plus one, so that nil (0) and empty (1) differ: the
// JSON of the definitions tells null from [].
func (e *encoder) length(n int, isNil bool) {
	if isNil {
		e.uint(0)
		return
	}
	e.uint(uint64(n) + 1)
}

func (e *encoder) bools(bs ...bool) {
	var b byte
	for i, x := range bs {
		if x {
			b |= 1 << i
		}
	}
	e.buf = append(e.buf, b)
}

func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.uint(0)
		return
	}
	b, err := t.MarshalBinary()
	if err != nil {
		e.uint(0) // a time JSON could not encode either
		return
	}
	e.uint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

// Kinds of value.
const (
	valNull byte = iota
	valFalse
	valTrue
	valString
	valNumber
	valJSON // anything else, as JSON: decoded as encoding/json decodes it
)

func (e *encoder) value(v any) {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, valNull)
	case bool:
		if x {
			e.buf = append(e.buf, valTrue)
		} else {
			e.buf = append(e.buf, valFalse)
		}
	case string:
		e.buf = append(e.buf, valString)
		e.str(x)
	case float64:
		e.buf = append(e.buf, valNumber)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(x))
	default:
		b, err := json.Marshal(x)
		if err != nil {
			b = []byte("null") // what JSON could not encode either
		}
		e.buf = append(e.buf, valJSON)
		e.uint(uint64(len(b)))
		e.buf = append(e.buf, b...)
	}
}

func (e *encoder) flag(f *domain.Flag) {
	e.str(f.ID)
	e.str(f.Key)
	e.str(f.Name)
	e.str(f.Description)
	e.str(string(f.Kind))
	e.length(len(f.Variants), f.Variants == nil)
	for _, v := range f.Variants {
		e.str(v.Key)
		e.str(v.Name)
		e.str(v.Description)
		e.value(v.Value)
	}
	e.length(len(f.Tags), f.Tags == nil)
	for _, t := range f.Tags {
		e.str(t)
	}
	e.str(f.Salt)
	e.bools(f.Killed, f.Archived)
	e.time(f.CreatedAt)
	e.time(f.UpdatedAt)
}

func (e *encoder) config(c *domain.Config) {
	e.bools(c.Enabled)
	e.length(len(c.Rules), c.Rules == nil)
	for i := range c.Rules {
		r := &c.Rules[i]
		e.str(r.ID)
		e.str(r.Description)
		e.length(len(r.Conditions), r.Conditions == nil)
		for _, cond := range r.Conditions {
			e.str(cond.Attribute)
			e.str(string(cond.Operator))
			e.length(len(cond.Values), cond.Values == nil)
			for _, v := range cond.Values {
				e.value(v)
			}
		}
		e.serve(&r.Serve)
	}
	e.serve(&c.Default)
	e.str(c.OffVariant)
	e.length(len(c.Prerequisites), c.Prerequisites == nil)
	for _, p := range c.Prerequisites {
		e.str(p.Flag)
		e.str(p.Variant)
	}
	e.int(c.Version)
	e.time(c.UpdatedAt)
}

func (e *encoder) serve(s *domain.Serve) {
	e.str(s.Variant)
	if s.Rollout == nil {
		e.bools(false)
		return
	}
	e.bools(true)
	e.length(len(s.Rollout.Weights), s.Rollout.Weights == nil)
	for k, w := range s.Rollout.Weights {
		e.str(k)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(w))
	}
	e.str(s.Rollout.BucketBy)
}

// decoder reads what encoder writes. It checks every length against what is left, so
// that corrupt data fails rather than allocates; after the first error it reads zeros.
//
// The slices of all flags are cut from shared blocks (slab), and a string value is
// boxed once however many conditions hold it: a snapshot of ten thousand flags is then
// a few hundred allocations rather than a few hundred thousand.
type decoder struct {
	data  string
	pos   int
	strs  []string
	boxed []any // strs[i] as an any, once asked for
	err   error

	arenas
	cut [numArenas]int // elements cut from each kind of block, for FlagBatch
	// weights are maps to reuse (a FlagBatch's), clear, before making new ones; used
	// counts those reused or made.
	weights []map[string]float64
	used    int
}

// arenas are the blocks the slices of flags are cut from.
type arenas struct {
	variants   []domain.Variant
	rules      []domain.Rule
	conditions []domain.Condition
	values     []any
	prereqs    []domain.Prerequisite
	rollouts   []domain.Rollout
}

// The kinds of block, as numbered in decoder.cut.
const (
	cutVariants = iota
	cutRules
	cutConditions
	cutValues
	cutPrereqs
	cutRollouts
	numArenas
)

// slab returns n elements cut from *block, with no room to grow into the next ones,
// taking a new block when *block is full; *cut counts the elements.
func slab[T any](block *[]T, cut *int, n int) []T {
	*cut += n
	if n > cap(*block)-len(*block) {
		*block = make([]T, 0, max(n, 512))
	}
	l := len(*block)
	*block = (*block)[:l+n]
	return (*block)[l : l+n : l+n]
}

// weightMap returns an empty map for a rollout's weights.
func (d *decoder) weightMap(n int) map[string]float64 {
	if d.used < len(d.weights) {
		m := d.weights[d.used]
		d.used++
		clear(m)
		return m
	}
	m := make(map[string]float64, n)
	if d.weights != nil {
		d.weights = append(d.weights, m)
		d.used++
	}
	return m
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%s at byte %d", what, d.pos+1)
	}
	d.pos = len(d.data)
}

func (d *decoder) uint() uint64 {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if d.pos >= len(d.data) {
			d.fail("truncated")
			return 0
		}
		b := d.data[d.pos]
		d.pos++
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
	}
	d.fail("bad varint")
	return 0
}

func (d *decoder) int() int64 {
	u := d.uint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *decoder) byte() byte {
	if d.pos >= len(d.data) {
		d.fail("truncated")
		return 0
	}
	b := d.data[d.pos]
	d.pos++
	return b
}

// bytes returns the next n bytes.
func (d *decoder) bytes(n uint64) string {
	if n > uint64(len(d.data)-d.pos) {
		d.fail("truncated")
		return ""
	}
	s := d.data[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s
}

func (d *decoder) str() string {
	s, _ := d.strAt()
	return s
}

// strAt reads a string, and returns its number in the table (-1 for "").
func (d *decoder) strAt() (string, int) {
	u := d.uint()
	switch {
	case u == 0:
		return "", -1
	case u&1 == 1:
		if n := u >> 1; n < uint64(len(d.strs)) {
			return d.strs[n], int(n)
		}
		d.fail("bad string reference")
		return "", -1
	}
	s := d.bytes(u >> 1)
	if d.err != nil {
		return "", -1
	}
	d.strs = append(d.strs, s)
	d.boxed = append(d.boxed, nil)
	return s, len(d.strs) - 1
}

// strValue reads a string as a value: boxed once per distinct string.
func (d *decoder) strValue() any {
	s, i := d.strAt()
	if i < 0 {
		return s
	}
	if d.boxed[i] == nil {
		d.boxed[i] = s
	}
	return d.boxed[i]
}

// count reads a slice length written by length: -1 for nil. Every element takes at
// least a byte, so a count over what is left is corrupt.
func (d *decoder) count() int {
	u := d.uint()
	if u == 0 {
		return -1
	}
	if u-1 > uint64(len(d.data)-d.pos) {
		d.fail("bad length")
		return -1
	}
	return int(u - 1)
}

func (d *decoder) float() float64 {
	b := d.bytes(8)
	if len(b) < 8 {
		return 0
	}
	var u uint64
	for i := 7; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	return math.Float64frombits(u)
}

func (d *decoder) time() time.Time {
	var t time.Time
	n := d.uint()
	if n == 0 {
		return t
	}
	if err := t.UnmarshalBinary([]byte(d.bytes(n))); err != nil {
		d.fail("bad time")
	}
	return t
}

func (d *decoder) value() any {
	switch d.byte() {
	case valNull:
		return nil
	case valFalse:
		return false
	case valTrue:
		return true
	case valString:
		return d.strValue()
	case valNumber:
		return d.float()
	case valJSON:
		var v any
		if err := json.Unmarshal([]byte(d.bytes(d.uint())), &v); err != nil {
			d.fail("bad value")
		}
		return v
	}
	d.fail("bad value kind")
	return nil
}

func (d *decoder) flag(f *domain.Flag) {
	f.ID = d.str()
	f.Key = d.str()
	f.Name = d.str()
	f.Description = d.str()
	f.Kind = domain.Kind(d.str())
	if n := d.count(); n >= 0 {
		f.Variants = slab(&d.variants, &d.cut[cutVariants], n)
		for i := range f.Variants {
			v := &f.Variants[i]
			v.Key = d.str()
			v.Name = d.str()
			v.Description = d.str()
			v.Value = d.value()
		}
	}
	if n := d.count(); n >= 0 {
		f.Tags = make([]string, n)
		for i := range f.Tags {
			f.Tags[i] = d.str()
		}
	}
	f.Salt = d.str()
	b := d.byte()
	f.Killed, f.Archived = b&1 != 0, b&2 != 0
	f.CreatedAt = d.time()
	f.UpdatedAt = d.time()
}

func (d *decoder) config(c *domain.Config) {
	c.Enabled = d.byte()&1 != 0
	if n := d.count(); n >= 0 {
		c.Rules = slab(&d.rules, &d.cut[cutRules], n)
		for i := range c.Rules {
			r := &c.Rules[i]
			r.ID = d.str()
			r.Description = d.str()
			if n := d.count(); n >= 0 {
				r.Conditions = slab(&d.conditions, &d.cut[cutConditions], n)
				for j := range r.Conditions {
					cond := &r.Conditions[j]
					cond.Attribute = d.str()
					cond.Operator = domain.Operator(d.str())
					if n := d.count(); n >= 0 {
						cond.Values = slab(&d.values, &d.cut[cutValues], n)
						for k := range cond.Values {
							cond.Values[k] = d.value()
						}
					}
				}
			}
			d.serve(&r.Serve)
		}
	}
	d.serve(&c.Default)
	c.OffVariant = d.str()
	if n := d.count(); n >= 0 {
		c.Prerequisites = slab(&d.prereqs, &d.cut[cutPrereqs], n)
		for i := range c.Prerequisites {
			c.Prerequisites[i] = domain.Prerequisite{Flag: d.str(), Variant: d.str()}
		}
	}
	c.Version = d.int()
	c.UpdatedAt = d.time()
}

func (d *decoder) serve(s *domain.Serve) {
	s.Variant = d.str()
	if d.byte()&1 == 0 {
		return
	}
	s.Rollout = &slab(&d.rollouts, &d.cut[cutRollouts], 1)[0]
	if n := d.count(); n >= 0 {
		s.Rollout.Weights = d.weightMap(n)
		for range n {
			k := d.str()
			s.Rollout.Weights[k] = d.float()
		}
	}
	s.Rollout.BucketBy = d.str()
}
