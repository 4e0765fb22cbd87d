package ui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"
)

//go:embed static
var staticFS embed.FS

// assets are the embedded stylesheet, script and icon. Pages link them with a digest
// of their content (?v=…), so browsers may keep them for a year and still never run
// an old script with a new page.
type assets struct {
	files map[string]asset
}

type asset struct {
	body    []byte
	ctype   string
	version string
}

var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

func mustAssets() *assets {
	a := &assets{files: map[string]asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		a.files[path.Base(p)] = asset{body: body, ctype: contentTypes[path.Ext(p)], version: hex.EncodeToString(sum[:6])}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return a
}

// URL is the address of an asset, with its version.
func (a *assets) URL(name string) string {
	return "/static/" + name + "?v=" + a.files[name].version
}

// Bytes is the size of every asset of a type (".css", ".js"), for the budget test.
func (a *assets) Bytes(ext string) int {
	n := 0
	for name, f := range a.files {
		if path.Ext(name) == ext {
			n += len(f.body)
		}
	}
	return n
}

// static serves an embedded asset.
func (h *handler) static(c echo.Context) error {
	secure(c)
	f, ok := h.assets.files[c.Param("file")]
	if !ok || f.ctype == "" {
		return c.NoContent(http.StatusNotFound)
	}
	hd := c.Response().Header()
	if c.QueryParam("v") == f.version {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	hd.Set("ETag", `"`+f.version+`"`)
	if c.Request().Header.Get("If-None-Match") == `"`+f.version+`"` {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, f.ctype, f.body)
}
