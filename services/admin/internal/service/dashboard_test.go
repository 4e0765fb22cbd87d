package service

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

func TestExplainContext(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		key   string
		attrs int
		code  domain.Code
		field string
	}{
		{"key", `{"key":"u-1","plan":"pro"}`, "u-1", 1, "", ""},
		{"targetingKey", `{"targetingKey":"u-2","plan":"pro"}`, "u-2", 1, "", ""},
		{"key first", `{"key":"a","targetingKey":"b"}`, "a", 1, "", ""},
		{"null key", `{"key":null,"targetingKey":"b"}`, "b", 1, "", ""},
		{"no key", `{"plan":"pro"}`, "", 1, "", ""},
		{"empty", `{}`, "", 0, "", ""},
		{"numeric key", `{"key":42}`, "", 0, domain.CodeInvalid, "context.key"},
		{"over the evaluator's limit", `{"blob":"` + strings.Repeat("x", domain.MaxContextBytes) + `"}`, "", 0, domain.CodeTooLarge, "context"},
	}
	for _, tt := range tests {
		var raw map[string]any
		if err := json.Unmarshal([]byte(tt.raw), &raw); err != nil {
			t.Fatal(err)
		}
		c, err := explainContext(raw)
		if domain.ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want code %q", tt.name, err, tt.code)
			continue
		}
		if err != nil {
			if f := domain.ErrorFields(err); len(f) != 1 || f[0].Field != tt.field {
				t.Errorf("%s: fields %v, want %s", tt.name, f, tt.field)
			}
			continue
		}
		if c.Key != tt.key || len(c.Attributes) != tt.attrs {
			t.Errorf("%s: key %q, attributes %v", tt.name, c.Key, c.Attributes)
		}
	}
}

func TestAuditIDDecoding(t *testing.T) {
	for in, want := range map[string]AuditID{`42`: 42, `"42"`: 42, `9007199254740993`: 9007199254740993} {
		var got RevertInput
		if err := json.Unmarshal([]byte(`{"audit_id":`+in+`}`), &got); err != nil || got.AuditID != want {
			t.Errorf("%s: %d %v", in, got.AuditID, err)
		}
	}
	for _, in := range []string{`0`, `-1`, `1.5`, `"x"`, `null`, `true`, `{}`, `""`} {
		var got RevertInput
		err := json.Unmarshal([]byte(`{"audit_id":`+in+`}`), &got)
		var typ *json.UnmarshalTypeError
		if !asTypeError(err, &typ) || typ.Field != "audit_id" {
			t.Errorf("%s: %v", in, err)
		}
	}
}

func asTypeError(err error, typ **json.UnmarshalTypeError) bool {
	t, ok := err.(*json.UnmarshalTypeError)
	*typ = t
	return ok
}

// seriesStore answers every bucket asked, and records the range.
type seriesStore struct {
	EvaluationStore
	since, until time.Time
	found        []domain.EvaluationBucket
}

func (s *seriesStore) Evaluations(_ context.Context, _, flag, _ string, since, until time.Time) (domain.FlagEvaluations, error) {
	s.since, s.until = since, until
	return domain.FlagEvaluations{Flag: flag, Since: since, Until: until}, nil
}

func (s *seriesStore) EvaluationSeries(context.Context, string, string, string, time.Time, time.Time, domain.BucketSize) ([]domain.EvaluationBucket, error) {
	return s.found, nil
}

// TestEvaluationSeriesBuckets: the series lists every bucket from the one holding
// since to the one holding the range's last instant, fills those the store did not
// answer, defaults the range by bucket size, and bounds the number of buckets.
func TestEvaluationSeriesBuckets(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name         string
		since, until string
		bucket       domain.BucketSize
		buckets      int
		first        string
		field        string
	}{
		{"whole hours", "2025-03-10T10:00:00Z", "2025-03-10T12:00:00Z", domain.BucketHour, 2, "2025-03-10T10:00:00Z", ""},
		{"cut hours", "2025-03-10T10:30:00Z", "2025-03-10T12:00:01Z", domain.BucketHour, 3, "2025-03-10T10:00:00Z", ""},
		{"days in UTC", "2025-03-10T23:30:00+02:00", "2025-03-12T00:00:00Z", domain.BucketDay, 2, "2025-03-10T00:00:00Z", ""},
		{"31 days by the hour", "2025-03-01T00:00:00Z", "2025-04-01T00:00:00Z", domain.BucketHour, 744, "2025-03-01T00:00:00Z", ""},
		{"one hour more", "2025-03-01T00:00:00Z", "2025-04-01T00:00:01Z", domain.BucketHour, 0, "", "since"},
		{"a week", "", "2025-03-10T00:00:00Z", domain.BucketDay, 7, "2025-03-03T00:00:00Z", ""},
		{"a day", "", "2025-03-10T00:00:00Z", domain.BucketHour, 24, "2025-03-09T00:00:00Z", ""},
		{"a minute", "", "2025-03-10T00:00:00Z", "minute", 0, "", "bucket"},
	}
	for _, tt := range tests {
		st := &seriesStore{found: []domain.EvaluationBucket{{Start: at("2025-03-10T11:00:00Z"), Counts: []domain.VariantReasonCount{}, Total: 5}}}
		s := &Service{evaluations: st}
		var since time.Time
		if tt.since != "" {
			since = at(tt.since)
		}
		ev, err := s.EvaluationSeries(context.Background(), domain.Origin{}, "p", "f", "", since, at(tt.until), tt.bucket)
		if tt.field != "" {
			if f := domain.ErrorFields(err); len(f) != 1 || f[0].Field != tt.field {
				t.Errorf("%s: %v, want a problem with %s", tt.name, err, tt.field)
			}
			continue
		}
		if err != nil || len(ev.Series) != tt.buckets || !ev.Series[0].Start.Equal(at(tt.first)) || ev.Bucket != tt.bucket {
			t.Fatalf("%s: %d buckets from %v (%v), want %d from %s", tt.name, len(ev.Series), ev.Series[0].Start, err, tt.buckets, tt.first)
		}
		for i, b := range ev.Series {
			want := int64(0)
			if b.Start.Equal(at("2025-03-10T11:00:00Z")) {
				want = 5
			}
			if b.Total != want || b.Counts == nil || (i > 0 && b.Start.Sub(ev.Series[i-1].Start) != tt.bucket.Duration()) {
				t.Errorf("%s: bucket %d %+v", tt.name, i, b)
			}
		}
	}
	// Without a bucket: the counts alone.
	s := &Service{evaluations: &seriesStore{}}
	if ev, err := s.EvaluationSeries(context.Background(), domain.Origin{}, "p", "f", "", time.Time{}, time.Time{}, ""); err != nil || ev.Series != nil {
		t.Errorf("no bucket: %+v %v", ev, err)
	}
}
