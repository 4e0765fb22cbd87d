package api

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"

	"github.com/switchyard/switchyard/pkg/eval"
)

// The single-flag answers are encoded by hand: under load, reflection in
// encoding/json was the largest cost of the handler after the socket. The output is
// byte for byte what the JSON serializer (HTML escaping off) writes; a test holds it
// to that.

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			return appendJSON(b, s) // escapes, or non-ASCII that may need them
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendValue appends a flag value: the common scalars directly, anything else
// through encoding/json.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case string:
		return appendString(b, v)
	case float64:
		if a := math.Abs(v); a < 1e21 && (a >= 1e-6 || a == 0) && !math.IsNaN(v) {
			return strconv.AppendFloat(b, v, 'f', -1, 64)
		}
	}
	return appendJSON(b, v)
}

func appendJSON(b []byte, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return append(b, "null"...) // flag values come from JSON and always encode
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// appendJSON encodes the view as the serializer would.
func (v resultView) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if v.Key != "" {
		b = append(b, `"key":`...)
		b = appendString(b, v.Key)
		b = append(b, ',')
	}
	b = append(b, `"value":`...)
	b = appendValue(b, v.Value)
	if v.Variant != "" {
		b = append(b, `,"variant":`...)
		b = appendString(b, v.Variant)
	}
	b = append(b, `,"reason":`...)
	b = appendString(b, string(v.Reason))
	if v.RuleID != "" {
		b = append(b, `,"rule_id":`...)
		b = appendString(b, v.RuleID)
	}
	if v.ErrorCode != "" {
		b = append(b, `,"error_code":`...)
		b = appendString(b, string(v.ErrorCode))
	}
	if v.ErrorMessage != "" {
		b = append(b, `,"error_message":`...)
		b = appendString(b, v.ErrorMessage)
	}
	return append(b, '}', '\n')
}

// appendObject encodes the answer without the serializer's trailing newline.
func (s ofrepSuccess) appendObject(b []byte) []byte {
	b = append(b, `{"key":`...)
	b = appendString(b, s.Key)
	b = append(b, `,"value":`...)
	b = appendValue(b, s.Value)
	b = append(b, `,"reason":`...)
	b = appendString(b, s.Reason)
	if s.Variant != "" {
		b = append(b, `,"variant":`...)
		b = appendString(b, s.Variant)
	}
	b = append(b, `,"metadata":{"environmentVersion":`...)
	b = strconv.AppendInt(b, s.Metadata.EnvironmentVersion, 10)
	if s.Metadata.RuleID != "" {
		b = append(b, `,"ruleId":`...)
		b = appendString(b, s.Metadata.RuleID)
	}
	return append(b, '}', '}')
}

// appendObject encodes the error as the serializer would, without its newline.
func (e ofrepError) appendObject(b []byte) []byte {
	b = append(b, '{')
	if e.Key != "" {
		b = append(b, `"key":`...)
		b = appendString(b, e.Key)
		b = append(b, ',')
	}
	b = append(b, `"errorCode":`...)
	b = appendString(b, e.ErrorCode)
	if e.ErrorDetails != "" {
		b = append(b, `,"errorDetails":`...)
		b = appendString(b, e.ErrorDetails)
	}
	return append(b, '}')
}

// appendJSON encodes the bulk answer as the serializer would encode each result's
// ofrepResult body in "flags": the results of a hundred flags without reflection, and
// without boxing one.
func (a ofrepBulkAnswer) appendJSON(b []byte) []byte {
	b = append(b, `{"flags":[`...)
	for i, r := range a.Results {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendResult(b, r, a.Version)
	}
	b = append(b, `],"eventStreams":[`...)
	for i, es := range a.EventStreams {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":`...)
		b = appendString(b, es.Type)
		b = append(b, `,"url":`...)
		b = appendString(b, es.URL)
		b = append(b, `,"inactivityDelaySec":`...)
		b = strconv.AppendInt(b, int64(es.InactivityDelaySec), 10)
		b = append(b, '}')
	}
	return append(b, ']', '}', '\n')
}

// appendResult encodes ofrepResult's body for r.
func appendResult(b []byte, r eval.Result, version int64) []byte {
	if r.ErrorCode == "" {
		return ofrepSuccess{Key: r.Key, Value: r.Value, Reason: string(r.Reason), Variant: r.Variant,
			Metadata: ofrepMetadata{EnvironmentVersion: version, RuleID: r.RuleID}}.appendObject(b)
	}
	_, body := ofrepResult(r, version) // errors are rare: boxed, as ofrepResult gives them
	return body.(ofrepError).appendObject(b)
}
