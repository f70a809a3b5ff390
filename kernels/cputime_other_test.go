//go:build !linux

package kernels

import (
	"testing"
	"time"
)

// threadCPU is not available here: benchmarks report wall-clock speed only.
func threadCPU() (time.Duration, bool) { return 0, false }

// cpuClock reports nothing here.
type cpuClock struct{}

func (c *cpuClock) Start()            {}
func (c *cpuClock) Stop()             {}
func (c *cpuClock) Report(*testing.B) {}
