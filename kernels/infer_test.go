package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// inferRun runs Infer on p in type F, the output at column offset off of
// rows ldOut wide, and returns it as float64; other columns must stay
// untouched.
func inferRun[F Float](t *testing.T, l *LSTM[F], p *problem, reverse bool, ldOut, off int) []float64 {
	t.Helper()
	w := &LSTMWeights[F]{In: p.In, Hidden: p.H, Wih: convert[F](p.wih), Whh: convert[F](p.whh), Bias: convert[F](p.bias)}
	const sentinel = 12345
	o := make([]F, p.B*p.T*ldOut)
	for i := range o {
		o[i] = sentinel
	}
	l.Infer(w, convert[F](p.x), convert[F](p.mask), p.B, p.T, reverse, o[off:], ldOut)
	out := make([]float64, p.B*p.T*p.H)
	for k := 0; k < p.B*p.T; k++ {
		for j := 0; j < ldOut; j++ {
			v := o[k*ldOut+j]
			if j >= off && j < off+p.H {
				out[k*p.H+j-off] = float64(v)
			} else if v != sentinel {
				t.Fatalf("Infer wrote out[%d] column %d outside its %d columns at %d", k, j, p.H, off)
			}
		}
	}
	return out
}

// Infer gives the reference's outputs, as Forward does, for every mask
// kind, both directions and outputs that share their rows.
func TestLSTMInferMatchesReference(t *testing.T) {
	t.Run("float64", func(t *testing.T) { testInfer(t, "float64") })
	t.Run("float32", func(t *testing.T) {
		forEachSIMD(t, func(t *testing.T) { testInfer(t, "float32") })
	})
}

func testInfer(t *testing.T, typ string) {
	rng := rand.New(rand.NewPCG(21, 22))
	var l64 LSTM[float64] // one LSTM for all cases: its buffers must adapt
	var l32 LSTM[float32]
	tests := []struct {
		B, T, In, H int
		holes       bool
		ldOut, off  int
	}{
		{B: 5, T: 7, In: 4, H: 3, ldOut: 3},
		{B: 10, T: 12, In: 6, H: 5, holes: true, ldOut: 10, off: 5},
		{B: 1, T: 1, In: 2, H: 2, ldOut: 2},
		{B: 13, T: 30, In: 50, H: 20, holes: true, ldOut: 40},
		{B: 3, T: 4, In: 3, H: 2, ldOut: 5, off: 1},
		{B: 17, T: 19, In: 37, H: 24, holes: true, ldOut: 48, off: 24},
	}
	for _, tt := range tests {
		for _, reverse := range []bool{false, true} {
			name := fmt.Sprintf("B%dT%dIn%dH%d/holes=%v/reverse=%v", tt.B, tt.T, tt.In, tt.H, tt.holes, reverse)
			t.Run(name, func(t *testing.T) {
				p := newProblem(rng, tt.B, tt.T, tt.In, tt.H, tt.holes)
				want := p.ref(reverse).forward()
				if typ == "float64" {
					compare(t, "out", inferRun(t, &l64, p, reverse, tt.ldOut, tt.off), want, 1e-10)
				} else {
					compare(t, "out", inferRun(t, &l32, p, reverse, tt.ldOut, tt.off), want, 1e-5)
				}
			})
		}
	}
}

// Infer leaves no state for Backward: a Backward after it changes no
// gradient, even after an earlier Forward.
func TestLSTMBackwardAfterInferDoesNothing(t *testing.T) {
	p := newProblem(rand.New(rand.NewPCG(23, 24)), 4, 5, 3, 2, false)
	w := &LSTMWeights[float64]{In: p.In, Hidden: p.H, Wih: p.wih, Whh: p.whh, Bias: p.bias}
	out := make([]float64, p.B*p.T*p.H)
	var l LSTM[float64]
	l.Forward(w, p.x, p.mask, p.B, p.T, false, out, p.H)
	l.Infer(w, p.x, p.mask, p.B, p.T, false, out, p.H)
	gb := make([]float64, len(p.bias))
	l.Backward(w, p.dOut, p.H, nil, make([]float64, len(p.wih)), make([]float64, len(p.whh)), gb)
	for i, v := range gb {
		if v != 0 {
			t.Fatalf("dBias[%d] = %g after Infer, want 0", i, v)
		}
	}
}

// After the first batch of a shape, Infer allocates nothing.
func TestLSTMInferReusesBuffers(t *testing.T) {
	p := newProblem(rand.New(rand.NewPCG(25, 26)), 8, 10, 6, 5, true)
	w := &LSTMWeights[float32]{In: p.In, Hidden: p.H, Wih: convert[float32](p.wih), Whh: convert[float32](p.whh), Bias: convert[float32](p.bias)}
	x, mask := convert[float32](p.x), convert[float32](p.mask)
	out := make([]float32, p.B*p.T*p.H)
	var l LSTM[float32]
	run := func() { l.Infer(w, x, mask, p.B, p.T, true, out, p.H) }
	run()
	if n := testing.AllocsPerRun(5, run); n != 0 {
		t.Errorf("Infer allocated %v times per run, want 0", n)
	}
}

func BenchmarkLSTMInfer(b *testing.B) {
	benchLevels(b, func(b *testing.B) {
		l, w, x, mask, out, _, _, _, _ := benchLSTM(b)
		var cpu cpuClock
		cpu.Start()
		for b.Loop() {
			l.Infer(w, x, mask, 32, 100, false, out, 128)
		}
		cpu.Stop()
		cpu.Report(b)
	})
}

// Steps after every row's last real token are skipped; the outputs and
// gradients must still be the reference's, with holes in the mask too,
// and also when no row has a real token at all.
func TestLSTMTrailingPaddingMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	var l LSTM[float64]
	for _, keep := range []int{0, 1, 4} {
		for _, reverse := range []bool{false, true} {
			t.Run(fmt.Sprintf("keep=%d/reverse=%v", keep, reverse), func(t *testing.T) {
				p := newProblem(rng, 9, 8, 3, 4, true)
				for b := 0; b < p.B; b++ {
					for t := keep; t < p.T; t++ {
						p.mask[b*p.T+t] = 0
					}
				}
				r := p.ref(reverse)
				wantOut := r.forward()
				wdx, wih, whh, wb := r.backward(p.dOut)
				out, dx, dih, dhh, db := kernelRun(t, &l, p, reverse, 2*p.H, p.H)
				compare(t, "out", out, wantOut, 1e-10)
				compare(t, "dx", dx, wdx, 1e-10)
				compare(t, "dWih", dih, wih, 1e-10)
				compare(t, "dWhh", dhh, whh, 1e-10)
				compare(t, "dBias", db, wb, 1e-10)
				compare(t, "Infer out", inferRun(t, new(LSTM[float64]), p, reverse, p.H, 0), wantOut, 1e-10)
			})
		}
	}
}
