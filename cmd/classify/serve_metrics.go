package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serveMetrics are the server's Prometheus metrics, on a registry of the
// server's own (no global registry), served at GET /metrics with the Go
// runtime's and the process's.
type serveMetrics struct {
	reg *prometheus.Registry

	requests    *prometheus.CounterVec   // route, code
	duration    *prometheus.HistogramVec // route, code
	inFlight    prometheus.Gauge
	texts       *prometheus.CounterVec   // model
	batch       *prometheus.HistogramVec // model
	loadSeconds *prometheus.GaugeVec     // model
	version     *prometheus.GaugeVec     // model
	reloads     *prometheus.CounterVec   // model, result
}

func newServeMetrics() *serveMetrics {
	m := &serveMetrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classify_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "classify_http_request_duration_seconds",
			Help:    "Time from a request's headers to the end of its answer, by route pattern and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "classify_http_requests_in_flight",
			Help: "Requests being answered now.",
		}),
		texts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classify_texts_scored_total",
			Help: "Texts scored, by model.",
		}, []string{"model"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "classify_batch_size",
			Help:    "Texts per scoring call (one request), by model.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11), // 1 ... 1024
		}, []string{"model"}),
		loadSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "classify_model_load_seconds",
			Help: "Time the model's current version took to load and warm, by model.",
		}, []string{"model"}),
		version: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "classify_model_version",
			Help: "Version of the model being served: 1 at start, one more at each reload that changed it.",
		}, []string{"model"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classify_model_reloads_total",
			Help: "Reloads of a changed checkpoint on SIGHUP, by model and result (ok, error).",
		}, []string{"model", "result"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, m.texts, m.batch, m.loadSeconds, m.version, m.reloads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the metrics in the Prometheus text format (or
// OpenMetrics, when the scraper asks for it).
func (m *serveMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}
