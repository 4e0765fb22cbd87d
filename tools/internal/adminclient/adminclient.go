// Package adminclient is a small client of the admin API and of the evaluator's OFREP
// endpoint, for the measurement tools (propagation, bench, chaos): they drive the
// product from outside, over HTTP, as an operator and an SDK would.
package adminclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// Client calls one service with one credential.
type Client struct {
	Base  string // e.g. http://127.0.0.1:8080
	Token string // sent as a bearer credential
	HTTP  *http.Client
}

// New returns a client with a 10-second timeout per call.
func New(base, token string) *Client {
	return &Client{Base: base, Token: token, HTTP: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// Do sends a JSON body (when not nil) and returns the status and the body. Extra
// headers come as name, value pairs.
func (c *Client) Do(ctx context.Context, method, path string, body any, headers ...string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

// Expect calls Do and fails unless the status is one of want; it decodes the answer
// into out when out is not nil.
func (c *Client) Expect(ctx context.Context, out any, method, path string, body any, want ...int) error {
	status, raw, err := c.Do(ctx, method, path, body)
	return check(method, path, status, raw, err, out, want...)
}

func check(method, path string, status int, raw []byte, err error, out any, want ...int) error {
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if !slices.Contains(want, status) {
		return fmt.Errorf("%s %s: answered %d: %s", method, path, status, bytes.TrimSpace(raw))
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// SDKKey creates an SDK key for an environment and returns it.
func (c *Client) SDKKey(ctx context.Context, project, env, name string) (string, error) {
	var created struct{ Key string }
	err := c.Expect(ctx, &created, http.MethodPost, "/api/v1/projects/"+project+"/environments/"+env+"/sdk-keys",
		map[string]any{"name": name}, http.StatusCreated)
	return created.Key, err
}

// NewSDKKey creates an SDK key of a kind ("server" or "client") for an environment and
// returns its id, for RevokeSDKKey, and the key.
func (c *Client) NewSDKKey(ctx context.Context, project, env, name, kind string) (id, key string, err error) {
	var created struct{ ID, Key string }
	err = c.Expect(ctx, &created, http.MethodPost, "/api/v1/projects/"+project+"/environments/"+env+"/sdk-keys",
		map[string]any{"name": name, "kind": kind}, http.StatusCreated)
	return created.ID, created.Key, err
}

// RevokeSDKKey revokes an SDK key by its id.
func (c *Client) RevokeSDKKey(ctx context.Context, project, env, id string) error {
	return c.Expect(ctx, nil, http.MethodDelete, "/api/v1/projects/"+project+"/environments/"+env+"/sdk-keys/"+id,
		nil, http.StatusNoContent)
}

// EnsureProject creates a project unless it exists.
func (c *Client) EnsureProject(ctx context.Context, key string) error {
	return c.Expect(ctx, nil, http.MethodPost, "/api/v1/projects", map[string]any{"key": key, "name": key},
		http.StatusCreated, http.StatusConflict)
}

// EnsureFlag creates a flag unless it exists.
func (c *Client) EnsureFlag(ctx context.Context, project string, flag map[string]any) error {
	return c.Expect(ctx, nil, http.MethodPost, "/api/v1/projects/"+project+"/flags", flag,
		http.StatusCreated, http.StatusConflict)
}

// Configure replaces a flag's configuration in an environment, whatever its version,
// and returns the configuration's new version.
func (c *Client) Configure(ctx context.Context, project, flag, env string, config map[string]any) (int64, error) {
	var out struct {
		Version int64 `json:"version"`
	}
	path := "/api/v1/projects/" + project + "/flags/" + flag + "/environments/" + env
	status, raw, err := c.Do(ctx, http.MethodPut, path, config, "If-Match", "*")
	if err := check(http.MethodPut, path, status, raw, err, &out, http.StatusOK); err != nil {
		return 0, err
	}
	return out.Version, nil
}

// OFREP evaluates one flag through the evaluator's OFREP endpoint (the client's token
// is the SDK key) and returns the HTTP status and the decoded answer.
func (c *Client) OFREP(ctx context.Context, flag string, evalCtx map[string]any) (int, OFREPResult, error) {
	var r OFREPResult
	status, raw, err := c.Do(ctx, http.MethodPost, "/ofrep/v1/evaluate/flags/"+flag, map[string]any{"context": evalCtx})
	if err != nil {
		return 0, r, err
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return status, r, fmt.Errorf("OFREP %s: %w: %s", flag, err, raw)
	}
	return status, r, nil
}

// OFREPResult is an OFREP answer, success or failure.
type OFREPResult struct {
	Key       string         `json:"key"`
	Value     any            `json:"value"`
	Variant   string         `json:"variant"`
	Reason    string         `json:"reason"`
	ErrorCode string         `json:"errorCode"`
	Metadata  map[string]any `json:"metadata"`
}
