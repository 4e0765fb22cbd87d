package openapi_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/platform/openapi"
	"github.com/switchyard/switchyard/pkg/platform/openapi/openapitest"
)

const doc = `
openapi: 3.0.3
info: {title: Demo API, version: "1"}
tags: [{name: things}]
paths:
  /things/{key}:
    parameters: [{name: key, in: path, required: true, schema: {type: string}}]
    get:
      tags: [things]
      summary: Read a thing
      responses:
        "200":
          description: The thing
          content: {application/json: {schema: {type: object, required: [key], properties: {key: {type: string}}}}}
  /misc:
    post:
      tags: [undeclared]
      summary: Something else
      responses: {"204": {description: Done}}
`

func load(t *testing.T) *openapi.Doc {
	t.Helper()
	d, err := openapi.Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLoadRejectsInvalidDocuments(t *testing.T) {
	for name, raw := range map[string]string{
		"not yaml":     "{",
		"no responses": "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: {/x: {get: {}}}\n",
		"bad ref":      "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: {/x: {get: {responses: {'200': {$ref: '#/components/responses/Nope'}}}}}\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := openapi.Load([]byte(raw)); err == nil {
				t.Fatal("loaded an invalid document")
			}
		})
	}
}

func TestCheckRoutes(t *testing.T) {
	d := load(t)
	e := echo.New()
	noop := func(echo.Context) error { return nil }
	e.GET("/things/:key", noop)
	e.DELETE("/things/:key", noop) // served, not documented
	// POST /misc is documented, not served.
	got := d.CheckRoutes(e.Routes())
	want := []string{"documented but not served: POST /misc", "not documented: DELETE /things/:key"}
	if !slices.Equal(got, want) {
		t.Fatalf("CheckRoutes = %q, want %q", got, want)
	}
	e = echo.New()
	e.GET("/things/:id", noop) // parameter names may differ
	e.POST("/misc", noop)
	if got := d.CheckRoutes(e.Routes()); len(got) != 0 {
		t.Fatalf("CheckRoutes = %q, want none", got)
	}
}

func TestServesDocumentAndDocs(t *testing.T) {
	d := load(t)
	e := echo.New()
	d.Register(e)
	for path, want := range map[string]string{
		"/openapi.json": `"title":"Demo API"`,
		"/docs":         "<code>/things/{key}</code> — Read a thing",
	} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
			t.Fatalf("GET %s = %d %s, want %q", path, rec.Code, rec.Body, want)
		}
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/docs", nil))
	if !strings.Contains(rec.Body.String(), "<h2>undeclared</h2>") {
		t.Fatal("operations under an undeclared tag are missing from /docs")
	}
}

func TestValidator(t *testing.T) {
	v, err := openapitest.NewValidator(load(t), "/things/")
	if err != nil {
		t.Fatal(err)
	}
	json := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name, method, path string
		status             int
		body               string
		ok                 bool
	}{
		{"matches", "GET", "/things/a", 200, `{"key":"a"}`, true},
		{"key holding a slash", "GET", "/things/a/b", 200, `{"key":"a/b"}`, true},
		{"missing field", "GET", "/things/a", 200, `{}`, false},
		{"wrong type", "GET", "/things/a", 200, `{"key":1}`, false},
		{"undocumented status", "GET", "/things/a", 418, `{"key":"a"}`, false},
		{"undocumented path answered 404", "GET", "/nowhere", 404, `{}`, true},
		{"undocumented path answered 200", "GET", "/nowhere", 200, `{}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			err := v.Validate(req, tt.status, json, []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
