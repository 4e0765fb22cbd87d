package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// definitions answers GET /api/v1/flags: the environment's flag definitions for
// server SDKs, which evaluate them with the same engine. The ETag is the version.
func (a *API) definitions(c echo.Context) error {
	snap, err := a.snapshot(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	// Answered without reading the definitions when the client has this version.
	if match := c.Request().Header.Get("If-None-Match"); match != "" && etagMatches(match, versionTag(snap.Version)) {
		h.Set("ETag", versionTag(snap.Version))
		return c.NoContent(http.StatusNotModified)
	}
	d, err := a.snaps.Definitions(c.Request().Context(), environment(c), snap.Version)
	if err != nil {
		return unavailable(err, "flag definitions")
	}
	h.Set("ETag", versionTag(d.Version))
	if acceptsGzip(c.Request()) {
		h.Set(echo.HeaderContentEncoding, "gzip")
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, d.Gzip)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, d.JSON)
}

// versionTag is the ETag of a version: the number, quoted.
func versionTag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// parseVersionTag reads a version from an entity tag ("42", W/"42" or 42).
func parseVersionTag(s string) (int64, bool) {
	s = strings.Trim(strings.TrimPrefix(strings.TrimSpace(s), "W/"), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil && v > 0
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get(echo.HeaderAcceptEncoding), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0"
		}
	}
	return false
}
