// Command httpfloor is the HTTP floor of the load benchmarks: a bare echo server whose
// one handler decodes the request as any JSON API would (a POST's body into a struct
// holding the context as a map, a GET's query into url.Values) and returns a fixed
// JSON body the size of an OFREP answer, with no middleware, authentication or
// evaluation. scripts/bench loads it with the same wrk settings as the evaluator, so
// the ratio of the two is what Switchyard adds.
//
//	httpfloor -addr 127.0.0.1:18190
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
)

var body = []byte(`{"key":"flag-000","value":true,"reason":"TARGETING_MATCH","variant":"on","metadata":{"environmentVersion":101,"ruleId":"pro"}}`)

func main() {
	addr := flag.String("addr", "127.0.0.1:18190", "listen address")
	flag.Parse()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/*", func(c echo.Context) error {
		if len(c.QueryParams()) == 0 {
			return c.JSONBlob(http.StatusBadRequest, []byte(`{"error":"no query"}`))
		}
		return c.JSONBlob(http.StatusOK, body)
	})
	e.POST("/*", func(c echo.Context) error {
		var req struct {
			Context map[string]any `json:"context"`
		}
		if err := json.NewDecoder(c.Request().Body).Decode(&req); err != nil {
			return c.JSONBlob(http.StatusBadRequest, []byte(`{"error":"bad body"}`))
		}
		return c.JSONBlob(http.StatusOK, body)
	})
	srv := &http.Server{Addr: *addr, Handler: e, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "httpfloor:", err)
		os.Exit(1)
	}
}
