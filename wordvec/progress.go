package wordvec

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// tracker gathers the workers' counts for Progress reports. Workers
// publish in batches (every few thousand words), so it costs nothing in
// the hot loops.
type tracker struct {
	start   time.Time
	total   int64 // work units of the whole run
	perPass int64 // work units of one epoch
	threads int
	done    atomic.Int64
	lr      atomic.Uint32 // float32 bits

	mu              sync.Mutex
	loss            float64
	lossN           int64
	lastDone        int64
	lastLoss        float64
	lastLossN       int64
	lastTime        time.Time
	progress        func(Progress)
	stop, stopped   chan struct{}
	reportingActive bool
}

func newTracker(total, perPass int64, threads int, lr float32, opts Options) *tracker {
	now := time.Now()
	t := &tracker{start: now, lastTime: now, total: total, perPass: perPass, threads: threads, progress: opts.Progress}
	t.setLR(lr)
	if t.progress != nil {
		every := opts.ProgressEvery
		if every <= 0 {
			every = time.Second
		}
		t.stop, t.stopped = make(chan struct{}), make(chan struct{})
		t.reportingActive = true
		go t.report(every)
	}
	return t
}

func (t *tracker) setLR(lr float32) { t.lr.Store(math.Float32bits(lr)) }

// add publishes a worker's work and loss since its last call.
func (t *tracker) add(work int64, loss float64, lossN int64) int64 {
	if loss != 0 || lossN != 0 {
		t.mu.Lock()
		t.loss += loss
		t.lossN += lossN
		t.mu.Unlock()
	}
	return t.done.Add(work)
}

func (t *tracker) report(every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	defer close(t.stopped)
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
			t.progress(t.snapshot())
		}
	}
}

func (t *tracker) snapshot() Progress {
	now := time.Now()
	done := t.done.Load()
	t.mu.Lock()
	p := Progress{LR: float64(math.Float32frombits(t.lr.Load())), Elapsed: now.Sub(t.start)}
	if n := t.lossN - t.lastLossN; n > 0 {
		p.Loss = (t.loss - t.lastLoss) / float64(n)
	}
	if dt := now.Sub(t.lastTime).Seconds(); dt > 0 {
		p.WordsPerSecondPerThread = float64(done-t.lastDone) / dt / float64(t.threads)
	}
	t.lastLoss, t.lastLossN, t.lastDone, t.lastTime = t.loss, t.lossN, done, now
	t.mu.Unlock()
	if t.total > 0 {
		p.Done = min(1, float64(done)/float64(t.total))
	}
	if t.perPass > 0 {
		p.Epoch = int(min(done, t.total-1)/t.perPass) + 1
	}
	return p
}

// finish stops the reports and sends the last one, with the speed over the
// whole run.
func (t *tracker) finish() {
	if !t.reportingActive {
		return
	}
	close(t.stop)
	<-t.stopped
	p := t.snapshot()
	p.Done = 1
	if s := p.Elapsed.Seconds(); s > 0 {
		p.WordsPerSecondPerThread = float64(t.done.Load()) / s / float64(t.threads)
	}
	t.progress(p)
}

// rng is word2vec.c's linear congruential generator: cheap enough for the
// inner loops, and each thread has its own.
type rng uint64

func (r *rng) next() uint64 {
	*r = *r*25214903917 + 11
	return uint64(*r)
}

// intn returns a number in [0, n) from the generator's middle bits, as
// word2vec.c does.
func (r *rng) intn(n int) int { return int((r.next() >> 16) % uint64(n)) }

// float returns a number in [0, 1).
func (r *rng) float() float32 { return float32(r.next()>>40) / (1 << 24) }

// seedRNG derives thread k's generator from the run's seed (splitmix64).
func seedRNG(seed int64, k int) rng {
	z := uint64(seed) + uint64(k+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return rng(z ^ (z >> 31))
}
