package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentileMs(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	tests := []struct {
		d    []time.Duration
		q    float64
		want float64
	}{
		{nil, 0.5, 0},
		{ms(7), 0.99, 7},
		{ms(4, 1, 3, 2), 0.5, 2},  // nearest rank: the 2nd of 4
		{ms(4, 1, 3, 2), 0.99, 4}, // the 4th
		{ms(10, 20, 30, 40, 50, 60, 70, 80, 90, 100), 0.9, 90},
	}
	for _, tt := range tests {
		if got := percentileMs(tt.d, tt.q); got != tt.want {
			t.Errorf("percentileMs(%v, %v) = %v, want %v", tt.d, tt.q, got, tt.want)
		}
	}
}

func TestRequestBodies(t *testing.T) {
	got := requestBodies([]string{"a", "b", "c"}, 2)
	want := []string{`{"texts":["a","b"]}`, `{"texts":["b","c"]}`, `{"texts":["c","a"]}`}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("requestBodies body %d = %s, want %s", i, got[i], want[i])
		}
	}
}

// TestRunCountsTexts loads a fake /v1/predict and checks that the texts
// reported are the texts the server answered inside the window, and that
// no more than -concurrency requests were in flight.
func TestRunCountsTexts(t *testing.T) {
	var inFlight, peak, answered atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		var req struct{ Texts []string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		time.Sleep(2 * time.Millisecond)
		preds := make([]map[string]any, len(req.Texts))
		for i := range preds {
			preds[i] = map[string]any{"label": "pos", "score": 0.9}
		}
		answered.Add(int64(len(req.Texts)))
		json.NewEncoder(w).Encode(map[string]any{"predictions": preds})
	}))
	defer srv.Close()
	texts := filepath.Join(t.TempDir(), "texts.txt")
	if err := os.WriteFile(texts, []byte("one\ntwo\n\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(srv.URL, texts, 3, 4, 20*time.Millisecond, 200*time.Millisecond, &out); err != nil {
		t.Fatalf("run: %v (output %s)", err, out.String())
	}
	var r result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if r.Requests == 0 || r.Errors != 0 {
		t.Fatalf("requests %d, errors %d (%s), want some requests and no errors", r.Requests, r.Errors, r.FirstError)
	}
	if r.Texts != 4*r.Requests {
		t.Errorf("texts %d for %d requests of 4, want %d", r.Texts, r.Requests, 4*r.Requests)
	}
	if a := answered.Load(); int64(r.Texts) > a {
		t.Errorf("reported %d texts, but the server answered only %d", r.Texts, a)
	}
	if p := peak.Load(); p > 3 {
		t.Errorf("%d requests in flight at once, want at most -concurrency 3", p)
	}
	if want := float64(r.Texts) / 0.2; r.TextsPerSec != want {
		t.Errorf("texts_per_second %v, want texts / seconds = %v", r.TextsPerSec, want)
	}
	if r.CPUCores < 0 || r.CPUCores > float64(runtime.NumCPU()) {
		t.Errorf("cpu_cores %v, want 0 to the %d CPUs", r.CPUCores, runtime.NumCPU())
	}
}

// TestCPUSeconds checks that the process's CPU time grows with work done.
func TestCPUSeconds(t *testing.T) {
	c0 := cpuSeconds()
	if c0 < 0 {
		t.Skip("this system gives no CPU time")
	}
	x := 1.0
	for start := time.Now(); time.Since(start) < 100*time.Millisecond; {
		for range 1000 {
			x = x*1.0000001 + 1e-9
		}
	}
	if c1 := cpuSeconds(); c1-c0 < 0.02 {
		t.Errorf("100 ms of busy work added %.3f s of CPU time (x %g), want at least 0.02", c1-c0, x)
	}
}

func TestRunReportsServerErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"model loading"}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	texts := filepath.Join(t.TempDir(), "texts.txt")
	if err := os.WriteFile(texts, []byte("one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(srv.URL, texts, 1, 1, 0, 50*time.Millisecond, &out)
	if err == nil || !strings.Contains(err.Error(), "status 503") {
		t.Errorf("run against a failing server: error %v, want one naming status 503", err)
	}
}
