//go:build unix

package layers

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time the process has used, all threads
// together, so that a benchmark on a shared machine can report CPU time
// per step next to wall time.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
