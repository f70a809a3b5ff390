package layers

import (
	"math"
	"testing"
)

func TestALiBiSlopes(t *testing.T) {
	for _, c := range []struct {
		heads int
		want  []float64
	}{
		// 2^(-8h/n): the paper's 1/2, 1/4, ..., 1/256 for 8 heads.
		{4, []float64{1.0 / 4, 1.0 / 16, 1.0 / 64, 1.0 / 256}},
		{8, []float64{1.0 / 2, 1.0 / 4, 1.0 / 8, 1.0 / 16, 1.0 / 32, 1.0 / 64, 1.0 / 128, 1.0 / 256}},
		// 6 heads: the 4-head slopes, then 1/2 and 1/8 from the 8-head ones.
		{6, []float64{1.0 / 4, 1.0 / 16, 1.0 / 64, 1.0 / 256, 1.0 / 2, 1.0 / 8}},
		{1, []float64{1.0 / 256}},
	} {
		got := NewALiBi(c.heads).Slopes()
		if len(got) != len(c.want) {
			t.Fatalf("Slopes(%d) = %v, want %v", c.heads, got, c.want)
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-15 {
				t.Errorf("Slopes(%d) = %v, want %v", c.heads, got, c.want)
				break
			}
		}
	}
}

// TestALiBiBias writes out the bias matrices of 4 heads over 3 positions.
func TestALiBiBias(t *testing.T) {
	var want []float64
	for _, m := range []float64{0.25, 0.0625, 0.015625, 0.00390625} {
		want = append(want,
			0, -m, -2*m,
			-m, 0, -m,
			-2*m, -m, 0)
	}
	got := NewALiBi(4).Bias(3)
	if len(got) != len(want) {
		t.Fatalf("Bias(3) has %d values, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Bias(3)[head %d][%d][%d] = %v, want %v", i/9, i/3%3, i%3, got[i], want[i])
		}
	}
}
