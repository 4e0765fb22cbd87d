package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
)

// OFREP 0.3.0: https://github.com/open-feature/protocol (service/openapi.yaml).

type ofrepSuccess struct {
	Key      string        `json:"key"`
	Value    any           `json:"value"`
	Reason   string        `json:"reason"`
	Variant  string        `json:"variant,omitempty"`
	Metadata ofrepMetadata `json:"metadata"`
}

// ofrepMetadata is the flag metadata of an answer.
type ofrepMetadata struct {
	EnvironmentVersion int64  `json:"environmentVersion"`
	RuleID             string `json:"ruleId,omitempty"`
}

type ofrepError struct {
	Key          string `json:"key,omitempty"`
	ErrorCode    string `json:"errorCode"`
	ErrorDetails string `json:"errorDetails,omitempty"`
}

func ofrepKey(c echo.Context) string {
	k := c.Param("*")
	if u, err := url.PathUnescape(k); err == nil {
		return u
	}
	return k
}

// request is the pooled state of one evaluation request: the body's buffer, the
// context's attribute list, the answer's buffer. Nothing may keep any of them, nor the
// context decoded into them, past the handler's return.
type request struct {
	body   []byte
	attrs  [16]eval.Attribute
	answer []byte
}

var requests = sync.Pool{New: func() any {
	return &request{body: make([]byte, 0, 1024), answer: make([]byte, 0, 512)}
}}

// maxPooledBody and maxPooledAnswer bound the buffers kept for the next request: a
// rare large one (an environment of many thousands of flags) is left to the GC.
const (
	maxPooledBody   = 64 << 10
	maxPooledAnswer = 1 << 20
)

func getRequest() *request { return requests.Get().(*request) }

func (r *request) release() {
	if cap(r.body) > maxPooledBody || cap(r.answer) > maxPooledAnswer {
		return
	}
	clear(r.attrs[:])
	requests.Put(r)
}

// readBody reads a request body into buf, growing it as needed.
func readBody(body io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// readOFREP decodes an OFREP request body into st. OFREP is lenient: an empty body or
// a missing context is an empty context, and unknown members are ignored.
func readOFREP(c echo.Context, st *request) (eval.Context, *ofrepError) {
	body, err := readBody(c.Request().Body, st.body[:0])
	st.body = body
	if err != nil {
		return eval.Context{}, &ofrepError{ErrorCode: "PARSE_ERROR", ErrorDetails: "the request body could not be read (too large?)"}
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 {
		if !json.Valid(trimmed) || trimmed[0] != '{' && string(trimmed) != "null" {
			// The slow path, for encoding/json's words on what is wrong.
			var req struct {
				Context json.RawMessage `json:"context"`
			}
			msg := "not an object"
			if err := json.Unmarshal(body, &req); err != nil {
				msg = strings.TrimPrefix(err.Error(), "json: ")
			}
			return eval.Context{}, &ofrepError{ErrorCode: "PARSE_ERROR", ErrorDetails: "the body is not a JSON object: " + msg}
		}
		// encoding/json would quietly turn invalid UTF-8 into U+FFFD, changing what
		// the rules compare; refused, as on every other route.
		if err := httpapi.CheckJSONText(body); err != nil {
			var details []string
			for _, f := range domain.ErrorFields(err) {
				details = append(details, f.Field+" "+f.Message)
			}
			return eval.Context{}, &ofrepError{ErrorCode: "PARSE_ERROR", ErrorDetails: "the body is not valid text: " + strings.Join(details, "; ")}
		}
	}
	ctx, err := eval.ContextFromJSON(body, "context", st.attrs[:0], "targetingKey", "key")
	switch {
	case errors.Is(err, eval.ErrNotObject):
		return ctx, &ofrepError{ErrorCode: "INVALID_CONTEXT", ErrorDetails: "context must be a JSON object"}
	case err != nil:
		return ctx, &ofrepError{ErrorCode: "INVALID_CONTEXT", ErrorDetails: "targetingKey must be a string"}
	}
	return ctx, nil
}

// ofrepResult turns a result into an OFREP answer: its status and body.
func ofrepResult(r eval.Result, version int64) (int, any) {
	switch r.ErrorCode {
	case "":
	case eval.ErrFlagNotFound:
		return http.StatusNotFound, ofrepError{Key: r.Key, ErrorCode: string(r.ErrorCode), ErrorDetails: "flag " + r.Key + " does not exist in this environment"}
	case eval.ErrTargetingKeyMissing:
		return http.StatusBadRequest, ofrepError{Key: r.Key, ErrorCode: string(r.ErrorCode),
			ErrorDetails: "this flag rolls out by percentage and needs a targeting key (or its bucketing attribute) in the context"}
	default:
		details := r.ErrorMessage
		if details == "" {
			details = eval.MessageBroken
		}
		return http.StatusInternalServerError, ofrepError{Key: r.Key, ErrorCode: "GENERAL", ErrorDetails: details}
	}
	return http.StatusOK, ofrepSuccess{Key: r.Key, Value: r.Value, Reason: string(r.Reason), Variant: r.Variant,
		Metadata: ofrepMetadata{EnvironmentVersion: version, RuleID: r.RuleID}}
}

// ofrepSingle answers POST /ofrep/v1/evaluate/flags/{key}; the key may hold "/".
func (a *API) ofrepSingle(c echo.Context) error {
	key := ofrepKey(c)
	st := getRequest()
	defer st.release()
	ctx, perr := readOFREP(c, st)
	if perr != nil {
		perr.Key = key
		return c.JSON(http.StatusBadRequest, perr)
	}
	snap, err := a.snapshot(c)
	if err != nil {
		return err
	}
	r := snap.Evaluate(key, &ctx)
	a.counter.Add(environment(c), r)
	if r.ErrorCode != "" {
		status, body := ofrepResult(r, snap.Version)
		return c.JSON(status, body)
	}
	st.answer = append(appendResult(st.answer[:0], r, snap.Version), '\n')
	return writeJSON(c, http.StatusOK, st.answer)
}

// jsonContentType is the Content-Type of JSON answers, one slice shared by all of them
// (header values are only read once set): setting it per answer allocates.
var jsonContentType = []string{echo.MIMEApplicationJSON}

// writeJSON writes an encoded JSON answer; the response writer copies the bytes.
func writeJSON(c echo.Context, status int, b []byte) error {
	c.Response().Header()[echo.HeaderContentType] = jsonContentType
	return c.JSONBlob(status, b)
}

// ofrepBulk answers POST /ofrep/v1/evaluate/flags: every flag of the environment, with
// an ETag of the environment version and the context; If-None-Match gives 304.
func (a *API) ofrepBulk(c echo.Context) error {
	st := getRequest()
	defer st.release()
	ctx, perr := readOFREP(c, st)
	if perr != nil {
		return c.JSON(http.StatusBadRequest, perr)
	}
	snap, err := a.bulkSnapshot(c)
	if err != nil {
		return err
	}
	// The tokens' window and secret are part of the tag: a client revalidating after its
	// stream URL expired, or was signed by a secret no longer used, gets a fresh answer
	// with a fresh URL, not a 304 that keeps the old one.
	k := sdkKey(c)
	token, tokens := a.tokens.Issue(k.EnvironmentID, k.ID)
	st.answer = appendCanonical(st.answer[:0], &ctx) // the answer's buffer, until the answer
	tag := etag(k.EnvironmentID, snap.Version, tokens, st.answer)
	c.Response().Header().Set("ETag", tag)
	if match := c.Request().Header.Get("If-None-Match"); match != "" && etagMatches(match, tag) {
		return c.NoContent(http.StatusNotModified)
	}
	results := snap.EvaluateAll(&ctx)
	a.counter.Add(environment(c), results...)
	answer := ofrepBulkAnswer{Results: results, Version: snap.Version, EventStreams: []eventStream{a.eventStream(c, token)}}
	st.answer = answer.appendJSON(st.answer[:0])
	return writeJSON(c, http.StatusOK, st.answer)
}

// ofrepBulkAnswer is the bulk answer: each result's ofrepResult body in "flags", then
// "eventStreams" (encode.go).
type ofrepBulkAnswer struct {
	Results      []eval.Result
	Version      int64
	EventStreams []eventStream
}

// eventStream is where an OFREP client listens for changes (OFREP's change-detection
// ADR): an SSE URL, and how long a hidden page may keep it open.
type eventStream struct {
	Type               string `json:"type"`
	URL                string `json:"url"`
	InactivityDelaySec int    `json:"inactivityDelaySec"`
}

// inactivityDelaySec is how long a client whose page is hidden keeps its stream:
// past it, it closes the stream and asks again when shown.
const inactivityDelaySec = 120

func (a *API) eventStream(c echo.Context, token string) eventStream {
	base := a.live.PublicURL
	if base == "" {
		base = c.Scheme() + "://" + c.Request().Host
	}
	return eventStream{Type: "sse", URL: base + "/ofrep/v1/stream?token=" + token, InactivityDelaySec: inactivityDelaySec}
}

// bulkSnapshot is the snapshot of a bulk request: at least the version named by
// flagConfigEtag, which a stream announced (perhaps another replica's, a moment
// ahead of this one).
func (a *API) bulkSnapshot(c echo.Context) (*eval.Snapshot, error) {
	want, ok := parseVersionTag(c.QueryParam("flagConfigEtag"))
	if !ok {
		return a.snapshot(c)
	}
	snap, err := a.snaps.AtLeast(c.Request().Context(), environment(c), want)
	if err != nil {
		return nil, unavailable(err, "flags")
	}
	return snap, nil
}

func etagMatches(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == tag || t == "*" {
			return true
		}
	}
	return false
}

// ofrepErrors answers errors on /ofrep paths in OFREP's shape, and hands all others
// to problem (problem+json).
func (a *API) ofrepErrors(problem echo.HTTPErrorHandler) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if !strings.HasPrefix(c.Request().URL.Path, "/ofrep/") || c.Response().Committed {
			problem(err, c)
			return
		}
		status := httpapi.Status(err)
		code := "GENERAL"
		if status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge {
			code = "PARSE_ERROR"
		}
		detail := domain.ErrorMessage(err)
		var he *echo.HTTPError
		if errors.As(err, &he) {
			detail = http.StatusText(he.Code)
		}
		// OFREP's error has no field list: the fields go into the details.
		for i, f := range domain.ErrorFields(err) {
			sep := "; "
			if i == 0 {
				sep = ": "
			}
			detail += sep + f.Field + " " + f.Message
		}
		if status >= 500 {
			a.log.ErrorContext(c.Request().Context(), "ofrep request failed", "error", err.Error(), "request_id", httpapi.RequestIDOf(c))
		}
		if secs := domain.RetryAfter(err); secs > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		}
		_ = c.JSON(status, ofrepError{Key: ofrepKey(c), ErrorCode: code, ErrorDetails: detail})
	}
}

// etag derives the bulk answer's entity tag from the environment, its version, the
// stream tokens' tag and the context's canonical form: the answer changes only when
// one of them does.
func etag(environmentID string, version int64, tokens string, context []byte) string {
	h := sha256.New()
	var b [32]byte
	h.Write(append(append(b[:0], environmentID...), 0))
	h.Write(append(strconv.AppendInt(b[:0], version, 10), 0))
	h.Write(append(append(b[:0], tokens...), 0))
	h.Write(context)
	sum := h.Sum(b[:0])
	var out [2 + 32]byte
	out[0], out[33] = '"', '"'
	hex.Encode(out[1:33], sum[:16])
	return string(out[:])
}

// appendCanonical encodes a context so that equal contexts encode alike however their
// members were ordered or held: the targeting key, then the attributes by name. It
// sorts a listed context's attributes, which evaluation does not mind.
func appendCanonical(b []byte, ctx *eval.Context) []byte {
	b = appendString(b, ctx.Key)
	if ctx.List != nil {
		slices.SortFunc(ctx.List, func(x, y eval.Attribute) int { return strings.Compare(x.Name, y.Name) })
		for _, at := range ctx.List {
			b = appendString(append(b, ','), at.Name)
			b = append(b, ':')
			if at.Value == nil {
				b = appendString(b, at.Text)
			} else {
				b = appendValue(b, at.Value)
			}
		}
		return b
	}
	for _, name := range slices.Sorted(maps.Keys(ctx.Attributes)) {
		if v := ctx.Attributes[name]; v != nil { // null, as absent
			b = appendString(append(b, ','), name)
			b = appendValue(append(b, ':'), v)
		}
	}
	return b
}
