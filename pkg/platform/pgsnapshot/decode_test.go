package pgsnapshot

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

// columns are JSON texts of the four columns, as PostgreSQL's jsonb writes them and in
// the odd forms only a hand-edited row would hold (escapes, unknown members, other
// case, nulls), which the fast decoder leaves to encoding/json.
var columns = []string{
	`[{"key": "on", "value": true}, {"key": "off", "value": false}]`,
	`[{"key": "red", "name": "Red", "value": "#f00", "description": "d"}, {"key": "n", "value": -1.5e3}, {"key": "j", "value": {"a": [1, "x", null, {"b": false}]}}]`,
	`[{"id": "staff", "serve": {"variant": "on"}, "conditions": [{"values": ["@example.com"], "operator": "ends_with", "attribute": "email"}]}, {"id": "eu-pro", "serve": {"variant": "on"}, "conditions": [{"values": ["pro", "enterprise"], "operator": "in", "attribute": "plan"}, {"values": ["DE", "FR", "NL", "SE"], "operator": "in", "attribute": "country"}]}, {"id": "old-app", "serve": {"variant": "off"}, "conditions": [{"values": ["2.0.0"], "operator": "semver_lt", "attribute": "app_version"}]}]`,
	`[{"id": "r", "serve": {"rollout": {"weights": {"on": 12.5, "off": 87.5}, "bucket_by": "company.id"}}, "conditions": [], "description": "x"}]`,
	`[{"id": "r", "serve": {"rollout": null, "variant": "on"}, "conditions": null}, null, {"id": "s", "conditions": [{"attribute": "a", "operator": "exists"}, {"values": [], "operator": "in", "attribute": "b"}, {"values": null}]}]`,
	`{"rollout": {"weights": {"on": 25, "off": 75}}}`,
	`{"variant": "off"}`,
	`{"rollout": {"weights": null}}`, `{"rollout": {}}`, `{}`, `null`, `[]`, ` [ ] `,
	`[{"flag": "other", "variant": "on"}]`,
	`[{"flag": "a\"b", "variant": "on"}]`,
	`[{"Flag": "x", "VARIANT": "on"}]`,
	`[{"flag": "x", "variant": "on", "extra": 1}]`,
	`[{"key": "é", "value": "\u00e9"}]`,
	`[{"key": "k", "value": 1e400}]`,
	`[{"key": "k", "value": 01}]`,
	`[{"key": "k", "value": [1,]}]`,
	`{"rollout": {"weights": {"on": "x"}}}`,
	`[{"id": 5}]`,
	`[{"id": "a"}] x`,
	"[{\"key\": \"\xff\", \"value\": 1}]",
	`{"variant": "on", "variant": "off"}`,
}

// decodeBoth decodes data into a fresh value of into's type with the decoder and with
// encoding/json, and fails the test when they differ.
func decodeBoth(t *testing.T, d *decoder, data string, into any) {
	t.Helper()
	typ := reflect.TypeOf(into).Elem()
	got, want := reflect.New(typ), reflect.New(typ)
	gotErr := d.column([]byte(data), got.Interface())
	wantErr := json.Unmarshal([]byte(data), want.Interface())
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%s into %v: error %v, encoding/json's %v", data, typ, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got.Elem().Interface(), want.Elem().Interface()) {
		t.Fatalf("%s into %v:\n got %#v\nwant %#v", data, typ, got.Elem().Interface(), want.Elem().Interface())
	}
}

var columnTypes = []any{new([]domain.Variant), new([]domain.Rule), new(domain.Serve), new([]domain.Prerequisite)}

// TestDecodeAsEncodingJSON: every column decodes as encoding/json decodes it, into
// every column type (most of them mismatched: those must fail alike).
func TestDecodeAsEncodingJSON(t *testing.T) {
	d := newDecoder()
	for _, c := range columns {
		for _, into := range columnTypes {
			decodeBoth(t, d, c, into)
		}
	}
}

// TestDecodeFast: what PostgreSQL writes takes the fast path.
func TestDecodeFast(t *testing.T) {
	d := newDecoder()
	for i, into := range []any{new([]domain.Variant), new([]domain.Variant), new([]domain.Rule), new([]domain.Rule), new([]domain.Rule), new(domain.Serve), new(domain.Serve)} {
		if err := d.fast([]byte(columns[i]), into); err != nil {
			t.Errorf("%s: %v", columns[i], err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, c := range columns {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, data string) {
		d := newDecoder()
		for _, into := range columnTypes {
			decodeBoth(t, d, data, into)
		}
	})
}
