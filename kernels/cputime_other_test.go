//go:build !linux

package kernels

import "time"

// threadCPU is not available here: benchmarks report wall-clock speed only.
func threadCPU() (time.Duration, bool) { return 0, false }
