package kernels

// hasAVX2 says whether the CPU and OS support AVX2 and FMA3, which
// gateAVX2 needs. Other machines take the scalar loops.
var hasAVX2 = detectAVX2()

func detectAVX2() bool {
	_, _, c, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if c&fma == 0 || c&osxsave == 0 || c&avx == 0 {
		return false
	}
	if eax, _ := xgetbv(); eax&6 != 6 { // the OS saves XMM and YMM state
		return false
	}
	_, b, _, _ := cpuid(7, 0)
	return b&(1<<5) != 0
}

//go:noescape
func gateAVX2(dst, x, bias []float32, negScale, mul, add float32)

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

// sgemmKernel6x16 adds the product of a packed 6×k panel of A and a packed
// k×16 panel of B to a 6×16 block of C whose rows are ldc floats apart.
//
//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32, ldc int)
