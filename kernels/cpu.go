package kernels

import (
	"os"
	"runtime"

	"golang.org/x/sys/cpu"
)

// simdLevel is a vector extension the float32 kernels can run on.
type simdLevel int

const (
	simdNone   simdLevel = iota // pure Go loops (gonum's Sgemm for products)
	simdAVX2                    // AVX2 and FMA3: 6×16 micro-kernel, 8-lane activations
	simdAVX512                  // AVX-512F: 8×32 micro-kernel, 16-lane activations
)

// simd is the widest extension this machine has and its OS saves the
// registers of, from CPUID through golang.org/x/sys/cpu, found once when
// the program starts: the kernels have no other state shared between
// calls. The environment variable CLASSIFY_SIMD=avx2 or =purego lowers
// it, to compare the paths or to rule one out; other values are ignored.
var simd = detectSIMD(os.Getenv("CLASSIFY_SIMD"))

func detectSIMD(limit string) simdLevel {
	level := simdNone
	if runtime.GOARCH == "amd64" && cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		level = simdAVX2
		if cpu.X86.HasAVX512F {
			level = simdAVX512
		}
	}
	switch limit {
	case "avx2":
		level = min(level, simdAVX2)
	case "purego":
		level = simdNone
	}
	return level
}

// String names the level as BLAS does.
func (s simdLevel) String() string {
	switch s {
	case simdAVX512:
		return "avx512"
	case simdAVX2:
		return "avx2"
	}
	return "purego"
}
