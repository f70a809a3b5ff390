package kernels

import "testing"

// forEachSIMD runs f once for each level of the float32 kernels this
// machine can run, the detected one down to pure Go, so that every fast
// path is checked against the same references as the plain loops. The
// tests that call it must not run in parallel: they set simd.
func forEachSIMD(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := simd
	defer func() { simd = saved }()
	for level := saved; level >= simdNone; level-- {
		simd = level
		t.Run(level.String(), f)
	}
}

// detectSIMD honours CLASSIFY_SIMD only downwards.
func TestDetectSIMD(t *testing.T) {
	best := detectSIMD("")
	for _, tt := range []struct {
		env  string
		want simdLevel
	}{
		{"", best},
		{"avx512", best},
		{"avx2", min(best, simdAVX2)},
		{"purego", simdNone},
		{"bogus", best},
	} {
		if got := detectSIMD(tt.env); got != tt.want {
			t.Errorf("detectSIMD(%q) = %v, want %v", tt.env, got, tt.want)
		}
	}
	t.Logf("this machine: %v (BLAS %s)", best, BLAS())
}
