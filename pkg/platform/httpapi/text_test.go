package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
)

// TestRejectBadText: invalid UTF-8 and NUL in the path or the query are a 400 naming
// the path parameter (or "path") and the query parameter, before the handler runs.
func TestRejectBadText(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = ErrorHandler(discard)
	e.Use(RejectBadText())
	ok := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
	e.GET("/projects/:project/flags/:flag", ok)
	e.GET("/evaluate/*", ok)
	tests := []struct {
		target string
		fields []string // nil: accepted
	}{
		{"/projects/shop/flags/dark-mode?q=caf%C3%A9", nil},
		{"/projects/shop/flags/checkout%2Fv2", nil},
		{"/evaluate/a/b?plan=pro&plan=free", nil},
		{"/projects/shop/flags/%ff", []string{"flag"}},
		{"/projects/%00/flags/%FF", []string{"project", "flag"}},
		{"/projects/shop/flags/a%2F%00", []string{"flag"}},
		{"/evaluate/x%00y", []string{"path"}},
		{"/nowhere/%ff", []string{"path"}},
		{"/evaluate/x?key=%ff", []string{"key"}},
		{"/evaluate/x?key=u1&plan=pro&plan=%00", []string{"plan"}},
		{"/evaluate/x?%ff=1", []string{"query"}},
		{"/projects/%ff/flags/x?email=%00", []string{"project", "email"}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.target, nil))
			if tt.fields == nil {
				if rec.Code != http.StatusNoContent {
					t.Fatalf("status %d, want 204: %s", rec.Code, rec.Body)
				}
				return
			}
			if rec.Code != http.StatusBadRequest || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d (%s), want a 400 problem: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range p.Errors {
				got = append(got, f.Field)
			}
			if !slices.Equal(got, tt.fields) || p.Code != domain.CodeInvalid {
				t.Errorf("fields %v (code %s), want %v", got, p.Code, tt.fields)
			}
		})
	}
}

// TestDecodeRefusesBadText: a JSON string holding \u0000 or invalid UTF-8 (which
// encoding/json would quietly turn into U+FFFD) is refused, naming its field.
func TestDecodeRefusesBadText(t *testing.T) {
	type item struct {
		S string `json:"s"`
	}
	type body struct {
		Name  string            `json:"name"`
		Items []item            `json:"items"`
		Tags  map[string]string `json:"tags"`
		Any   any               `json:"any"`
	}
	tests := []struct {
		in     string
		fields []string // nil: accepted
	}{
		{`{"name":"café ☕"}`, nil},
		{`{"name":"a\\u0000b"}`, nil}, // an escaped backslash, then "u0000": text
		{`{"name":"\ud800"}`, nil},    // a lone surrogate decodes to U+FFFD, which is text
		{`{"name":"a\u0000"}`, []string{"name"}},
		{`{"name":"ok","items":[{"s":"x"},{"s":"\u0000"}]}`, []string{"items[1].s"}},
		{"{\"name\":\"\xff\"}", []string{"name"}},
		{"{\"items\":[{\"s\":\"\xc3\"}],\"name\":\"x\"}", []string{"items[0].s"}},
		{`{"tags":{"team":"a\u0000"}}`, []string{"tags.team"}},
		{`{"tags":{"te\u0000am":"a"}}`, []string{"tags.team"}},
		{`{"any":{"deep":[1,{"x":["\u0000"]}]}}`, []string{"any.deep[1].x[0]"}},
		{`{"name":"\u0000","any":"\u0000"}`, []string{"name", "any"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var b body
			err := DecodeBytes([]byte(tt.in), &b)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var got []string
			for _, f := range domain.ErrorFields(err) {
				got = append(got, f.Field)
			}
			if domain.ErrorCode(err) != domain.CodeInvalid || !slices.Equal(got, tt.fields) {
				t.Errorf("got %v (%v), want fields %v", got, err, tt.fields)
			}
		})
	}
}

// TestCursorText: a cursor must decode to text; "AA" decodes to a NUL and "_w" to a
// lone 0xff byte, which PostgreSQL would refuse with a 500.
func TestCursorText(t *testing.T) {
	for _, cursor := range []string{"AA", "_w", "YQBi"} {
		if _, err := DecodeCursor(cursor); domain.ErrorCode(err) != domain.CodeInvalid {
			t.Errorf("cursor %q accepted: %v", cursor, err)
		}
		c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/?cursor="+cursor, nil), httptest.NewRecorder())
		if _, err := PageOf(c); !slices.Equal(fieldNames(err), []string{"cursor"}) {
			t.Errorf("page with cursor %q: %v", cursor, err)
		}
	}
}

func fieldNames(err error) []string {
	var out []string
	for _, f := range domain.ErrorFields(err) {
		out = append(out, f.Field)
	}
	return out
}
