//go:build unix

package main

import "syscall"

// cpuSeconds is the user and system CPU time this process has used, or
// -1 where the system does not say.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
