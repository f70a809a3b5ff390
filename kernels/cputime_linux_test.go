package kernels

import (
	"syscall"
	"testing"
	"time"
)

// threadCPU returns the CPU time the calling OS thread has used, so that a
// benchmark on a shared machine can report speed per CPU second next to
// per wall second. Callers lock the goroutine to its thread.
func threadCPU() (time.Duration, bool) {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

// cpuClock sums the thread CPU time of the timed parts of a benchmark, for
// a cpu-ms/op metric next to ns/op.
type cpuClock struct {
	start, total time.Duration
	ok           bool
}

func (c *cpuClock) Start() { c.start, c.ok = threadCPU() }

func (c *cpuClock) Stop() {
	if now, ok := threadCPU(); ok && c.ok {
		c.total += now - c.start
	}
}

// Report adds the metric to b when the time could be read and the
// products ran on this thread alone.
func (c *cpuClock) Report(b *testing.B) {
	if c.ok && c.total > 0 && simd != simdNone {
		b.ReportMetric(float64(c.total.Nanoseconds())/1e6/float64(b.N), "cpu-ms/op")
	}
}
