package kernels

import (
	"math"
	"testing"
)

// gates32 and exp32 against math's float64 functions over the range LSTM
// gates see and beyond it, on lengths that exercise both the vector loop
// and the scalar rest.
func TestActivations32(t *testing.T) {
	forEachSIMD(t, testActivations32)
}

func testActivations32(t *testing.T) {
	var xs []float32
	for x := -90.0; x <= 90; x += 0.00731 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, -1e30, -200, 200, 1e30, 0, -0)
	for _, n := range []int{len(xs), 7, 1, 16, 17, 31} {
		xs := xs[len(xs)/2-n/2:][:n] // around zero, where the values vary
		bias := make([]float32, n)
		tests := []struct {
			name               string
			negScale, mul, add float32
			want               func(float64) float64
			tol                float64
		}{
			{"sigmoid", -1, 1, 0, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, 1.5e-7},
			{"tanh", -2, 2, -1, math.Tanh, 2.5e-7},
		}
		for _, tt := range tests {
			got := make([]float32, n)
			gates32(got, xs, bias, tt.negScale, tt.mul, tt.add)
			worst := 0.0
			for i, x := range xs {
				want := tt.want(float64(x))
				d := math.Abs(float64(got[i]) - want)
				worst = max(worst, d)
				if !(d <= tt.tol) {
					t.Fatalf("%s(%g) = %g, want %g (%v, n %d)", tt.name, x, got[i], want, simd, n)
				}
			}
			t.Logf("%s n=%d: worst error %.3g (%v)", tt.name, n, worst, simd)
		}
	}
	for x := -87.0; x <= 88; x += 0.0371 {
		got, want := float64(exp32(float32(x))), math.Exp(float64(float32(x)))
		if d := math.Abs(got-want) / want; d > 3e-7 {
			t.Fatalf("exp32(%g) = %g, want %g", x, got, want)
		}
	}
}

func BenchmarkActivations32(b *testing.B) {
	xs := make([]float32, 1024)
	for i := range xs {
		xs[i] = float32(i-512) / 64
	}
	out := make([]float32, len(xs))
	bias := make([]float32, len(xs))
	for b.Loop() {
		gates32(out, xs, bias, -1, 1, 0)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(xs)), "ns/value")
}
