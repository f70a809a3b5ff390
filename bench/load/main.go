// Command load is the load generator of bench/serve.sh: a bounded,
// closed-loop load on a classify serve endpoint. Each of -concurrency
// workers sends POST /v1/predict requests of -batch texts back to back
// over its own kept-alive connection, for -duration after a -warmup, so
// at most -concurrency requests are in flight at any time. It prints one
// JSON object: requests, texts, errors, seconds, texts and requests per
// second, latency percentiles in milliseconds, and its own CPU use in
// cores.
//
//	go run ./bench/load -url http://127.0.0.1:8080/v1/predict -texts texts.txt -concurrency 8 -batch 32 -duration 10s
//
// The texts are the lines of -texts, taken in turn (each worker starting
// at its own offset), so every request is different but the same run
// sends the same texts.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// result is what one run measured; it is printed as JSON.
type result struct {
	Concurrency   int     `json:"concurrency"`
	Batch         int     `json:"batch"`
	Requests      int     `json:"requests"`
	Texts         int     `json:"texts"`
	Errors        int     `json:"errors"`
	FirstError    string  `json:"first_error,omitempty"`
	Seconds       float64 `json:"seconds"`
	TextsPerSec   float64 `json:"texts_per_second"`
	RequestsPerSc float64 `json:"requests_per_second"`
	P50ms         float64 `json:"p50_ms"`
	P90ms         float64 `json:"p90_ms"`
	P99ms         float64 `json:"p99_ms"`
	// CPUCores is this process's CPU time over its whole run (warm-up
	// included) divided by the run's wall time: the share of the
	// machine the load generator took from a server on the same cores.
	// Absent where the system does not give it.
	CPUCores float64 `json:"cpu_cores,omitempty"`
}

// worker is one closed-loop client: it counts what it sent while the
// measurement window is open.
type worker struct {
	requests, texts, errors int
	firstErr                error
	latencies               []time.Duration
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8080/v1/predict", "the classify serve endpoint to POST {\"texts\": [...]} to")
	textsFile := flag.String("texts", "", "file of texts, one a line (required)")
	concurrency := flag.Int("concurrency", 1, "requests in flight at once, one worker and connection each")
	batch := flag.Int("batch", 1, "texts per request")
	duration := flag.Duration("duration", 10*time.Second, "how long to measure")
	warmup := flag.Duration("warmup", 2*time.Second, "how long to send before measuring")
	flag.Parse()
	if err := run(*url, *textsFile, *concurrency, *batch, *warmup, *duration, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// run loads url and writes the result to out.
func run(url, textsFile string, concurrency, batch int, warmup, duration time.Duration, out io.Writer) error {
	if textsFile == "" {
		return errors.New("-texts is required")
	}
	if concurrency < 1 || batch < 1 || duration <= 0 || warmup < 0 {
		return fmt.Errorf("-concurrency %d, -batch %d, -duration %v, -warmup %v: want positive values", concurrency, batch, duration, warmup)
	}
	texts, err := readLines(textsFile)
	if err != nil {
		return err
	}
	bodies := requestBodies(texts, batch)
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency, DisableCompression: true},
		Timeout:   60 * time.Second,
	}

	cpu0, start := cpuSeconds(), time.Now()
	measureFrom := start.Add(warmup)
	measureTo := measureFrom.Add(duration)
	workers := make([]*worker, concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{}
		workers[i] = w
		wg.Add(1)
		go func(next int) {
			defer wg.Done()
			for {
				t0 := time.Now()
				if !t0.Before(measureTo) {
					return
				}
				err := post(client, url, bodies[next%len(bodies)], batch)
				t1 := time.Now()
				next++
				// Only requests that start and end inside the window count.
				if t0.Before(measureFrom) || t1.After(measureTo) {
					continue
				}
				if err != nil {
					w.errors++
					if w.firstErr == nil {
						w.firstErr = err
					}
					continue
				}
				w.requests++
				w.texts += batch
				w.latencies = append(w.latencies, t1.Sub(t0))
			}
		}(i * len(bodies) / concurrency)
	}
	wg.Wait()

	r := result{Concurrency: concurrency, Batch: batch, Seconds: duration.Seconds()}
	var lat []time.Duration
	for _, w := range workers {
		r.Requests += w.requests
		r.Texts += w.texts
		r.Errors += w.errors
		if w.firstErr != nil && r.FirstError == "" {
			r.FirstError = w.firstErr.Error()
		}
		lat = append(lat, w.latencies...)
	}
	r.TextsPerSec = float64(r.Texts) / r.Seconds
	r.RequestsPerSc = float64(r.Requests) / r.Seconds
	r.P50ms, r.P90ms, r.P99ms = percentileMs(lat, 0.50), percentileMs(lat, 0.90), percentileMs(lat, 0.99)
	if c := cpuSeconds(); c >= 0 {
		r.CPUCores = math.Round(100*(c-cpu0)/time.Since(start).Seconds()) / 100
	}
	if err := json.NewEncoder(out).Encode(r); err != nil {
		return err
	}
	if r.Requests == 0 {
		return fmt.Errorf("no request succeeded in the window (%d errors: %s)", r.Errors, r.FirstError)
	}
	return nil
}

// readLines returns the non-empty lines of path.
func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			lines = append(lines, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: no texts", path)
	}
	return lines, nil
}

// requestBodies encodes {"texts": [...]} bodies of batch consecutive
// texts, wrapping around, one starting at each text.
func requestBodies(texts []string, batch int) [][]byte {
	bodies := make([][]byte, len(texts))
	for i := range texts {
		b := make([]string, batch)
		for j := range b {
			b[j] = texts[(i+j)%len(texts)]
		}
		bodies[i], _ = json.Marshal(map[string][]string{"texts": b})
	}
	return bodies
}

// post sends one request and checks that the answer has want predictions.
func post(c *http.Client, url string, body []byte, want int) error {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(data))
	}
	var v struct {
		Predictions []json.RawMessage `json:"predictions"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("answer is not JSON: %w", err)
	}
	if len(v.Predictions) != want {
		return fmt.Errorf("answer has %d predictions for %d texts", len(v.Predictions), want)
	}
	return nil
}

// percentileMs is the q-quantile of d in milliseconds (nearest rank), 0
// for none.
func percentileMs(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := int(q*float64(len(d))+0.5) - 1
	i = min(max(i, 0), len(d)-1)
	return float64(d[i].Microseconds()) / 1000
}
