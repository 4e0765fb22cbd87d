package api

import (
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/evaluator/internal/keys"
)

// credentials returns the SDK key: Authorization: Bearer, or X-API-Key.
func credentials(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, token, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
		return ""
	}
	return r.Header.Get("X-API-Key")
}

var errServerKeyInBrowser = domain.Errorf(domain.CodeForbidden,
	"this is a server SDK key, which must not be used in a browser; create a client key for web and mobile apps")

// fromBrowser reports whether a browser sent the request: cross-origin requests carry
// an Origin, and browsers mark every fetch, same-origin ones too, with Sec-Fetch-*
// headers, which scripts cannot remove. Servers send neither.
func fromBrowser(r *http.Request) bool {
	return r.Header.Get(echo.HeaderOrigin) != "" || r.Header.Get("Sec-Fetch-Mode") != "" || r.Header.Get("Sec-Fetch-Site") != ""
}

func (a *API) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		k, err := a.keys.Authenticate(c.Request().Context(), credentials(c.Request()), c.RealIP())
		if err != nil {
			return err
		}
		// A server key can read definitions, rules and all: one pasted into a web page
		// fails loudly at once rather than leaking later.
		if k.Kind != domain.SDKKeyClient && fromBrowser(c.Request()) {
			return errServerKeyInBrowser
		}
		// The key travels in a pooled wrapper of the context: echo's own store
		// (c.Set) allocates a map on every request.
		kc := keyedContexts.Get().(*keyedContext)
		kc.Context, kc.key = c, k
		err = next(kc)
		kc.Context, kc.key = nil, keys.Key{}
		keyedContexts.Put(kc)
		return err
	}
}

// keyedContext is a request's context with its SDK key. It lives as long as the
// handler: nothing may keep it, or a pointer into it, past the handler's return.
type keyedContext struct {
	echo.Context
	key keys.Key
}

var keyedContexts = sync.Pool{New: func() any { return new(keyedContext) }}

var errClientKey = domain.Errorf(domain.CodeForbidden,
	"flag definitions are for server SDK keys; this is a client key, which may only evaluate")

// serverKeysOnly guards what only server keys may have: definitions can hold
// targeting lists with personal data.
func serverKeysOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if sdkKey(c).Kind == domain.SDKKeyClient {
			return errClientKey
		}
		return next(c)
	}
}

// sdkKey is the request's key, authenticated; a copy, since the context holding it
// is reused.
func sdkKey(c echo.Context) keys.Key {
	if kc, ok := c.(*keyedContext); ok {
		return kc.key
	}
	return keys.Key{}
}

func environment(c echo.Context) string { return sdkKey(c).EnvironmentID }
