package kernels

import (
	"math"
	"testing"
)

// The float32 activations against math's float64 functions over the range
// LSTM gates see, and beyond it.
func TestActivations32(t *testing.T) {
	tests := []struct {
		name string
		got  func(float32) float32
		want func(float64) float64
		tol  float64 // absolute
		rel  bool
	}{
		{"exp32", exp32, math.Exp, 4e-7, true},
		{"sigmoid", sigmoid[float32], func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, 1.5e-7, false},
		{"tanh", tanh[float32], math.Tanh, 2.5e-7, false},
	}
	for _, tt := range tests {
		worst := 0.0
		for x := -80.0; x <= 80; x += 0.00731 {
			got := float64(tt.got(float32(x)))
			want := tt.want(float64(float32(x)))
			d := math.Abs(got - want)
			if tt.rel {
				d /= want
			}
			if d > worst {
				worst = d
			}
			if d > tt.tol {
				t.Fatalf("%s(%g) = %g, want %g", tt.name, x, got, want)
			}
		}
		t.Logf("%s: worst error %.3g", tt.name, worst)
	}
	for _, x := range []float32{-1e30, -200, 200, 1e30} {
		if s := sigmoid(x); s < 0 || s > 1 || math.IsNaN(float64(s)) {
			t.Errorf("sigmoid(%g) = %g, want within [0,1]", x, s)
		}
		if th := tanh(x); th < -1 || th > 1 || math.IsNaN(float64(th)) {
			t.Errorf("tanh(%g) = %g, want within [-1,1]", x, th)
		}
	}
}

func BenchmarkActivations32(b *testing.B) {
	xs := make([]float32, 1024)
	for i := range xs {
		xs[i] = float32(i-512) / 64
	}
	var s float32
	for b.Loop() {
		for _, x := range xs {
			s += sigmoid(x) + tanh(x)
		}
	}
	sink = s
}

var sink float32
