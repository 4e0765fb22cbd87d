// Package openapitest validates real responses against a service's OpenAPI document;
// the integration tests do it for every response they get. It lives apart from
// package openapi so the services do not link the router it needs.
package openapitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/switchyard/switchyard/pkg/platform/openapi"
)

// Validator checks responses against the document.
type Validator struct {
	router    routers.Router
	wildcards []string
}

// NewValidator returns a validator for the document. Under each wildcard prefix, the
// rest of the path is one parameter even when it holds "/" (flag keys may).
func NewValidator(d *openapi.Doc, wildcards ...string) (*Validator, error) {
	// Pages and metrics are text; their schema is a string.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.FileBodyDecoder)
	t := *d.T
	t.Servers = nil // match paths whatever the host
	r, err := gorillamux.NewRouter(&t)
	if err != nil {
		return nil, err
	}
	return &Validator{router: r, wildcards: wildcards}, nil
}

// Validate checks a response to req: its status is documented, and its headers and
// body match the schema of that status (or the default response).
func (v *Validator) Validate(req *http.Request, status int, header http.Header, body []byte) error {
	r := req.Clone(context.Background())
	if r.URL.RawPath != "" {
		// The router matches the decoded path; a %2F inside a key would split it.
		r.URL.Path = strings.ReplaceAll(r.URL.RawPath, "%2F", "_")
		r.URL.RawPath = ""
	}
	for _, w := range v.wildcards {
		if rest, ok := strings.CutPrefix(r.URL.Path, w); ok && rest != "" {
			r.URL.Path = w + strings.ReplaceAll(rest, "/", "_")
		}
	}
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return nil // no such operation, and the answer says so
		}
		return fmt.Errorf("%s %s: no documented operation: %w", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("%s %s → %d: %w", req.Method, req.URL.Path, status, err)
	}
	return nil
}
