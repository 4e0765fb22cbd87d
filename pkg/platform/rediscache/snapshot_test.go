package rediscache_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/rediscache"
)

// richSnapshot uses every field of a snapshot, nil and empty lists, and values of
// every kind.
func richSnapshot() domain.Snapshot {
	at := time.Date(2026, 3, 4, 5, 6, 7, 8, time.FixedZone("x", 3600))
	return domain.Snapshot{ProjectKey: "p", EnvironmentID: "e-id", EnvironmentKey: "production", Version: 42,
		Flags: []domain.FlagConfig{
			{Flag: domain.Flag{ID: "id-1", Key: "a", Name: "A", Description: "d", Kind: domain.KindJSON,
				Variants: []domain.Variant{{Key: "x", Name: "X", Description: "xd", Value: map[string]any{"n": 1.5, "l": []any{"s", true, nil}}},
					{Key: "y", Value: nil}, {Key: "z", Value: "str"}, {Key: "w", Value: -0.25}, {Key: "t", Value: true}, {Key: "f", Value: false}},
				Tags: []string{"t1", "t2"}, Salt: "salty", Killed: true, Archived: true, CreatedAt: at, UpdatedAt: at.UTC()},
				Config: domain.Config{Enabled: true, OffVariant: "y", Version: 7, UpdatedAt: at,
					Rules: []domain.Rule{{ID: "r1", Description: "rd", Serve: domain.Serve{Variant: "x"},
						Conditions: []domain.Condition{
							{Attribute: "plan", Operator: domain.OpIn, Values: []any{"pro", 3.0, true, nil, []any{1.0}}},
							{Attribute: "company.plan", Operator: domain.OpExists},
							{Attribute: "plan", Operator: domain.OpIn, Values: []any{}},
						}},
						{ID: "r2", Serve: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"x": 12.5, "z": 87.5}, BucketBy: "company.id"}}},
						{ID: "r3", Conditions: []domain.Condition{}, Serve: domain.Serve{Rollout: &domain.Rollout{}}},
					},
					Default:       domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{}}},
					Prerequisites: []domain.Prerequisite{{Flag: "b", Variant: "on"}}}},
			{Flag: domain.Flag{Key: "b", Kind: domain.KindBoolean, Variants: domain.BooleanVariants()},
				Config: domain.Config{Rules: []domain.Rule{}, Default: domain.Serve{Variant: "on"}, OffVariant: "off", Prerequisites: []domain.Prerequisite{}}},
			{Flag: domain.Flag{Key: "c"}, Config: domain.Config{}},
		}}
}

// TestSnapshotFormats: a snapshot decodes from the binary format to what it decodes
// to from JSON, and gives back the same JSON, so that SDKs get the same definitions
// whichever format Redis holds and whoever wrote it.
func TestSnapshotFormats(t *testing.T) {
	for _, s := range []domain.Snapshot{richSnapshot(), {}, {Flags: []domain.FlagConfig{}}} {
		js, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var want domain.Snapshot
		if err := json.Unmarshal(js, &want); err != nil {
			t.Fatal(err)
		}
		bin := rediscache.EncodeSnapshot(s)
		got, err := rediscache.DecodeSnapshot(bin)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("binary decodes to\n%#v\nwant (as from JSON)\n%#v", got, want)
		}
		again, err := rediscache.SnapshotJSON(bin)
		if err != nil || !bytes.Equal(again, js) {
			t.Errorf("JSON of the binary form:\n%s\n%v\nwant\n%s", again, err, js)
		}
		// An entry an older evaluator wrote: JSON, as it is.
		fromJSON, err := rediscache.DecodeSnapshot(js)
		if err != nil || !reflect.DeepEqual(fromJSON, want) {
			t.Errorf("from JSON: %v", err)
		}
		if same, err := rediscache.SnapshotJSON(js); err != nil || !bytes.Equal(same, js) {
			t.Errorf("JSON kept: %v", err)
		}
	}
}

// TestSnapshotCorrupt: a truncated, extended or altered entry is an error (a miss),
// never a panic or a snapshot.
func TestSnapshotCorrupt(t *testing.T) {
	bin := rediscache.EncodeSnapshot(richSnapshot())
	for n := range len(bin) {
		if _, err := rediscache.DecodeSnapshot(bin[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
	}
	if _, err := rediscache.DecodeSnapshot(append(bin[:len(bin):len(bin)], 0)); err == nil {
		t.Fatal("trailing byte: no error")
	}
	for _, data := range [][]byte{{0x02, 0}, []byte("not json"), {0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
		if _, err := rediscache.DecodeSnapshot(data); err == nil {
			t.Errorf("%q: no error", data)
		}
	}
	// Flipping any byte must not panic (it may still decode).
	for i := range bin {
		b := bytes.Clone(bin)
		b[i] ^= 0xa5
		_, _ = rediscache.DecodeSnapshot(b)
	}
}

// FuzzDecodeSnapshot: no input makes decoding panic or allocate beyond its size.
func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(rediscache.EncodeSnapshot(richSnapshot()))
	f.Add([]byte{0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 0 && data[0] == '{' {
			return
		}
		s, err := rediscache.DecodeSnapshot(data)
		if err != nil {
			return
		}
		// What decodes encodes back to an equivalent snapshot.
		again, err := rediscache.DecodeSnapshot(rediscache.EncodeSnapshot(s))
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(s)
		b, _ := json.Marshal(again)
		if !bytes.Equal(a, b) && !strings.Contains(string(a), "NaN") {
			t.Fatalf("round trip changed:\n%s\n%s", a, b)
		}
	})
}

// BenchmarkDecodeSnapshot compares the two formats for 10,000 flags of the bench shape.
func BenchmarkDecodeSnapshot(b *testing.B) {
	s := domain.Snapshot{ProjectKey: "p", EnvironmentID: "e", EnvironmentKey: "production", Version: 1}
	for i := range 10_000 {
		key := fmt.Sprintf("flag-%05d", i)
		s.Flags = append(s.Flags, domain.FlagConfig{
			Flag: domain.Flag{ID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), Key: key, Name: key, Kind: domain.KindBoolean, Variants: domain.BooleanVariants(), Salt: key},
			Config: domain.Config{Enabled: true, OffVariant: "off", Version: 1, Prerequisites: []domain.Prerequisite{},
				Rules: []domain.Rule{
					{ID: "staff", Conditions: []domain.Condition{{Attribute: "email", Operator: domain.OpEndsWith, Values: []any{"@example.com"}}}, Serve: domain.Serve{Variant: "on"}},
					{ID: "eu-pro", Conditions: []domain.Condition{{Attribute: "plan", Operator: domain.OpIn, Values: []any{"pro", "enterprise"}},
						{Attribute: "country", Operator: domain.OpIn, Values: []any{"DE", "FR", "NL", "SE"}}}, Serve: domain.Serve{Variant: "on"}},
					{ID: "old-app", Conditions: []domain.Condition{{Attribute: "app_version", Operator: domain.OpSemverLt, Values: []any{"2.0.0"}}}, Serve: domain.Serve{Variant: "off"}},
				},
				Default: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 25, "off": 75}}}}})
	}
	js, _ := json.Marshal(s)
	bin := rediscache.EncodeSnapshot(s)
	b.Run("json", func(b *testing.B) {
		b.ReportMetric(float64(len(js)), "bytes")
		for b.Loop() {
			var d domain.Snapshot
			if err := json.Unmarshal(js, &d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary", func(b *testing.B) {
		b.ReportMetric(float64(len(bin)), "bytes")
		for b.Loop() {
			if _, err := rediscache.DecodeSnapshot(bin); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			rediscache.EncodeSnapshot(s)
		}
	})
}

// TestSnapshotReader: read by batches, into batches whose memory is reused, a snapshot
// gives the flags DecodeSnapshot gives; a truncated or extended one is an error.
func TestSnapshotReader(t *testing.T) {
	s := richSnapshot()
	for i := range 40 {
		fc := richSnapshot().Flags[i%3]
		fc.Flag.Key = fmt.Sprintf("f%02d", i)
		s.Flags = append(s.Flags, fc)
	}
	bin := rediscache.EncodeSnapshot(s)
	want, err := rediscache.DecodeSnapshot(bin)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := rediscache.ReadSnapshot(string(bin))
	if !ok || r.Len() != len(want.Flags) {
		t.Fatalf("not read as binary, or %d flags", r.Len())
	}
	if h := r.Header(); h.Version != want.Version || h.ProjectKey != want.ProjectKey || h.EnvironmentID != want.EnvironmentID || h.EnvironmentKey != want.EnvironmentKey {
		t.Errorf("header %+v", h)
	}
	var batches [2]rediscache.FlagBatch
	n := 0
	for k := 0; r.Read(&batches[k%2], 5); k++ {
		for _, fc := range batches[k%2].Flags {
			if !reflect.DeepEqual(fc, want.Flags[n]) {
				t.Errorf("flag %d read as\n%#v\nwant\n%#v", n, fc, want.Flags[n])
			}
			n++
		}
	}
	if err := r.Err(); err != nil || n != len(want.Flags) {
		t.Fatalf("%d flags read: %v", n, err)
	}
	for _, data := range []string{string(bin[:len(bin)-1]), string(bin[:len(bin)/2]), string(bin) + "\x00"} {
		r, _ := rediscache.ReadSnapshot(data)
		var b rediscache.FlagBatch
		for r.Read(&b, 5) {
		}
		if r.Err() == nil {
			t.Errorf("%d bytes of %d: no error", len(data), len(bin))
		}
	}
	if _, ok := rediscache.ReadSnapshot(`{"flags":[]}`); ok {
		t.Error("JSON read as binary")
	}
}
