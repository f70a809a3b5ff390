package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// route is one endpoint of the server. path is a pattern of segments in
// which "{model}" stands for a model name, also inside a segment as in
// TF Serving's "{model}:predict". The table of routes drives the routing,
// the 404 and 405 answers, the metrics' route label and /openapi.json.
type route struct {
	method, path string
	summary      string
	// request and response name schemas of openAPIComponents; "" for none.
	request, response string
	handle            func(s *server, w http.ResponseWriter, r *http.Request, model string)
}

// routes lists every endpoint of the server.
func routes() []route {
	return []route{
		{"POST", "/v1/predict", "Score texts with the first model: {\"texts\": [...]} -> {\"predictions\": [...]}", "PredictRequest", "PredictResponse", (*server).predict},
		{"GET", "/healthz", "Liveness: the process answers", "", "Status", (*server).healthz},
		{"GET", "/readyz", "Readiness: every model is loaded and warmed (503 until then)", "", "Status", (*server).readyz},
		{"GET", "/metrics", "Prometheus metrics in the text exposition format", "", "", (*server).metricsPage},
		{"GET", "/openapi.json", "This document", "", "", (*server).openAPI},
		{"GET", "/v1/models/{model}", "TF Serving REST: the model's version status", "", "TFModelStatus", (*server).tfStatus},
		{"POST", "/v1/models/{model}:predict", "TF Serving REST: {\"instances\": [...]} -> {\"predictions\": [...]}", "TFPredictRequest", "PredictResponse", (*server).tfPredict},
		{"GET", "/v2", "KServe v2 / Open Inference Protocol: server metadata", "", "V2ServerMetadata", (*server).v2Server},
		{"GET", "/v2/health/live", "KServe v2: the server is live", "", "V2Ready", (*server).v2Live},
		{"GET", "/v2/health/ready", "KServe v2: every model is ready (503 until then)", "", "V2Ready", (*server).v2Ready},
		{"GET", "/v2/models/{model}", "KServe v2: model metadata, its input and output tensors", "", "V2ModelMetadata", (*server).v2Model},
		{"GET", "/v2/models/{model}/ready", "KServe v2: the model is ready (503 until then)", "", "V2Ready", (*server).v2ModelReady},
		{"POST", "/v2/models/{model}/infer", "KServe v2: a BYTES input tensor of texts -> label (BYTES) and score (FP32) tensors", "V2InferRequest", "V2InferResponse", (*server).v2Infer},
	}
}

// match reports whether path fits the route's pattern, and the model name
// it holds.
func (rt route) match(path string) (model string, ok bool) {
	pat := strings.Split(rt.path, "/")
	seg := strings.Split(path, "/")
	if len(pat) != len(seg) {
		return "", false
	}
	for i, p := range pat {
		if rest, found := strings.CutPrefix(p, "{model}"); found {
			name, ok := strings.CutSuffix(seg[i], rest)
			if !ok || name == "" {
				return "", false
			}
			model = name
			continue
		}
		if p != seg[i] {
			return "", false
		}
	}
	return model, true
}

// server holds what the handlers share.
type server struct {
	models  *modelSet
	metrics *serveMetrics
	log     *slog.Logger
	o       serveOptions
	slots   chan struct{} // o.maxConcurrent scoring calls at once
	routes  []route
	scrape  http.Handler // of metrics
}

// newServeHandler returns the server's routes. Every error is a JSON
// object {"error": "..."} that names what was wrong with the request and
// nothing of the server's internals: 400 for a bad request, 413 for a
// body over o.maxBodyBytes, 404 for an unknown path or model, 405 for a
// wrong method, 503 while a model loads, 500 when a model fails.
func newServeHandler(set *modelSet, m *serveMetrics, log *slog.Logger, o serveOptions) http.Handler {
	return &server{models: set, metrics: m, log: log, o: o, slots: make(chan struct{}, o.maxConcurrent), routes: routes(), scrape: m.handler()}
}

// requestInfo is what a handler tells the request log and metrics.
type requestInfo struct {
	route, model string
	texts        int
}

type infoKey struct{}

// info returns the request's requestInfo for a handler to fill in.
func info(r *http.Request) *requestInfo {
	if ri, ok := r.Context().Value(infoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// statusWriter records the status a handler answers with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP routes r, then logs one line and counts it in the metrics.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()
	ri := &requestInfo{route: "other"}
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, ri))
	sw := &statusWriter{ResponseWriter: w}
	s.route(sw, r, ri)
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	took := time.Since(start)
	code := strconv.Itoa(sw.status)
	s.metrics.requests.WithLabelValues(ri.route, code).Inc()
	s.metrics.duration.WithLabelValues(ri.route, code).Observe(took.Seconds())
	attrs := []any{"method", r.Method, "route", ri.route, "path", r.URL.Path, "status", sw.status, "texts", ri.texts,
		"duration_ms", float64(took.Microseconds()) / 1000, "remote", r.RemoteAddr}
	if ri.model != "" {
		attrs = append(attrs, "model", ri.model)
	}
	s.log.Info("request", attrs...)
}

func (s *server) route(w http.ResponseWriter, r *http.Request, ri *requestInfo) {
	var allow []string
	for _, rt := range s.routes {
		model, ok := rt.match(r.URL.Path)
		if !ok {
			continue
		}
		if r.Method == rt.method || rt.method == "GET" && r.Method == "HEAD" {
			ri.route = rt.path
			rt.handle(s, w, r, model)
			return
		}
		allow = append(allow, rt.method)
		if rt.method == "GET" {
			allow = append(allow, "HEAD")
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, "method %s not allowed on %s; use %s", r.Method, r.URL.Path, allow[0])
		return
	}
	writeError(w, http.StatusNotFound, "no such path %s; GET /openapi.json lists the routes (POST /v1/predict, GET /healthz, ...)", r.URL.Path)
}

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// The status is sent: an error here is the client gone.
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with status and {"error": message}.
func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request, _ string) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request, _ string) {
	if !s.models.ready() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "loading"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *server) metricsPage(w http.ResponseWriter, r *http.Request, _ string) {
	s.scrape.ServeHTTP(w, r)
}

func (s *server) openAPI(w http.ResponseWriter, r *http.Request, _ string) {
	writeJSON(w, http.StatusOK, openAPIDocument(s.routes, s.models.names()))
}
