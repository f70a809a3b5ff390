package kernels

import (
	"math"
	"math/rand"
	"runtime"
	"testing"
)

func randoms(rng *rand.Rand, n int, scale float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = (2*rng.Float64() - 1) * scale
	}
	return v
}

// fdCheck compares analytic gradients with central finite differences of
// loss, at a sample of the elements of each of the slices in params.
func fdCheck(t *testing.T, rng *rand.Rand, loss func() float64, params map[string][]float64, analytic map[string][]float64, samples int) {
	t.Helper()
	const eps = 1e-6
	for name, w := range params {
		for n := 0; n < samples; n++ {
			i := rng.Intn(len(w))
			orig := w[i]
			w[i] = orig + eps
			up := loss()
			w[i] = orig - eps
			down := loss()
			w[i] = orig
			num := (up - down) / (2 * eps)
			got := analytic[name][i]
			if math.Abs(got-num) > 1e-7+1e-5*(math.Abs(got)+math.Abs(num)) {
				t.Errorf("d%s[%d] = %.10g, finite difference %.10g", name, i, got, num)
			}
		}
	}
}

// TestAttentionDropoutGradient checks the backward pass with both
// dropouts on: a fixed seed draws the same masks in every forward pass, so
// the loss is a smooth function of the inputs.
func TestAttentionDropoutGradient(t *testing.T) {
	const b, tt, d, h = 4, 30, 8, 2 // 120 rows: the products are split over workers
	for _, pos := range []string{"none", "rope", "alibi"} {
		t.Run(pos, func(t *testing.T) {
			rng := rand.New(rand.NewSource(1))
			a := NewAttention[float64](h)
			switch pos {
			case "rope":
				a.SetRotary(10000)
			case "alibi":
				if err := a.SetSlopes([]float64{0.25, 0.0625}); err != nil {
					t.Fatal(err)
				}
			}
			real := make([]bool, b*tt)
			for s := 0; s < b; s++ {
				n := 1 + rng.Intn(tt)
				for i := 0; i < n; i++ {
					real[s*tt+i] = true
				}
			}
			x := randoms(rng, b*tt*d, 1)
			win, bin := randoms(rng, 3*d*d, 0.7), randoms(rng, 3*d, 0.7)
			wout, bout := randoms(rng, d*d, 0.7), randoms(rng, d, 0.7)
			r := randoms(rng, b*tt*d, 1)
			drop := Dropout{Rate: 0.3, Seed: 11}
			outDrop := Dropout{Rate: 0.2, Seed: 12}
			y := make([]float64, b*tt*d)
			loss := func() float64 {
				a.Forward(x, real, b, tt, d, win, bin, wout, bout, drop, outDrop, y)
				var s float64
				for i := range y {
					s += y[i] * r[i]
				}
				return s
			}
			loss()
			a.Backward(x, win, wout, r)
			analytic := map[string][]float64{
				"x": append([]float64{}, a.DX...), "win": append([]float64{}, a.DWin...), "bin": append([]float64{}, a.DBin...),
				"wout": append([]float64{}, a.DWout...), "bout": append([]float64{}, a.DBout...),
			}
			fdCheck(t, rng, loss, map[string][]float64{"x": x, "win": win, "bin": bin, "wout": wout, "bout": bout}, analytic, 15)
		})
	}
}

func TestFeedForwardDropoutGradient(t *testing.T) {
	const rows, in, hidden = 100, 6, 10
	rng := rand.New(rand.NewSource(2))
	x := randoms(rng, rows*in, 1)
	w1, b1 := randoms(rng, hidden*in, 0.7), randoms(rng, hidden, 0.7)
	w2, b2 := randoms(rng, in*hidden, 0.7), randoms(rng, in, 0.7)
	r := randoms(rng, rows*in, 1)
	var f FeedForward[float64]
	y := make([]float64, rows*in)
	drop := Dropout{Rate: 0.25, Seed: 3}
	loss := func() float64 {
		f.Forward(x, w1, b1, w2, b2, rows, in, hidden, drop, y)
		var s float64
		for i := range y {
			s += y[i] * r[i]
		}
		return s
	}
	loss()
	f.Backward(x, w1, w2, r)
	analytic := map[string][]float64{
		"x": append([]float64{}, f.DX...), "w1": append([]float64{}, f.DW1...), "b1": append([]float64{}, f.DB1...),
		"w2": append([]float64{}, f.DW2...), "b2": append([]float64{}, f.DB2...),
	}
	fdCheck(t, rng, loss, map[string][]float64{"x": x, "w1": w1, "b1": b1, "w2": w2, "b2": b2}, analytic, 15)
}

// TestAttentionFloat32 runs the float32 attention (the AVX2 products, one
// worker and several) against float64 on the same inputs.
func TestAttentionFloat32(t *testing.T) {
	const b, tt, d, h = 6, 40, 32, 4
	rng := rand.New(rand.NewSource(4))
	real := make([]bool, b*tt)
	for s := 0; s < b; s++ {
		for i := 0; i < 1+rng.Intn(tt); i++ {
			real[s*tt+i] = true
		}
	}
	in := [][]float64{randoms(rng, b*tt*d, 1), randoms(rng, 3*d*d, 0.3), randoms(rng, 3*d, 0.3), randoms(rng, d*d, 0.3), randoms(rng, d, 0.3)}
	dy := randoms(rng, b*tt*d, 1)
	to32 := func(v []float64) []float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out
	}
	a64 := NewAttention[float64](h)
	a64.SetRotary(10000)
	y64 := make([]float64, b*tt*d)
	a64.Forward(in[0], real, b, tt, d, in[1], in[2], in[3], in[4], Dropout{}, Dropout{}, y64)
	a64.Backward(in[0], in[1], in[3], dy)
	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		a32 := NewAttention[float32](h)
		a32.SetRotary(10000)
		// A pass at another shape first: the buffers must follow the shape.
		small := make([]float32, 2*5*d)
		a32.Forward(small, make([]bool, 10), 2, 5, d, to32(in[1]), to32(in[2]), to32(in[3]), to32(in[4]), Dropout{}, Dropout{}, small)
		y32 := make([]float32, b*tt*d)
		a32.Forward(to32(in[0]), real, b, tt, d, to32(in[1]), to32(in[2]), to32(in[3]), to32(in[4]), Dropout{}, Dropout{}, y32)
		a32.Backward(to32(in[0]), to32(in[1]), to32(in[3]), to32(dy))
		runtime.GOMAXPROCS(prev)
		for _, c := range []struct {
			name string
			f32  []float32
			f64  []float64
		}{{"y", y32, y64}, {"dx", a32.DX, a64.DX}, {"dwin", a32.DWin, a64.DWin}, {"dwout", a32.DWout, a64.DWout}} {
			for i := range c.f64 {
				if math.Abs(float64(c.f32[i])-c.f64[i]) > 1e-4*math.Max(1, math.Abs(c.f64[i])) {
					t.Fatalf("GOMAXPROCS %d: %s[%d] float32 %v, float64 %v", procs, c.name, i, c.f32[i], c.f64[i])
				}
			}
		}
	}
}

func TestLayerNormKernelRowOfConstants(t *testing.T) {
	// A constant row has zero variance: the output is the bias, not NaN.
	x := []float32{3, 3, 3}
	y, mean, rstd := make([]float32, 3), make([]float32, 1), make([]float32, 1)
	LayerNorm(x, []float32{1, 1, 1}, []float32{0.5, 0, -1}, 1, 3, 1e-5, y, mean, rstd)
	for i, want := range []float32{0.5, 0, -1} {
		if y[i] != want {
			t.Errorf("LayerNorm of a constant row [%d] = %v, want %v", i, y[i], want)
		}
	}
}

// TestFeedForwardFloat32 runs the float32 feed-forward block (the AVX2
// products and the float32 GELU, one worker and several) against float64.
func TestFeedForwardFloat32(t *testing.T) {
	const rows, in, hidden = 150, 16, 40
	rng := rand.New(rand.NewSource(6))
	vs := [][]float64{randoms(rng, rows*in, 2), randoms(rng, hidden*in, 0.5), randoms(rng, hidden, 0.5), randoms(rng, in*hidden, 0.5), randoms(rng, in, 0.5)}
	dy := randoms(rng, rows*in, 1)
	to32 := func(v []float64) []float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out
	}
	var f64 FeedForward[float64]
	y64 := make([]float64, rows*in)
	f64.Forward(vs[0], vs[1], vs[2], vs[3], vs[4], rows, in, hidden, Dropout{}, y64)
	f64.Backward(vs[0], vs[1], vs[3], dy)
	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		var f32 FeedForward[float32]
		y32 := make([]float32, rows*in)
		f32.Forward(to32(vs[0]), to32(vs[1]), to32(vs[2]), to32(vs[3]), to32(vs[4]), rows, in, hidden, Dropout{}, y32)
		f32.Backward(to32(vs[0]), to32(vs[1]), to32(vs[3]), to32(dy))
		runtime.GOMAXPROCS(prev)
		for _, c := range []struct {
			name string
			f32  []float32
			f64  []float64
		}{{"y", y32, y64}, {"dx", f32.DX, f64.DX}, {"dw1", f32.DW1, f64.DW1}, {"db1", f32.DB1, f64.DB1}, {"dw2", f32.DW2, f64.DW2}} {
			for i := range c.f64 {
				if math.Abs(float64(c.f32[i])-c.f64[i]) > 1e-4*math.Max(1, math.Abs(c.f64[i])) {
					t.Fatalf("GOMAXPROCS %d: %s[%d] float32 %v, float64 %v", procs, c.name, i, c.f32[i], c.f64[i])
				}
			}
		}
	}
}

// TestGELURowsFloat32 compares the feed-forward block's float32 GELU and
// derivative, on each vector code the machine has and in pure Go, with
// float64 over [-10, 10], and beyond it where Φ is 0 or 1.
func TestGELURowsFloat32(t *testing.T) {
	forEachSIMD(t, testGELURowsFloat32)
}

func testGELURowsFloat32(t *testing.T) {
	x32 := []float32{-1e30, -200, -14, 14, 200, 1e30, 0}
	x64 := []float64{-1e30, -200, -14, 14, 200, 1e30, 0}
	for v := -10.0; v <= 10; v += 0.001 {
		x32 = append(x32, float32(v))
		x64 = append(x64, float64(float32(v)))
	}
	for _, n := range []int{len(x32), 1, 15, 16, 17, 33} {
		testGELURowsLength(t, x32[:n], x64[:n])
	}
}

// testGELURowsLength checks one row of len(x32) values.
func testGELURowsLength(t *testing.T, x32 []float32, x64 []float64) {
	t.Helper()
	n := len(x32)
	y32, d32 := make([]float32, n+1), make([]float32, n+1)
	y32[n], d32[n] = 7, 7 // past the row: left alone
	y64, d64 := make([]float64, n), make([]float64, n)
	geluRows(x32, y32, d32, nil, 0, 1, n, Dropout{})
	geluRows(x64, y64, d64, nil, 0, 1, n, Dropout{})
	if y32[n] != 7 || d32[n] != 7 {
		t.Fatalf("n=%d: the element past the row became %v, %v", n, y32[n], d32[n])
	}
	for i := range x32 {
		if e := math.Abs(float64(y32[i]) - y64[i]); e > 1e-6*math.Max(1, math.Abs(y64[i])) {
			t.Fatalf("GELU(%v) float32 %.9g, float64 %.9g", x32[i], y32[i], y64[i])
		}
		if e := math.Abs(float64(d32[i]) - d64[i]); e > 1e-6 {
			t.Fatalf("GELU'(%v) float32 %.9g, float64 %.9g", x32[i], d32[i], d64[i])
		}
	}
}

// TestAttentionOneStep runs sequences of one token, whose softmax is one
// weight of 1.
func TestAttentionOneStep(t *testing.T) {
	a := NewAttention[float32](2)
	x := []float32{1, 2, 3, 4, -1, -2, -3, -4}
	win := make([]float32, 3*4*4)
	for i := range win {
		win[i] = float32(i%5) * 0.1
	}
	wout := make([]float32, 16)
	for i := 0; i < 4; i++ {
		wout[i*4+i] = 1
	}
	y := make([]float32, 8)
	a.Forward(x, []bool{true, true}, 2, 1, 4, win, make([]float32, 12), wout, make([]float32, 4), Dropout{}, Dropout{}, y)
	// One key: the context is the value, v = Wv x.
	for s := 0; s < 2; s++ {
		for o := 0; o < 4; o++ {
			var want float32
			for i := 0; i < 4; i++ {
				want += win[(8+o)*4+i] * x[s*4+i]
			}
			if d := y[s*4+o] - want; d > 1e-5 || d < -1e-5 {
				t.Errorf("y[%d][%d] = %v, want %v", s, o, y[s*4+o], want)
			}
		}
	}
}

// TestSoftmaxRow32 compares the float32 softmax of one attention row, on
// each vector code the machine has and in pure Go, with softmaxRow in
// float64, for rows all real (the AVX-512 path) and with padded keys,
// with and without an ALiBi slope, on lengths around the vector width.
func TestSoftmaxRow32(t *testing.T) {
	forEachSIMD(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(3))
		for _, n := range []int{1, 5, 16, 17, 100} {
			for _, padded := range []bool{false, true} {
				for _, slope := range []float64{0, 0.25} {
					e64 := randoms(rng, n, 8)
					real := make([]bool, n)
					for j := range real {
						real[j] = !padded || j%3 != 1
					}
					e32 := make([]float32, n)
					for j, v := range e64 {
						e32[j] = float32(v)
						e64[j] = float64(e32[j])
					}
					scratch, zeros := make([]float32, 2*n), make([]float32, n)
					sc64 := make([]float64, 2*n)
					softmaxRow32(e32, real, float32(slope), n/2, scratch, zeros)
					softmaxRow(e64, real, slope, n/2, sc64, zeros)
					for j := range e32 {
						if d := math.Abs(float64(e32[j]) - e64[j]); d > 1e-6 {
							t.Fatalf("n=%d padded=%v slope=%v: weight %d = %.8g, float64 %.8g", n, padded, slope, j, e32[j], e64[j])
						}
						if !real[j] && e32[j] != 0 {
							t.Fatalf("n=%d: padded key %d has weight %v", n, j, e32[j])
						}
					}
				}
			}
		}
	})
}

// TestLayerNormParallel checks LayerNorm and LayerNormBackward, their rows
// split over two workers, against one pass over all rows in order.
func TestLayerNormParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	rng := rand.New(rand.NewSource(9))
	const rows, dim = 1001, 64
	x, dy := randoms(rng, rows*dim, 2), randoms(rng, rows*dim, 1)
	gamma, beta := randoms(rng, dim, 1), randoms(rng, dim, 1)
	y, mean, rstd := make([]float64, rows*dim), make([]float64, rows), make([]float64, rows)
	y1, mean1, rstd1 := make([]float64, rows*dim), make([]float64, rows), make([]float64, rows)
	LayerNorm(x, gamma, beta, rows, dim, 1e-5, y, mean, rstd)
	layerNormRows(x, gamma, beta, 0, rows, dim, 1e-5, y1, mean1, rstd1)
	for i := range y {
		if y[i] != y1[i] {
			t.Fatalf("LayerNorm[%d] = %v on two workers, %v on one", i, y[i], y1[i])
		}
	}
	dx, dg, db := make([]float64, rows*dim), make([]float64, dim), make([]float64, dim)
	dx1, dg1, db1 := make([]float64, rows*dim), make([]float64, dim), make([]float64, dim)
	LayerNormBackward(dy, x, gamma, mean, rstd, rows, dim, dx, dg, db)
	layerNormBackwardRows(dy, x, gamma, mean1, rstd1, 0, rows, dim, dx1, dg1, db1)
	for i := range dx {
		if dx[i] != dx1[i] {
			t.Fatalf("dx[%d] = %v on two workers, %v on one", i, dx[i], dx1[i])
		}
	}
	for j := range dg {
		if math.Abs(dg[j]-dg1[j]) > 1e-9*(1+math.Abs(dg1[j])) || math.Abs(db[j]-db1[j]) > 1e-9*(1+math.Abs(db1[j])) {
			t.Fatalf("dgamma, dbeta[%d] = %v, %v on two workers, %v, %v on one", j, dg[j], db[j], dg1[j], db1[j])
		}
	}
}
