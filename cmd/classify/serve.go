package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/classify/classify/models"
)

var serveCommand = command{
	summary: "serve predictions over HTTP (classify's API, TF Serving REST, KServe v2), with metrics",
	usage:   "--checkpoint [NAME=]DIR ... [--addr HOST:PORT] [--log-format text|json] [--max-body-bytes SIZE] [--max-texts N]",
	example: `classify serve --checkpoint rt=checkpoints/rt --addr 127.0.0.1:8080
  curl -s -d '{"texts":["a gorgeous film","a mess"]}' http://127.0.0.1:8080/v1/predict
  curl -s -d '{"instances":["a gorgeous film"]}' http://127.0.0.1:8080/v1/models/rt:predict
  curl -s http://127.0.0.1:8080/metrics; kill -HUP PID reloads changed checkpoints`,
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		var specs modelSpecs
		fs.Var(&specs, "checkpoint", "checkpoint `[NAME=]DIR` to serve, named NAME or after its folder; repeat for several models, the first answers POST /v1/predict (required)")
		addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to listen on")
		logFormat := fs.String("log-format", "text", "request log on stderr, one line per request: `text` or json")
		o := defaultServeOptions()
		maxBody := byteSize(o.maxBodyBytes)
		fs.Var(&maxBody, "max-body-bytes", "largest request body, in bytes or with a unit (`SIZE`: 512KiB, 1MiB); larger gets 413")
		fs.IntVar(&o.maxTexts, "max-texts", o.maxTexts, "most texts in one request; more gets 400")
		fs.IntVar(&o.maxConcurrent, "max-concurrent", o.maxConcurrent, "most requests scored at once (waiting ones are scored together on one of the --replicas, see --coalesce); others wait their turn")
		fs.IntVar(&o.replicas, "replicas", o.replicas, "copies of each model that score at once; the default is one per core (GOMAXPROCS at start)")
		fs.IntVar(&o.spareProcs, "spare-procs", o.spareProcs, "Go processors beyond the replicas' (GOMAXPROCS becomes --replicas plus these); with 0, a request that arrives while every replica computes may wait up to 10 ms to be read (under a container's CPU quota the extra processor can be throttled: 0 keeps GOMAXPROCS at the quota)")
		fs.IntVar(&o.coalesce, "coalesce", o.coalesce, "most texts of waiting requests one replica scores in one run (dynamic batching, as TF Serving's max_batch_size); 0 scores each request alone")
		fs.IntVar(&o.maxConnections, "max-connections", o.maxConnections, "most open connections; more wait to be accepted")
		fs.DurationVar(&o.readTimeout, "read-timeout", o.readTimeout, "time to read a request, headers and body")
		fs.DurationVar(&o.writeTimeout, "write-timeout", o.writeTimeout, "time from the end of the request to the end of the answer")
		fs.DurationVar(&o.idleTimeout, "idle-timeout", o.idleTimeout, "how long a kept-alive connection may wait for its next request")
		fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", o.shutdownTimeout, "on SIGTERM or SIGINT, how long requests in flight may take to finish")
		return func(e *env, args []string) error {
			if len(specs) == 0 {
				return usagef("--checkpoint is required")
			}
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			o.maxBodyBytes = int64(maxBody)
			if err := o.check(); err != nil {
				return usageError{err}
			}
			log, err := newLogger(e, *logFormat)
			if err != nil {
				return err
			}
			for _, s := range specs {
				if st, err := os.Stat(s.dir); err != nil {
					return err
				} else if !st.IsDir() {
					return fmt.Errorf("%s: not a checkpoint folder", s.dir)
				}
			}
			// One Go processor more than the replicas: with as many as
			// they are, the scheduler nearly always finds a computing
			// goroutine to run and polls the network only every 10 ms
			// (golang/go#51651), so that requests wait unread (8.6 ms
			// on average in a trace under load; 0.3 ms with the spare).
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(o.replicas + o.spareProcs))
			return runServer(e, log, specs, *addr, o, checkpointLoader(o))
		}
	},
}

// checkpointLoader is how serve loads a model under o: a Predictor of
// o.replicas copies of the model whose waiting calls are scored
// o.coalesce texts at a time at most.
func checkpointLoader(o serveOptions) loadFunc {
	return func(dir string) (predictor, error) {
		ck, err := models.Load(dir)
		if err != nil {
			return nil, err
		}
		p := models.NewPredictorN(ck, o.replicas)
		p.Coalesce = o.coalesce
		return p, nil
	}
}

// runServer listens on addr, loads the models in the background (GET
// /readyz answers 503 until they are loaded and warmed), reloads changed
// checkpoints on SIGHUP, and shuts down on SIGTERM or SIGINT.
func runServer(e *env, log *slog.Logger, specs modelSpecs, addr string, o serveOptions, load loadFunc) error {
	ctx, stop := shutdownSignals()
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	metrics := newServeMetrics()
	set := newModelSet(specs, load, metrics, log)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log.Info("listening", "url", "http://"+ln.Addr().String(), "models", strings.Join(set.names(), ","))

	ctx, fail := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := set.loadAll(); err != nil {
			fail(err)
			return
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				set.reload()
			}
		}
	}()
	srv := newServer(set, metrics, log, o)
	err = serve(ctx, srv, limitListener(ln, o.maxConnections), o.shutdownTimeout)
	wg.Wait()
	if cause := context.Cause(ctx); err == nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	log.Info("stopped")
	return err
}

// newLogger returns the request logger on e.stderr in format text or json.
func newLogger(e *env, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, nil)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

// serveOptions are the server's limits and timeouts.
type serveOptions struct {
	maxBodyBytes   int64
	maxTexts       int
	maxConcurrent  int
	coalesce       int
	replicas       int
	spareProcs     int
	maxConnections int
	readTimeout, writeTimeout, idleTimeout,
	shutdownTimeout time.Duration
}

// defaultServeOptions returns the flags' defaults.
func defaultServeOptions() serveOptions {
	return serveOptions{
		maxBodyBytes:    1 << 20,
		maxTexts:        256,
		maxConcurrent:   8 * runtime.GOMAXPROCS(0),
		coalesce:        models.DefaultCoalesce,
		replicas:        runtime.GOMAXPROCS(0),
		spareProcs:      1,
		maxConnections:  1024,
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
	case o.replicas < 1:
		return fmt.Errorf("--replicas %d must be positive", o.replicas)
	case o.spareProcs < 0:
		return fmt.Errorf("--spare-procs %d must be 0 or more", o.spareProcs)
	case o.coalesce < 0:
		return fmt.Errorf("--coalesce %d must be 0 or more", o.coalesce)
	case o.maxConnections < 1:
		return fmt.Errorf("--max-connections %d must be positive", o.maxConnections)
	}
	return nil
}

// predictor is what the server needs of a model: *models.Predictor, or a
// fake in tests. Predict must be safe for concurrent use.
type predictor interface {
	Predict(texts []string) ([]models.Prediction, error)
}

// newServer returns an http.Server that answers with the server's routes
// under o's timeouts.
func newServer(set *modelSet, m *serveMetrics, log *slog.Logger, o serveOptions) *http.Server {
	return &http.Server{
		Handler:           newServeHandler(set, m, log, o),
		ReadHeaderTimeout: o.readTimeout,
		ReadTimeout:       o.readTimeout,
		WriteTimeout:      o.writeTimeout,
		IdleTimeout:       o.idleTimeout,
		MaxHeaderBytes:    64 << 10,
		// The server's own complaints (a TLS handshake, a bad header) go
		// to the request log's handler rather than the standard logger.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
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

// limitListener returns ln accepting at most n connections open at once:
// Accept waits for one to close, and the kernel's backlog holds the
// others, as golang.org/x/net/netutil.LimitListener does.
func limitListener(ln net.Listener, n int) net.Listener {
	return &limitedListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

type limitedListener struct {
	net.Listener
	slots     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func (l *limitedListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: sync.OnceFunc(func() { <-l.slots })}, nil
}

func (l *limitedListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

type limitedConn struct {
	net.Conn
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
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
