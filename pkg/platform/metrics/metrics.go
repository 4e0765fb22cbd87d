// Package metrics exposes Prometheus metrics: each service builds its own registry
// (no global state), the HTTP middleware records requests by route and status with
// latency histograms, and OpsServer serves /metrics and the profiles on the
// operations listener, apart from the public port.
package metrics

import (
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric.
const Namespace = "switchyard"

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves the registry's metrics.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// OpsHandler serves what only operators may see, on the operations listener: the
// metrics at /metrics (they name every tenant's flags) and Go's profiles under
// /debug/pprof/. The public ports serve neither.
func OpsHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", Handler(reg))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// OpsServer returns the operations listener's server on addr (OPS_ADDR). Its write
// timeout leaves room for CPU profiles and traces, which last as long as asked
// (30 s by default).
func OpsServer(addr string, reg *prometheus.Registry) *http.Server {
	return &http.Server{Addr: addr, Handler: OpsHandler(reg), ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute}
}

// Servers returns the servers a service runs, in the order they stop at shutdown:
// the public one drains first while the operations listener (when opsAddr is set)
// stays up, so the drain can be watched, and stops last.
func Servers(public *http.Server, opsAddr string, reg *prometheus.Registry) []*http.Server {
	if opsAddr == "" {
		return []*http.Server{public}
	}
	return []*http.Server{public, OpsServer(opsAddr, reg)}
}

// HTTP records requests.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	panics   prometheus.Counter
	cache    sync.Map // route, method and status → *series: label lookups hash on every call
}

type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

type seriesKey struct {
	route, method string
	status        int
}

func (h *HTTP) series(route, method string, status int) *series {
	k := seriesKey{route, method, status}
	if s, ok := h.cache.Load(k); ok {
		return s.(*series)
	}
	s := &series{requests: h.requests.WithLabelValues(route, method, strconv.Itoa(status)),
		duration: h.duration.WithLabelValues(route, method)}
	actual, _ := h.cache.LoadOrStore(k, s)
	return actual.(*series)
}

// NewHTTP registers the request metrics of a service.
func NewHTTP(reg prometheus.Registerer, service string) *HTTP {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: service, Name: "http_requests_total",
			Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: service, Name: "http_request_duration_seconds",
			Help:    "HTTP request latency by route and method.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
		}, []string{"route", "method"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: service, Name: "http_panics_total",
			Help: "Panics recovered while answering a request (each answered 500).",
		}),
	}
	reg.MustRegister(h.requests, h.duration, h.panics)
	return h
}

// Panics counts the panics the service's recover middleware catches.
func (h *HTTP) Panics() prometheus.Counter { return h.panics }

// Middleware records each request after it is answered, by its route pattern (never
// the raw path, which would make a series per flag key).
func (h *HTTP) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			s := h.series(route, c.Request().Method, c.Response().Status)
			s.requests.Inc()
			s.duration.Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

// CounterFunc registers a counter read at scrape time (from an atomic, usually).
func CounterFunc(reg prometheus.Registerer, service, name, help string, f func() float64) {
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: service, Name: name, Help: help,
	}, f))
}

// Atomic reads an atomic counter for CounterFunc.
func Atomic(v *atomic.Int64) func() float64 { return func() float64 { return float64(v.Load()) } }

// GaugeFunc registers a gauge computed at scrape time.
func GaugeFunc(reg prometheus.Registerer, service, name, help string, f func() float64) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: service, Name: name, Help: help,
	}, f))
}
