package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/classify/classify/internal/shareddata"
	"github.com/classify/classify/models"
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

// wantPredictions is the body the server must answer for texts.
func wantPredictions(texts ...string) string {
	var r predictResponse
	for _, t := range texts {
		r.Predictions = append(r.Predictions, fakePrediction(t))
	}
	b, _ := json.Marshal(r)
	return string(b)
}

func TestServeHandler(t *testing.T) {
	srv := httptest.NewServer(newServeHandler(&fakePredictor{}, testOptions()))
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
		{"GET predict", "GET", "/v1/predict", "", 405, "method GET not allowed on /v1/predict; use POST"},
		{"PUT predict", "PUT", "/v1/predict", `{"texts":["a"]}`, 405, "use POST"},
		{"POST health", "POST", "/healthz", "", 405, "use GET"},
		{"unknown path", "GET", "/v2/predict", "", 404, "no such path /v2/predict"},
		{"empty body", "POST", "/v1/predict", "", 400, "empty body"},
		{"bad JSON", "POST", "/v1/predict", `{"texts":["a"`, 400, "bad JSON body"},
		{"not an object", "POST", "/v1/predict", `["a"]`, 400, "bad JSON body"},
		{"texts not strings", "POST", "/v1/predict", `{"texts":[1,2]}`, 400, "bad JSON body"},
		{"texts a string", "POST", "/v1/predict", `{"texts":"a"}`, 400, "bad JSON body"},
		{"unknown field", "POST", "/v1/predict", `{"text":["a"]}`, 400, `unknown field "text"`},
		{"two values", "POST", "/v1/predict", `{"texts":["a"]} {"texts":["b"]}`, 400, "after the JSON object"},
		{"stray brace", "POST", "/v1/predict", `{"texts":["a"]}}`, 400, "bad JSON body"},
		{"missing texts", "POST", "/v1/predict", `{}`, 400, `missing "texts"`},
		{"null texts", "POST", "/v1/predict", `{"texts":null}`, 400, `missing "texts"`},
		{"empty texts", "POST", "/v1/predict", `{"texts":[]}`, 400, `"texts" is empty`},
		{"null text", "POST", "/v1/predict", `{"texts":["a",null]}`, 400, `"texts"[1] is null`},
		{"too many texts", "POST", "/v1/predict", `{"texts":["a","b","c","d"]}`, 400, "4 texts is over the limit of 3"},
		{"body too large", "POST", "/v1/predict", `{"texts":["` + strings.Repeat("x", 300) + `"]}`, 413, "over the limit of 256 bytes"},
		{"padding past the limit", "POST", "/v1/predict", `{"texts":["a"]}` + strings.Repeat(" ", 300), 413, "over the limit of 256 bytes"},
		{"model fails", "POST", "/v1/predict", `{"texts":["fail"]}`, 500, "predict: the model broke"},
		{"model answers short", "POST", "/v1/predict", `{"texts":["short","a"]}`, 500, "model gave 1 predictions for 2 texts"},
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
		if c.status == 405 && resp.Header.Get("Allow") == "" {
			t.Errorf("%s: 405 without an Allow header", c.desc)
		}
	}
}

// TestServeLoad sends 16 concurrent clients' 50 requests each to a loopback
// server and checks every answer against the texts it was asked about.
func TestServeLoad(t *testing.T) {
	const clients, requests = 16, 50
	fake := &fakePredictor{}
	o := defaultServeOptions()
	o.maxConcurrent = 4
	srv := httptest.NewServer(newServeHandler(fake, o)) // listens on 127.0.0.1
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
	go func() { served <- serve(ctx, newServer(fake, defaultServeOptions()), ln, time.Minute) }()

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
	go func() { served <- serve(ctx, newServer(fake, defaultServeOptions()), ln, 10*time.Millisecond) }()
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
	for _, want := range []string{"-addr", "127.0.0.1:8080", "-max-body-bytes", "1MiB", "-max-texts", "256", "-read-timeout", "-write-timeout", "-idle-timeout", "-shutdown-timeout", "example:"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("help serve lacks %q:\n%s", want, help.String())
		}
	}
}

func TestNewServerTimeouts(t *testing.T) {
	o := defaultServeOptions()
	o.readTimeout, o.writeTimeout, o.idleTimeout = 1*time.Second, 2*time.Second, 3*time.Second
	s := newServer(&fakePredictor{}, o)
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

// TestServeCheckpoint runs the real command on a checkpoint that
// "classify train --epochs 0" writes, checks that it answers as
// "classify predict" does, and stops it with SIGTERM.
func TestServeCheckpoint(t *testing.T) {
	glove := shareddata.Path(t, "glove/glove.6B.50d.top10k.txt")
	dir := t.TempDir()
	tsv := dir + "/tiny.tsv"
	os.WriteFile(tsv, []byte("label\ttext\n1\ta gorgeous , witty film\n0\tdull and predictable\n1\tgreat fun\n0\ta mess\n"), 0o644)
	ckpt := dir + "/ckpt"
	var stderr bytes.Buffer
	if got := run(&env{stdout: io.Discard, stderr: &stderr}, []string{"train", "--data", tsv, "--vectors", glove,
		"--epochs", "0", "--hidden", "4", "--max-len", "8", "--val-split", "0", "--out", ckpt}); got != 0 {
		t.Fatalf("classify train = %d: %s", got, stderr.String())
	}
	texts := []string{"a gorgeous film", "dull", "", "words the vocabulary lacks"}
	var predicted bytes.Buffer
	if got := run(&env{stdout: &predicted, stderr: &stderr}, append([]string{"predict", "--checkpoint", ckpt, "--json"}, texts...)); got != 0 {
		t.Fatalf("classify predict = %d: %s", got, stderr.String())
	}
	var want predictResponse
	for _, line := range strings.Split(strings.TrimSpace(predicted.String()), "\n") {
		var p models.Prediction
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("predict printed %q: %v", line, err)
		}
		want.Predictions = append(want.Predictions, p)
	}

	out := &lineWriter{lines: make(chan string, 16)}
	status := make(chan int, 1)
	go func() {
		status <- run(&env{stdout: io.Discard, stderr: out}, []string{"serve", "--checkpoint", ckpt, "--addr", "127.0.0.1:0"})
	}()
	var url string
	select {
	case line := <-out.lines:
		i := strings.Index(line, "http://127.0.0.1:")
		if i < 0 {
			t.Fatalf("serve printed %q, want its address", line)
		}
		url = strings.Fields(line[i:])[0]
	case s := <-status:
		t.Fatalf("serve exited with %d before listening", s)
	case <-time.After(time.Minute):
		t.Fatal("serve did not say where it listens within a minute")
	}
	body, _ := json.Marshal(map[string][]string{"texts": texts})
	resp, err := http.Post(url+"/v1/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var got predictResponse
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !reflect.DeepEqual(got, want) {
		t.Errorf("POST /v1/predict %s = %d %+v (%v), want 200 %+v as predict gives", body, resp.StatusCode, got, err, want)
	}
	// serve listens for SIGTERM from before it prints its address.
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
}

// BenchmarkServeHandler measures the server's own cost per request of 32
// texts (decoding, limits, encoding), with a fake model, over loopback.
func BenchmarkServeHandler(b *testing.B) {
	srv := httptest.NewServer(newServeHandler(&fakePredictor{}, defaultServeOptions()))
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
