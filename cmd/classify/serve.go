package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/classify/classify/models"
)

var serveCommand = command{
	summary: "serve predictions over HTTP: POST /v1/predict, GET /healthz",
	usage:   "--checkpoint DIR [--addr HOST:PORT] [--max-body-bytes SIZE] [--max-texts N]",
	example: `classify serve --checkpoint checkpoints/rt --addr 127.0.0.1:8080
  curl -s -d '{"texts":["a gorgeous film","a mess"]}' http://127.0.0.1:8080/v1/predict
  {"predictions":[{"label":1,"probability":0.93},{"label":0,"probability":0.08}]}`,
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		ckpt := fs.String("checkpoint", "", "checkpoint `folder` to serve (required)")
		addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to listen on")
		o := defaultServeOptions()
		maxBody := byteSize(o.maxBodyBytes)
		fs.Var(&maxBody, "max-body-bytes", "largest request body, in bytes or with a unit (`SIZE`: 512KiB, 1MiB); larger gets 413")
		fs.IntVar(&o.maxTexts, "max-texts", o.maxTexts, "most texts in one request; more gets 400")
		fs.IntVar(&o.maxConcurrent, "max-concurrent", o.maxConcurrent, "most requests scored at once; others wait their turn")
		fs.DurationVar(&o.readTimeout, "read-timeout", o.readTimeout, "time to read a request, headers and body")
		fs.DurationVar(&o.writeTimeout, "write-timeout", o.writeTimeout, "time from the end of the request to the end of the answer")
		fs.DurationVar(&o.idleTimeout, "idle-timeout", o.idleTimeout, "how long a kept-alive connection may wait for its next request")
		fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", o.shutdownTimeout, "on SIGTERM or SIGINT, how long requests in flight may take to finish")
		return func(e *env, args []string) error {
			if *ckpt == "" {
				return usagef("--checkpoint is required")
			}
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			o.maxBodyBytes = int64(maxBody)
			if err := o.check(); err != nil {
				return usageError{err}
			}
			p, err := models.LoadPredictor(*ckpt)
			if err != nil {
				return err
			}
			ctx, stop := shutdownSignals()
			defer stop()
			ln, err := net.Listen("tcp", *addr)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "classify serve: %s on http://%s (POST /v1/predict, GET /healthz)\n", *ckpt, ln.Addr())
			err = serve(ctx, newServer(p, o), ln, o.shutdownTimeout)
			fmt.Fprintln(e.stderr, "classify serve: stopped")
			return err
		}
	},
}

// serveOptions are the server's limits and timeouts.
type serveOptions struct {
	maxBodyBytes  int64
	maxTexts      int
	maxConcurrent int
	readTimeout, writeTimeout, idleTimeout,
	shutdownTimeout time.Duration
}

// defaultServeOptions returns the flags' defaults.
func defaultServeOptions() serveOptions {
	return serveOptions{
		maxBodyBytes:    1 << 20,
		maxTexts:        256,
		maxConcurrent:   runtime.GOMAXPROCS(0),
		readTimeout:     10 * time.Second,
		writeTimeout:    30 * time.Second,
		idleTimeout:     60 * time.Second,
		shutdownTimeout: 10 * time.Second,
	}
}

// check refuses limits that would make the server refuse everything.
func (o serveOptions) check() error {
	switch {
	case o.maxBodyBytes < 1:
		return fmt.Errorf("--max-body-bytes %d must be positive", o.maxBodyBytes)
	case o.maxTexts < 1:
		return fmt.Errorf("--max-texts %d must be positive", o.maxTexts)
	case o.maxConcurrent < 1:
		return fmt.Errorf("--max-concurrent %d must be positive", o.maxConcurrent)
	}
	return nil
}

// predictor is what the server needs of a model: *models.Predictor, or a
// fake in tests. Predict must be safe for concurrent use.
type predictor interface {
	Predict(texts []string) ([]models.Prediction, error)
}

// newServer returns an http.Server that answers with newServeHandler(p, o)
// under o's timeouts.
func newServer(p predictor, o serveOptions) *http.Server {
	return &http.Server{
		Handler:           newServeHandler(p, o),
		ReadHeaderTimeout: o.readTimeout,
		ReadTimeout:       o.readTimeout,
		WriteTimeout:      o.writeTimeout,
		IdleTimeout:       o.idleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
}

// newServeHandler returns the server's routes: POST /v1/predict scores
// {"texts": [...]} with p, GET /healthz answers {"status":"ok"}. Every
// error is a JSON object {"error": "..."}: 400 for a bad request, 413 for a
// body over o.maxBodyBytes, 405 for a wrong method, 404 for another path,
// 500 when p fails. At most o.maxConcurrent requests are scored at once.
func newServeHandler(p predictor, o serveOptions) http.Handler {
	mux := http.NewServeMux()
	slots := make(chan struct{}, o.maxConcurrent)
	mux.HandleFunc("/v1/predict", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "method %s not allowed on %s; use POST", r.Method, r.URL.Path)
			return
		}
		texts, status, err := readPredictRequest(w, r, o)
		if err != nil {
			writeError(w, status, "%v", err)
			return
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		case <-r.Context().Done():
			writeError(w, http.StatusServiceUnavailable, "gave up waiting for a free model: %v", r.Context().Err())
			return
		}
		preds, err := p.Predict(texts)
		if err == nil && len(preds) != len(texts) {
			err = fmt.Errorf("model gave %d predictions for %d texts", len(preds), len(texts))
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, "predict: %v", err)
			return
		}
		writeJSON(w, http.StatusOK, predictResponse{Predictions: preds})
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method %s not allowed on %s; use GET", r.Method, r.URL.Path)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such path %s; use POST /v1/predict or GET /healthz", r.URL.Path)
	})
	return mux
}

// predictRequest is the body of POST /v1/predict.
type predictRequest struct {
	Texts *[]*string `json:"texts"`
}

// predictResponse is the answer of POST /v1/predict, one prediction per
// text in order.
type predictResponse struct {
	Predictions []models.Prediction `json:"predictions"`
}

// readPredictRequest reads and checks a predict request's body and returns
// its texts, or the status and error to answer with.
func readPredictRequest(w http.ResponseWriter, r *http.Request, o serveOptions) ([]string, int, error) {
	body := http.MaxBytesReader(w, r.Body, o.maxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var req predictRequest
	err := dec.Decode(&req)
	if err == nil {
		// Read to the end: data after the object is an error, and so is a
		// body over the limit even when its JSON value fits.
		var tok json.Token
		if tok, err = dec.Token(); err == nil {
			err = fmt.Errorf("%v after the JSON object", tok)
		} else if errors.Is(err, io.EOF) {
			err = nil
		}
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body is over the limit of %d bytes", tooBig.Limit)
		}
		if errors.Is(err, io.EOF) {
			return nil, http.StatusBadRequest, errors.New(`empty body; want {"texts": ["...", ...]}`)
		}
		return nil, http.StatusBadRequest, fmt.Errorf(`bad JSON body (want {"texts": ["...", ...]}): %v`, err)
	}
	if req.Texts == nil {
		return nil, http.StatusBadRequest, errors.New(`missing "texts"; want {"texts": ["...", ...]}`)
	}
	if len(*req.Texts) == 0 {
		return nil, http.StatusBadRequest, errors.New(`"texts" is empty`)
	}
	if n := len(*req.Texts); n > o.maxTexts {
		return nil, http.StatusBadRequest, fmt.Errorf(`%d texts is over the limit of %d a request`, n, o.maxTexts)
	}
	texts := make([]string, len(*req.Texts))
	for i, t := range *req.Texts {
		if t == nil {
			return nil, http.StatusBadRequest, fmt.Errorf(`"texts"[%d] is null, want a string`, i)
		}
		texts[i] = *t
	}
	return texts, 0, nil
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

// shutdownSignals returns a context that is cancelled on SIGTERM or
// SIGINT, and the function that stops listening for them.
func shutdownSignals() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
}

// serve runs srv on ln until ctx is done, then shuts it down: it stops
// accepting, lets the requests in flight finish for up to grace, and
// returns. It returns an error when srv fails or the grace runs out, in
// which case the remaining connections are closed.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		<-done
		return fmt.Errorf("shutdown: requests still running after %v: %w", grace, err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// byteSize is a flag value for a number of bytes, plain or with a unit:
// B, KiB, MiB, GiB (powers of 1024) or KB, MB, GB (powers of 1000).
type byteSize int64

func (b *byteSize) String() string {
	switch v := int64(*b); {
	case v != 0 && v%(1<<30) == 0:
		return strconv.FormatInt(v>>30, 10) + "GiB"
	case v != 0 && v%(1<<20) == 0:
		return strconv.FormatInt(v>>20, 10) + "MiB"
	case v != 0 && v%(1<<10) == 0:
		return strconv.FormatInt(v>>10, 10) + "KiB"
	default:
		return strconv.FormatInt(v, 10)
	}
}

func (b *byteSize) Set(s string) error {
	units := []struct {
		suffix string
		scale  int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	num, scale := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, scale = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.scale
			break
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v < 0 || v > (1<<62)/scale {
		return fmt.Errorf("%q is not a size such as 1048576, 512KiB or 1MiB", s)
	}
	*b = byteSize(v * scale)
	return nil
}
