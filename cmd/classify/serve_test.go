package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/classify/classify/models"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// fakePredictor scores each text by a hash of its bytes, so that every
// answer can be checked against the text it was for.
type fakePredictor struct {
	calls, inFlight, peak atomic.Int64
	// block, when set, is called inside Predict before it answers.
	block func()
}

// fakePrediction is fakePredictor's answer for text.
func fakePrediction(text string) models.Prediction {
	h := fnv.New32a()
	h.Write([]byte(text))
	p := float32(h.Sum32()%1000) / 1000
	label := "neg"
	if p >= 0.5 {
		label = "pos"
	}
	return models.Prediction{Label: label, Score: p, Scores: []models.LabelScore{{Label: label, Score: p}}}
}

func (f *fakePredictor) Predict(texts []string) ([]models.Prediction, error) {
	f.calls.Add(1)
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		old := f.peak.Load()
		if n <= old || f.peak.CompareAndSwap(old, n) {
			break
		}
	}
	if f.block != nil {
		f.block()
	}
	out := make([]models.Prediction, len(texts))
	for i, t := range texts {
		if t == "fail" {
			return nil, errors.New("the model broke")
		}
		out[i] = fakePrediction(t)
	}
	if len(texts) > 0 && texts[0] == "short" {
		return out[:len(out)-1], nil
	}
	return out, nil
}

// testOptions are small limits that the tests can reach.
func testOptions() serveOptions {
	o := defaultServeOptions()
	o.maxBodyBytes = 256
	o.maxTexts = 3
	return o
}

// quietLog is a request log that the tests do not read.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// loadedModels returns a model set that serves p under each of names,
// loaded.
func loadedModels(t testing.TB, p predictor, names ...string) (*modelSet, *serveMetrics) {
	t.Helper()
	var specs modelSpecs
	for _, n := range names {
		dir := filepath.Join(t.TempDir(), n)
		os.Mkdir(dir, 0o755)
		for _, f := range checkpointFiles {
			os.WriteFile(filepath.Join(dir, f), []byte(n), 0o644)
		}
		specs = append(specs, modelSpec{name: n, dir: dir})
	}
	m := newServeMetrics()
	set := newModelSet(specs, func(string) (predictor, error) { return &fakePredictor{}, nil }, m, quietLog)
	if err := set.loadAll(); err != nil {
		t.Fatal(err)
	}
	// The load's probe went to a fake of its own: p counts and blocks
	// only on the test's requests.
	for _, sm := range set.list {
		sm.cur.Load().p = p
	}
	return set, m
}

// testHandler is the handler of a server of p under the name "m".
func testHandler(t testing.TB, p predictor, o serveOptions) http.Handler {
	set, m := loadedModels(t, p, "m")
	return newServeHandler(set, m, quietLog, o)
}

// wantPredictions is the body the server must answer for texts.
func wantPredictions(texts ...string) string {
	var r predictResponse
	for _, t := range texts {
		r.Predictions = append(r.Predictions, fakePrediction(t))
	}
	b, _ := json.Marshal(r)
	return string(b)
}

// wantV2 is the body of KServe v2's infer for texts with the fake model.
func wantV2(id string, texts ...string) string {
	var labels []string
	var scores []float32
	for _, t := range texts {
		l, s := predictionLabel(fakePrediction(t))
		labels, scores = append(labels, l), append(scores, s)
	}
	lb, _ := json.Marshal(labels)
	sb, _ := json.Marshal(scores)
	idField := ""
	if id != "" {
		idField = fmt.Sprintf(`"id":%q,`, id)
	}
	return fmt.Sprintf(`{%s"model_name":"m","model_version":"1","outputs":[{"name":"label","datatype":"BYTES","shape":[%d],"data":%s},{"name":"score","datatype":"FP32","shape":[%d],"data":%s}]}`,
		idField, len(texts), lb, len(texts), sb)
}

// leaky matches what an error must not show: Go's types and the
// server's addresses.
var leaky = regexp.MustCompile(`Go (struct|value)|struct field|main\.|\[\]\*?string|127\.0\.0\.1|i/o timeout|\btcp\b`)

func TestServeHandler(t *testing.T) {
	srv := httptest.NewServer(testHandler(t, &fakePredictor{}, testOptions()))
	defer srv.Close()
	cases := []struct {
		desc, method, path, body string
		status                   int
		// want is the exact body for 200 answers, a part of the error
		// message otherwise.
		want string
	}{
		{"one text", "POST", "/v1/predict", `{"texts":["a gorgeous film"]}`, 200, wantPredictions("a gorgeous film")},
		{"three texts, in order", "POST", "/v1/predict", `{"texts":["b","a",""]}`, 200, wantPredictions("b", "a", "")},
		{"unicode", "POST", "/v1/predict", `{"texts":["très \u00e9mouvant 😀"]}`, 200, wantPredictions("très émouvant 😀")},
		{"body just under the limit", "POST", "/v1/predict", `{"texts":["` + strings.Repeat("x", 256-14) + `"]}`, 200, wantPredictions(strings.Repeat("x", 256-14))},
		{"health", "GET", "/healthz", "", 200, `{"status":"ok"}`},
		{"ready", "GET", "/readyz", "", 200, `{"status":"ready"}`},
		{"TF predict", "POST", "/v1/models/m:predict", `{"instances":["b","a"]}`, 200, wantPredictions("b", "a")},
		{"TF predict, named input", "POST", "/v1/models/m:predict", `{"signature_name":"serving_default","instances":[{"text":"b"},"a"]}`, 200, wantPredictions("b", "a")},
		{"TF status", "GET", "/v1/models/m", "", 200, `{"model_version_status":[{"version":"1","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]}`},
		{"v2 infer", "POST", "/v2/models/m/infer", `{"id":"r1","inputs":[{"name":"text","datatype":"BYTES","shape":[2],"data":["b","a"]}]}`, 200, wantV2("r1", "b", "a")},
		{"v2 infer, nested [N,1]", "POST", "/v2/models/m/infer", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[2,1],"data":[["b"],["a"]]}]}`, 200, wantV2("", "b", "a")},
		{"v2 infer, outputs asked", "POST", "/v2/models/m/infer", `{"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"data":["b"]}],"outputs":[{"name":"label"}]}`, 200,
			strings.Replace(wantV2("", "b"), fmt.Sprintf(`,{"name":"score","datatype":"FP32","shape":[1],"data":[%v]}`, mustJSON(fakePredictionScore("b"))), "", 1)},
		{"v2 live", "GET", "/v2/health/live", "", 200, `{"live":true}`},
		{"v2 ready", "GET", "/v2/health/ready", "", 200, `{"ready":true}`},
		{"v2 model ready", "GET", "/v2/models/m/ready", "", 200, `{"name":"m","ready":true}`},
		{"GET predict", "GET", "/v1/predict", "", 405, "method GET not allowed on /v1/predict; use POST"},
		{"PUT predict", "PUT", "/v1/predict", `{"texts":["a"]}`, 405, "use POST"},
		{"POST health", "POST", "/healthz", "", 405, "use GET"},
		{"GET infer", "GET", "/v2/models/m/infer", "", 405, "use POST"},
		{"unknown path", "GET", "/v3/predict", "", 404, "no such path /v3/predict"},
		{"unknown model, TF", "POST", "/v1/models/x:predict", `{"instances":["a"]}`, 404, `no model "x"; this server serves "m"`},
		{"unknown model, v2", "GET", "/v2/models/x", "", 404, `no model "x"`},
		{"empty body", "POST", "/v1/predict", "", 400, "empty body"},
		{"bad JSON", "POST", "/v1/predict", `{"texts":["a"`, 400, "bad JSON body"},
		{"not an object", "POST", "/v1/predict", `["a"]`, 400, "is an array, want a JSON object"},
		{"texts not strings", "POST", "/v1/predict", `{"texts":[1,2]}`, 400, `"texts"[0] is a number, want a string`},
		{"texts an object", "POST", "/v1/predict", `{"texts":[{"a":1}]}`, 400, `"texts"[0] is an object, want a string`},
		{"texts a string", "POST", "/v1/predict", `{"texts":"a"}`, 400, `"texts" is a string, want an array of strings`},
		{"unknown field", "POST", "/v1/predict", `{"text":["a"]}`, 400, `unknown field "text"`},
		{"repeated key", "POST", "/v1/predict", `{"texts":["a"],"texts":["b"]}`, 400, `has the key "texts" twice`},
		{"invalid UTF-8", "POST", "/v1/predict", "{\"texts\":[\"caf\xe9\"]}", 400, "not valid UTF-8 (at byte 14)"},
		{"invalid UTF-8, TF", "POST", "/v1/models/m:predict", "{\"instances\":[\"\xff\"]}", 400, "not valid UTF-8"},
		{"two values", "POST", "/v1/predict", `{"texts":["a"]} {"texts":["b"]}`, 400, "after the JSON object"},
		{"stray brace", "POST", "/v1/predict", `{"texts":["a"]}}`, 400, "bad JSON body"},
		{"missing texts", "POST", "/v1/predict", `{}`, 400, `missing "texts"`},
		{"null texts", "POST", "/v1/predict", `{"texts":null}`, 400, `missing "texts"`},
		{"empty texts", "POST", "/v1/predict", `{"texts":[]}`, 400, `"texts" is empty`},
		{"null text", "POST", "/v1/predict", `{"texts":["a",null]}`, 400, `"texts"[1] is null`},
		{"too many texts", "POST", "/v1/predict", `{"texts":["a","b","c","d"]}`, 400, "4 texts is over the limit of 3"},
		{"too many instances", "POST", "/v1/models/m:predict", `{"instances":["a","b","c","d"]}`, 400, "4 texts is over the limit of 3"},
		{"TF missing instances", "POST", "/v1/models/m:predict", `{}`, 400, `missing "instances"`},
		{"TF other signature", "POST", "/v1/models/m:predict", `{"signature_name":"x","instances":["a"]}`, 400, `"serving_default"`},
		{"TF instance a number", "POST", "/v1/models/m:predict", `{"instances":[3]}`, 400, `"instances"[0] is a number`},
		{"v2 wrong datatype", "POST", "/v2/models/m/infer", `{"inputs":[{"name":"t","datatype":"FP32","shape":[1],"data":[1]}]}`, 400, `want "BYTES"`},
		{"v2 shape mismatch", "POST", "/v2/models/m/infer", `{"inputs":[{"name":"t","datatype":"BYTES","shape":[3],"data":["a"]}]}`, 400, "shape [3] but 1 texts"},
		{"v2 two inputs", "POST", "/v2/models/m/infer", `{"inputs":[{},{}]}`, 400, "an array of one tensor"},
		{"v2 unknown output", "POST", "/v2/models/m/infer", `{"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"data":["a"]}],"outputs":[{"name":"logits"}]}`, 400, `asks for "logits"`},
		{"v2 repeated key", "POST", "/v2/models/m/infer", `{"inputs":[{"name":"t","name":"u","datatype":"BYTES","shape":[1],"data":["a"]}]}`, 400, `has the key "name" twice`},
		{"body too large", "POST", "/v1/predict", `{"texts":["` + strings.Repeat("x", 300) + `"]}`, 413, "over the limit of 256 bytes"},
		{"padding past the limit", "POST", "/v1/predict", `{"texts":["a"]}` + strings.Repeat(" ", 300), 413, "over the limit of 256 bytes"},
		{"model fails", "POST", "/v1/predict", `{"texts":["fail"]}`, 500, "model m failed to score the texts"},
		{"model answers short", "POST", "/v1/predict", `{"texts":["short","a"]}`, 500, "model m failed"},
	}
	for _, c := range cases {
		req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Errorf("%s: %v", c.desc, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s: %s %s %.40q: status %d (%s), want %d", c.desc, c.method, c.path, c.body, resp.StatusCode, body, c.status)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q, want application/json", c.desc, ct)
		}
		if c.status == 200 {
			if got := strings.TrimSpace(string(body)); got != c.want {
				t.Errorf("%s: body %s, want %s", c.desc, got, c.want)
			}
			continue
		}
		var e map[string]string
		if err := json.Unmarshal(body, &e); err != nil || len(e) != 1 || !strings.Contains(e["error"], c.want) {
			t.Errorf(`%s: body %s, want {"error": "...%s..."}`, c.desc, body, c.want)
		}
		if leaky.MatchString(e["error"]) {
			t.Errorf("%s: the error %q shows the server's internals", c.desc, e["error"])
		}
		if c.status == 405 && resp.Header.Get("Allow") == "" {
			t.Errorf("%s: 405 without an Allow header", c.desc)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func fakePredictionScore(text string) float32 {
	_, s := predictionLabel(fakePrediction(text))
	return s
}

// TestServeRefusesOversizedContentLength sends only the headers of a
// request whose Content-Length is over the limit: the answer must be 413
// at once, not after --read-timeout, and name no address.
func TestServeRefusesOversizedContentLength(t *testing.T) {
	o := testOptions()
	o.readTimeout = 30 * time.Second
	set, m := loadedModels(t, &fakePredictor{}, "m")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(set, m, quietLog, o)
	go srv.Serve(ln)
	defer srv.Close()

	for _, c := range []struct {
		desc, head string
		status     int
		within     time.Duration
	}{
		{"Content-Length over the limit", "Content-Length: 1000000000", 413, 5 * time.Second},
	} {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		fmt.Fprintf(conn, "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%s\r\n\r\n", c.head)
		conn.SetReadDeadline(time.Now().Add(c.within))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: no answer within %v: %v", c.desc, c.within, err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode != c.status || leaky.Match(body) {
			t.Errorf("%s: %d %s after %v, want %d naming no address", c.desc, resp.StatusCode, body, time.Since(start), c.status)
		}
	}
}

// TestServeSlowBody checks that a body that never comes is answered 408
// after --read-timeout, with no socket address in the error.
func TestServeSlowBody(t *testing.T) {
	o := testOptions()
	o.readTimeout = 200 * time.Millisecond
	set, m := loadedModels(t, &fakePredictor{}, "m")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(set, m, quietLog, o)
	go srv.Serve(ln)
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"texts\":")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || leaky.Match(body) {
		t.Errorf("slow body: %d %s, want 408 naming no address", resp.StatusCode, body)
	}
}

// TestLimitListener checks that no more than n connections are accepted
// at once, and that closing one lets the next in.
func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := limitListener(inner, 2)
	defer ln.Close()
	accepted := make(chan net.Conn, 3)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first := <-accepted
	<-accepted
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted while two were open")
	case <-time.After(200 * time.Millisecond):
	}
	first.Close()
	waitFor(t, accepted, "the third connection once one closed")
}

// TestServeLoad sends 16 concurrent clients' 50 requests each to a loopback
// server and checks every answer against the texts it was asked about.
func TestServeLoad(t *testing.T) {
	const clients, requests = 16, 50
	fake := &fakePredictor{}
	o := defaultServeOptions()
	o.maxConcurrent = 4
	srv := httptest.NewServer(testHandler(t, fake, o)) // listens on 127.0.0.1
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = clients

	var wg sync.WaitGroup
	errs := make(chan error, clients*requests)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range requests {
				texts := make([]string, 1+(c+r)%7)
				for i := range texts {
					texts[i] = fmt.Sprintf("client %d request %d text %d", c, r, i)
				}
				body, _ := json.Marshal(map[string][]string{"texts": texts})
				req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/predict", bytes.NewReader(body))
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if want := wantPredictions(texts...); resp.StatusCode != 200 || strings.TrimSpace(string(got)) != want {
					errs <- fmt.Errorf("client %d request %d: %d %s, want 200 %s", c, r, resp.StatusCode, got, want)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 5 {
			t.Error(err)
		}
	}
	if got := fake.calls.Load(); got != clients*requests {
		t.Errorf("Predict called %d times, want %d", got, clients*requests)
	}
	if got := fake.peak.Load(); got > int64(o.maxConcurrent) {
		t.Errorf("%d Predict calls ran at once, want at most --max-concurrent %d", got, o.maxConcurrent)
	}
}

// TestServeShutdownOnSIGTERM runs the serve loop in process, sends the
// process SIGTERM while a request is being scored, and checks that the
// server stops accepting, lets the request finish, and returns.
func TestServeShutdownOnSIGTERM(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	fake := &fakePredictor{block: func() {
		once.Do(func() { close(entered) })
		<-release
	}}
	ctx, stop := shutdownSignals()
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- serve(ctx, testServer(t, fake, defaultServeOptions()), ln, time.Minute) }()

	type answer struct {
		status int
		body   string
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/v1/predict", "application/json", strings.NewReader(`{"texts":["in flight"]}`))
		if err != nil {
			answered <- answer{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- answer{status: resp.StatusCode, body: strings.TrimSpace(string(b))}
	}()
	waitFor(t, entered, "the request to reach the model")

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx.Done(), "SIGTERM to cancel the context")
	// Shutdown closes the listener first: new connections are refused
	// while the request in flight is still running.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections 30s after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("serve returned %v before the request in flight finished", err)
	case a := <-answered:
		t.Fatalf("the request in flight was answered %+v before the model finished", a)
	default:
	}

	close(release)
	a := <-answered
	if want := wantPredictions("in flight"); a.err != nil || a.status != 200 || a.body != want {
		t.Errorf("request in flight got %d %s (%v), want 200 %s", a.status, a.body, a.err, want)
	}
	if err := <-served; err != nil {
		t.Errorf("serve after SIGTERM = %v, want nil", err)
	}
}

// TestServeShutdownGraceRunsOut checks that serve returns an error, and
// closes the connection, when a request outlives the shutdown grace.
func TestServeShutdownGraceRunsOut(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	fake := &fakePredictor{block: func() {
		once.Do(func() { close(entered) })
		<-release
	}}
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- serve(ctx, testServer(t, fake, defaultServeOptions()), ln, 10*time.Millisecond) }()
	answered := make(chan error, 1)
	go func() {
		resp, err := http.Post("http://"+ln.Addr().String()+"/v1/predict", "application/json", strings.NewReader(`{"texts":["slow"]}`))
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		answered <- err
	}()
	waitFor(t, entered, "the request to reach the model")
	cancel()
	if err := <-served; err == nil || !strings.Contains(err.Error(), "shutdown") {
		t.Errorf("serve = %v, want a shutdown error", err)
	}
	if err := <-answered; err == nil {
		t.Error("the request outliving the grace got an answer, want its connection closed")
	}
}

// testServer is an http.Server of p under the name "m".
func testServer(t testing.TB, p predictor, o serveOptions) *http.Server {
	set, m := loadedModels(t, p, "m")
	return newServer(set, m, quietLog, o)
}

// waitFor waits up to a minute for ch, failing the test with what if it
// does not come.
func waitFor[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestServeFlags(t *testing.T) {
	cases := []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"serve"}, 2, "--checkpoint is required"},
		{[]string{"serve", "--checkpoint", "x", "--max-body-bytes", "lots"}, 2, `"lots" is not a size`},
		{[]string{"serve", "--checkpoint", "x", "--max-texts", "0"}, 2, "--max-texts 0 must be positive"},
		{[]string{"serve", "--checkpoint", "x", "--max-body-bytes", "0"}, 2, "--max-body-bytes 0 must be positive"},
		{[]string{"serve", "--checkpoint", "x", "extra"}, 2, "unexpected arguments"},
		{[]string{"serve", "--checkpoint", "x", "--replicas", "0"}, 2, "--replicas 0 must be positive"},
		{[]string{"serve", "--checkpoint", "x", "--spare-procs", "-1"}, 2, "--spare-procs -1 must be 0 or more"},
		{[]string{"serve", "--checkpoint", t.TempDir() + "/none"}, 1, "classify serve: "},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		got := run(&env{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader("")}, c.args)
		if got != c.status || !strings.Contains(stderr.String(), c.stderr) {
			t.Errorf("run(%q) = %d, stderr %q; want %d and %q", c.args, got, stderr.String(), c.status, c.stderr)
		}
	}
	var help bytes.Buffer
	run(&env{stdout: &help, stderr: io.Discard}, []string{"help", "serve"})
	for _, want := range []string{"-addr", "127.0.0.1:8080", "-max-body-bytes", "1MiB", "-max-texts", "256", "-replicas", "-spare-procs", "-read-timeout", "-write-timeout", "-idle-timeout", "-shutdown-timeout", "example:"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("help serve lacks %q:\n%s", want, help.String())
		}
	}
}

func TestNewServerTimeouts(t *testing.T) {
	o := defaultServeOptions()
	o.readTimeout, o.writeTimeout, o.idleTimeout = 1*time.Second, 2*time.Second, 3*time.Second
	s := testServer(t, &fakePredictor{}, o)
	got := []time.Duration{s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout}
	if want := []time.Duration{time.Second, time.Second, 2 * time.Second, 3 * time.Second}; !reflect.DeepEqual(got, want) {
		t.Errorf("server timeouts (read header, read, write, idle) = %v, want %v", got, want)
	}
}

func TestByteSizeSet(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1048576", 1 << 20, true},
		{"1MiB", 1 << 20, true},
		{"512KiB", 512 << 10, true},
		{"2GiB", 2 << 30, true},
		{"1MB", 1000000, true},
		{"10 KB", 10000, true},
		{"300B", 300, true},
		{"", 0, false},
		{"MiB", 0, false},
		{"-1", 0, false},
		{"1.5MiB", 0, false},
		{"1TiB", 0, false},
		{"99999999999GiB", 0, false},
	}
	for _, c := range cases {
		var b byteSize
		err := b.Set(c.in)
		if (err == nil) != c.ok || (c.ok && int64(b) != c.want) {
			t.Errorf("Set(%q) = %d, %v; want %d, ok %v", c.in, b, err, c.want, c.ok)
		}
	}
	for _, c := range []struct {
		in   byteSize
		want string
	}{{1 << 20, "1MiB"}, {3 << 10, "3KiB"}, {1000, "1000"}, {0, "0"}} {
		if got := c.in.String(); got != c.want {
			t.Errorf("byteSize(%d).String() = %q, want %q", int64(c.in), got, c.want)
		}
	}
}

// lineWriter hands each line written to it to a channel, so that a test
// can read what a running command prints.
type lineWriter struct {
	mu    sync.Mutex
	buf   []byte
	lines chan string
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		select {
		case l.lines <- string(l.buf[:i]):
		default: // nobody is reading: drop
		}
		l.buf = l.buf[i+1:]
	}
}

// startServe runs "classify serve" in process with args and returns its
// URL, once it is ready, and the channel of its exit status.
func startServe(t *testing.T, args ...string) (string, <-chan int) {
	t.Helper()
	out := &lineWriter{lines: make(chan string, 256)}
	status := make(chan int, 1)
	go func() {
		status <- run(&env{stdout: io.Discard, stderr: out}, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...))
	}()
	var url string
	for url == "" {
		select {
		case line := <-out.lines:
			var rec struct{ Msg, URL string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("serve --log-format json printed %q: %v", line, err)
			}
			if rec.Msg == "listening" {
				url = rec.URL
			}
		case s := <-status:
			t.Fatalf("serve exited with %d before listening", s)
		case <-time.After(time.Minute):
			t.Fatal("serve did not say where it listens within a minute")
		}
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url, status
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready a minute after listening (%v)", err)
		}
	}
}

// predictCLI is what "classify predict --json" prints for texts with
// the checkpoint dir, read back as predictions.
func predictCLI(t *testing.T, dir string, texts []string) []models.Prediction {
	t.Helper()
	status, stdout, stderr := runCommand("", append([]string{"predict", "--checkpoint", dir, "--json"}, texts...)...)
	if status != 0 {
		t.Fatalf("classify predict = %d: %s", status, stderr)
	}
	var preds []models.Prediction
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var p models.Prediction
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("predict printed %q: %v", line, err)
		}
		preds = append(preds, p)
	}
	return preds
}

// post sends body as JSON and decodes the answer into v; it returns the
// status.
func post(t *testing.T, url, body string, v any) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("POST %s: %s: %v", url, b, err)
		}
	}
	return resp.StatusCode
}

// getJSON fetches url and decodes it into v; it returns the status.
func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %s: %v", url, b, err)
		}
	}
	return resp.StatusCode
}

// labelScores is the label and score of each prediction, what every
// protocol carries.
type labelScore struct {
	label string
	score float32
}

func labelScores(preds []models.Prediction) []labelScore {
	out := make([]labelScore, len(preds))
	for i, p := range preds {
		out[i].label, out[i].score = predictionLabel(p)
	}
	return out
}

// servedRoutes are the routes the server must answer and /openapi.json
// must list, written out here rather than taken from routes().
var servedRoutes = []string{
	"POST /v1/predict", "GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json",
	"GET /v1/models/{model}", "POST /v1/models/{model}:predict",
	"GET /v2", "GET /v2/health/live", "GET /v2/health/ready", "GET /v2/models/{model}",
	"GET /v2/models/{model}/ready", "POST /v2/models/{model}/infer",
}

// TestServeEndToEnd runs the real command on two checkpoints that
// "classify train --epochs 0" writes: every protocol answers as "classify
// predict" does, /metrics parses and counts what was asked, /openapi.json
// lists every route, SIGHUP swaps in a changed checkpoint under load with
// no failed request (and keeps the old one when the new one is broken),
// and SIGTERM stops it.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	data := sentimentTSV(t, 48, 1)
	ckA, ckA2, ckB := filepath.Join(dir, "a"), filepath.Join(dir, "a2"), filepath.Join(dir, "rt")
	for _, c := range []struct {
		out, seed string
	}{{ckA, "3"}, {ckA2, "11"}, {ckB, "5"}} {
		if status, _, stderr := runCommand("", tinyTrain(data, c.out, "--epochs", "0", "--val-split", "0", "--seed", c.seed)...); status != 0 {
			t.Fatalf("classify train = %d: %s", status, stderr)
		}
	}
	texts := []string{"a good film", "dull", "", "words the vocabulary lacks"}
	wantA, wantA2, wantB := labelScores(predictCLI(t, ckA, texts)), labelScores(predictCLI(t, ckA2, texts)), labelScores(predictCLI(t, ckB, texts))
	if reflect.DeepEqual(wantA, wantA2) {
		t.Fatal("the two seeds give the same predictions: the reload would not show")
	}

	// a is named, rt is named after its folder. Three replicas of each
	// model, and the Go scheduler gets one processor more (--spare-procs
	// 1) while serve runs.
	procs := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(procs) }) // should the test stop before serve does
	url, status := startServe(t, "--checkpoint", "a="+ckA, "--checkpoint", ckB, "--replicas", "3")
	if got := runtime.GOMAXPROCS(0); got != 4 {
		t.Errorf("GOMAXPROCS while serving with --replicas 3 = %d, want 4", got)
	}
	o := defaultServeOptions()
	o.replicas = 3
	p, err := checkpointLoader(o)(ckA)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.(*models.Predictor).Replicas(); got != 3 {
		t.Errorf("the loader's predictor has %d replicas, want 3", got)
	}
	textsJSON := mustJSON(texts)

	var v1, tf predictResponse
	if got := post(t, url+"/v1/predict", `{"texts":`+textsJSON+`}`, &v1); got != 200 {
		t.Fatalf("POST /v1/predict = %d", got)
	}
	if got := post(t, url+"/v1/models/a:predict", `{"instances":`+textsJSON+`}`, &tf); got != 200 {
		t.Fatalf("POST /v1/models/a:predict = %d", got)
	}
	var v2 struct {
		ModelName    string `json:"model_name"`
		ModelVersion string `json:"model_version"`
		Outputs      []struct {
			Name, Datatype string
			Shape          []int
			Data           json.RawMessage
		}
	}
	v2req := fmt.Sprintf(`{"inputs":[{"name":"text","datatype":"BYTES","shape":[%d],"data":%s}]}`, len(texts), textsJSON)
	if got := post(t, url+"/v2/models/a/infer", v2req, &v2); got != 200 {
		t.Fatalf("POST /v2/models/a/infer = %d", got)
	}
	var v2labels []string
	var v2scores, v2all []float32
	var allShape []int
	for _, o := range v2.Outputs {
		switch o.Name {
		case "label":
			json.Unmarshal(o.Data, &v2labels)
		case "score":
			json.Unmarshal(o.Data, &v2scores)
		case "scores":
			json.Unmarshal(o.Data, &v2all)
			allShape = o.Shape
		}
	}
	// "scores" is [N, K] in the order of the metadata's labels.
	var labelMeta struct {
		Parameters struct{ Labels []string }
	}
	getJSON(t, url+"/v2/models/a", &labelMeta)
	k := len(labelMeta.Parameters.Labels)
	if k < 2 || !reflect.DeepEqual(allShape, []int{len(texts), k}) || len(v2all) != len(texts)*k {
		t.Errorf("v2 scores tensor of shape %v with %d values for labels %q, want [%d, K]", allShape, len(v2all), labelMeta.Parameters.Labels, len(texts))
	} else {
		for i, p := range v1.Predictions {
			for _, ls := range p.Scores {
				j := slices.Index(labelMeta.Parameters.Labels, ls.Label)
				if j < 0 || v2all[i*k+j] != ls.Score {
					t.Errorf("v2 scores[%d] for %q is not /v1/predict's %v", i, ls.Label, ls.Score)
				}
			}
		}
	}
	var v2got []labelScore
	for i := range v2labels {
		if i < len(v2scores) {
			v2got = append(v2got, labelScore{v2labels[i], v2scores[i]})
		}
	}
	for name, got := range map[string][]labelScore{"/v1/predict": labelScores(v1.Predictions), "TF Serving predict": labelScores(tf.Predictions), "KServe v2 infer": v2got} {
		if !reflect.DeepEqual(got, wantA) {
			t.Errorf("%s = %v, want %v as classify predict gives", name, got, wantA)
		}
	}
	if !reflect.DeepEqual(v1.Predictions, tf.Predictions) {
		t.Errorf("TF Serving predictions %+v differ from /v1/predict's %+v", tf.Predictions, v1.Predictions)
	}
	if v2.ModelName != "a" || v2.ModelVersion != "1" {
		t.Errorf("v2 infer answered for model %q version %q, want a 1", v2.ModelName, v2.ModelVersion)
	}
	var rt predictResponse
	if got := post(t, url+"/v1/models/rt:predict", `{"instances":`+textsJSON+`}`, &rt); got != 200 || !reflect.DeepEqual(labelScores(rt.Predictions), wantB) {
		t.Errorf("POST /v1/models/rt:predict = %d %v, want 200 %v", got, labelScores(rt.Predictions), wantB)
	}

	// Metadata and health of each protocol.
	var meta struct {
		Name     string
		Versions []string
		Inputs   []struct{ Name, Datatype string }
	}
	if got := getJSON(t, url+"/v2/models/a", &meta); got != 200 || meta.Name != "a" || len(meta.Inputs) != 1 || meta.Inputs[0].Datatype != "BYTES" || !reflect.DeepEqual(meta.Versions, []string{"1"}) {
		t.Errorf("GET /v2/models/a = %d %+v", got, meta)
	}
	for _, path := range []string{"/healthz", "/v2", "/v2/health/live", "/v2/health/ready", "/v2/models/a/ready", "/v1/models/a"} {
		if got := getJSON(t, url+path, nil); got != 200 {
			t.Errorf("GET %s = %d, want 200", path, got)
		}
	}

	// /openapi.json lists every route, and no other.
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage
	}
	if got := getJSON(t, url+"/openapi.json", &doc); got != 200 || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("GET /openapi.json = %d, openapi %q", got, doc.OpenAPI)
	}
	var listed []string
	for path, ops := range doc.Paths {
		for method := range ops {
			listed = append(listed, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(listed)
	want := slices.Clone(servedRoutes)
	sort.Strings(want)
	if !reflect.DeepEqual(listed, want) {
		t.Errorf("/openapi.json lists %q, want %q", listed, want)
	}

	// /metrics parses as Prometheus text and counts what was asked.
	families := scrape(t, url)
	if got := counterValue(families, "classify_http_requests_total", map[string]string{"route": "/v1/predict", "code": "200"}); got != 1 {
		t.Errorf("classify_http_requests_total{route=/v1/predict,code=200} = %v, want 1", got)
	}
	if got := counterValue(families, "classify_texts_scored_total", map[string]string{"model": "a"}); got != float64(3*len(texts)) {
		t.Errorf("classify_texts_scored_total{model=a} = %v, want %d", got, 3*len(texts))
	}
	if h := metricWith(families, "classify_batch_size", map[string]string{"model": "a"}); h == nil || h.GetHistogram().GetSampleCount() != 3 || h.GetHistogram().GetSampleSum() != float64(3*len(texts)) {
		t.Errorf("classify_batch_size{model=a} = %v, want 3 batches of %d", h, len(texts))
	}
	if h := metricWith(families, "classify_http_request_duration_seconds", map[string]string{"route": "/v2/models/{model}/infer", "code": "200"}); h == nil || h.GetHistogram().GetSampleCount() != 1 {
		t.Errorf("classify_http_request_duration_seconds{route=/v2/models/{model}/infer} = %v, want one request", h)
	}
	if g := metricWith(families, "classify_model_load_seconds", map[string]string{"model": "rt"}); g == nil || g.GetGauge().GetValue() <= 0 {
		t.Errorf("classify_model_load_seconds{model=rt} = %v, want a positive time", g)
	}
	if g := metricWith(families, "classify_http_requests_in_flight", nil); g == nil || g.GetGauge().GetValue() != 1 {
		t.Errorf("classify_http_requests_in_flight = %v, want 1 (the scrape)", g)
	}

	// SIGHUP under load: 4 clients post to a until told to stop; every
	// answer must be 200 with the old model's predictions or the new one's.
	var stop atomic.Bool
	var sent, failed, sawOld, sawNew atomic.Int64
	var firstFailure atomic.Value
	var wg sync.WaitGroup
	const maxRequests = 3000 // a bound on the load, whatever happens
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() && sent.Add(1) <= maxRequests {
				resp, err := http.Post(url+"/v1/models/a:predict", "application/json", strings.NewReader(`{"instances":`+textsJSON+`}`))
				var got predictResponse
				if err == nil {
					err = json.NewDecoder(resp.Body).Decode(&got)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				switch ls := labelScores(got.Predictions); {
				case err != nil:
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
				case reflect.DeepEqual(ls, wantA):
					sawOld.Add(1)
				case reflect.DeepEqual(ls, wantA2):
					sawNew.Add(1)
				default:
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("predictions %v of neither model", ls))
				}
			}
		}()
	}
	for deadline := time.Now().Add(time.Minute); sawOld.Load() < 20 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	// Replace a by a2 as train --out does (a rename), break rt, and ask
	// for a reload.
	if err := os.Rename(ckA, ckA+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(ckA2, ckA); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ckB, "model.safetensors"), []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); sawNew.Load() < 20 && sent.Load() < maxRequests && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if failed.Load() > 0 || sawNew.Load() == 0 {
		t.Errorf("under load across SIGHUP: %d old, %d new, %d failed answers (first: %v); want none failed and some new",
			sawOld.Load(), sawNew.Load(), failed.Load(), firstFailure.Load())
	}
	t.Logf("reload under load: %d answers from the old model, %d from the new, %d failed", sawOld.Load(), sawNew.Load(), failed.Load())
	var st struct {
		Status []struct{ Version, State string } `json:"model_version_status"`
	}
	if getJSON(t, url+"/v1/models/a", &st); len(st.Status) != 1 || st.Status[0].Version != "2" || st.Status[0].State != "AVAILABLE" {
		t.Errorf("GET /v1/models/a after the reload = %+v, want version 2 AVAILABLE", st)
	}
	// The broken rt keeps serving its first version.
	if got := post(t, url+"/v1/models/rt:predict", `{"instances":`+textsJSON+`}`, &rt); got != 200 || !reflect.DeepEqual(labelScores(rt.Predictions), wantB) {
		t.Errorf("rt after a failed reload = %d %v, want 200 %v from its first version", got, labelScores(rt.Predictions), wantB)
	}
	families = scrape(t, url)
	if got := counterValue(families, "classify_model_reloads_total", map[string]string{"model": "rt", "result": "error"}); got != 1 {
		t.Errorf("classify_model_reloads_total{model=rt,result=error} = %v, want 1", got)
	}
	if got := counterValue(families, "classify_model_reloads_total", map[string]string{"model": "a", "result": "ok"}); got != 1 {
		t.Errorf("classify_model_reloads_total{model=a,result=ok} = %v, want 1", got)
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-status:
		if s != 0 {
			t.Errorf("serve exited with %d after SIGTERM, want 0", s)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve still running a minute after SIGTERM")
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("GOMAXPROCS after serve = %d, want %d as before", got, procs)
	}
}

// scrape fetches /metrics and parses it with Prometheus's own text parser.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse as Prometheus text: %v", err)
	}
	return families
}

// metricWith returns the metric of the family name whose labels include
// labels, or nil.
func metricWith(families map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	f := families[name]
	if f == nil {
		return nil
	}
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range labels {
			ok = ok && have[k] == v
		}
		if ok {
			return m
		}
	}
	return nil
}

func counterValue(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	m := metricWith(families, name, labels)
	if m == nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// BenchmarkServeHandler measures the server's own cost per request of 32
// texts (decoding, limits, encoding), with a fake model, over loopback.
func BenchmarkServeHandler(b *testing.B) {
	srv := httptest.NewServer(testHandler(b, &fakePredictor{}, defaultServeOptions()))
	defer srv.Close()
	texts := make([]string, 32)
	for i := range texts {
		texts[i] = fmt.Sprintf("an example review number %d, of a length like rt-polarity's", i)
	}
	body, _ := json.Marshal(map[string][]string{"texts": texts})
	client := srv.Client()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		resp, err := client.Post(srv.URL+"/v1/predict", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
