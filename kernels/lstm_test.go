package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// refLSTM is the reference the kernels are checked against: the textbook
// LSTM cell written as plain loops over one row and one step at a time,
// in float64, with no matrix products and no shared buffers.
type refLSTM struct {
	B, T, In, H int
	reverse     bool
	w           refWeights
	x, mask     []float64
	// per (b,t): the gate values, the states before and after the step
	i, f, g, o, cPrev, c, hPrev [][]float64
}

type refWeights struct{ wih, whh, bias []float64 }

func sig(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func (r *refLSTM) forward() []float64 {
	B, T, In, H := r.B, r.T, r.In, r.H
	out := make([]float64, B*T*H)
	n := B * T
	for _, p := range []*[][]float64{&r.i, &r.f, &r.g, &r.o, &r.cPrev, &r.c, &r.hPrev} {
		*p = make([][]float64, n)
	}
	for b := 0; b < B; b++ {
		h := make([]float64, H)
		c := make([]float64, H)
		for s := 0; s < T; s++ {
			t := s
			if r.reverse {
				t = T - 1 - s
			}
			k := b*T + t
			if r.mask[k] == 0 {
				copy(out[k*H:], h)
				continue
			}
			xt := r.x[k*In : (k+1)*In]
			gate := func(q, j int) float64 {
				row := q*H + j
				z := r.w.bias[row]
				for m := 0; m < In; m++ {
					z += r.w.wih[row*In+m] * xt[m]
				}
				for m := 0; m < H; m++ {
					z += r.w.whh[row*H+m] * h[m]
				}
				return z
			}
			ig, fg, gg, og := make([]float64, H), make([]float64, H), make([]float64, H), make([]float64, H)
			for j := 0; j < H; j++ {
				ig[j] = sig(gate(0, j))
				fg[j] = sig(gate(1, j))
				gg[j] = math.Tanh(gate(2, j))
				og[j] = sig(gate(3, j))
			}
			r.i[k], r.f[k], r.g[k], r.o[k] = ig, fg, gg, og
			r.cPrev[k] = append([]float64(nil), c...)
			r.hPrev[k] = append([]float64(nil), h...)
			for j := 0; j < H; j++ {
				c[j] = fg[j]*c[j] + ig[j]*gg[j]
				h[j] = og[j] * math.Tanh(c[j])
			}
			r.c[k] = append([]float64(nil), c...)
			copy(out[k*H:], h)
		}
	}
	return out
}

func (r *refLSTM) backward(dOut []float64) (dx, dwih, dwhh, dbias []float64) {
	B, T, In, H := r.B, r.T, r.In, r.H
	dx = make([]float64, B*T*In)
	dwih = make([]float64, 4*H*In)
	dwhh = make([]float64, 4*H*H)
	dbias = make([]float64, 4*H)
	for b := 0; b < B; b++ {
		dh := make([]float64, H)
		dc := make([]float64, H)
		for s := T - 1; s >= 0; s-- {
			t := s
			if r.reverse {
				t = T - 1 - s
			}
			k := b*T + t
			for j := 0; j < H; j++ {
				dh[j] += dOut[k*H+j]
			}
			if r.mask[k] == 0 {
				continue
			}
			dz := make([]float64, 4*H)
			for j := 0; j < H; j++ {
				tc := math.Tanh(r.c[k][j])
				do := dh[j] * tc
				dcj := dc[j] + dh[j]*r.o[k][j]*(1-tc*tc)
				dz[j] = dcj * r.g[k][j] * r.i[k][j] * (1 - r.i[k][j])
				dz[H+j] = dcj * r.cPrev[k][j] * r.f[k][j] * (1 - r.f[k][j])
				dz[2*H+j] = dcj * r.i[k][j] * (1 - r.g[k][j]*r.g[k][j])
				dz[3*H+j] = do * r.o[k][j] * (1 - r.o[k][j])
				dc[j] = dcj * r.f[k][j]
			}
			for row := 0; row < 4*H; row++ {
				dbias[row] += dz[row]
				for m := 0; m < In; m++ {
					dwih[row*In+m] += dz[row] * r.x[k*In+m]
					dx[k*In+m] += dz[row] * r.w.wih[row*In+m]
				}
				for m := 0; m < H; m++ {
					dwhh[row*H+m] += dz[row] * r.hPrev[k][m]
				}
			}
			for m := 0; m < H; m++ {
				dh[m] = 0
				for row := 0; row < 4*H; row++ {
					dh[m] += dz[row] * r.w.whh[row*H+m]
				}
			}
		}
	}
	return dx, dwih, dwhh, dbias
}

// problem is one random LSTM instance.
type problem struct {
	B, T, In, H     int
	wih, whh, bias  []float64
	x, mask, dOut   []float64
	lengths         []int
	maskDescription string
}

// newProblem draws weights, inputs and output gradients, and a mask whose
// rows are, in turn: all padding, one token, full, random lengths padded
// at the end, and (with holes) random tokens masked anywhere.
func newProblem(rng *rand.Rand, B, T, In, H int, holes bool) *problem {
	p := &problem{B: B, T: T, In: In, H: H}
	u := func(n int, scale float64) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = (2*rng.Float64() - 1) * scale
		}
		return s
	}
	p.wih = u(4*H*In, 0.5)
	p.whh = u(4*H*H, 0.5)
	p.bias = u(4*H, 0.5)
	p.x = u(B*T*In, 1)
	p.dOut = u(B*T*H, 1)
	p.mask = make([]float64, B*T)
	p.lengths = make([]int, B)
	for b := 0; b < B; b++ {
		var n int
		switch b % 5 {
		case 0:
			n = 0
		case 1:
			n = 1
		case 2:
			n = T
		default:
			n = rng.IntN(T + 1)
		}
		p.lengths[b] = n
		for t := 0; t < n; t++ {
			p.mask[b*T+t] = 1
		}
		if holes && b%5 == 4 {
			for t := 0; t < T; t++ {
				p.mask[b*T+t] = float64(rng.IntN(2))
			}
		}
	}
	return p
}

func (p *problem) ref(reverse bool) *refLSTM {
	return &refLSTM{B: p.B, T: p.T, In: p.In, H: p.H, reverse: reverse,
		w: refWeights{p.wih, p.whh, p.bias}, x: p.x, mask: p.mask}
}

func convert[F Float](s []float64) []F {
	if s == nil {
		return nil
	}
	out := make([]F, len(s))
	for i, v := range s {
		out[i] = F(v)
	}
	return out
}

// kernelRun runs the kernel on p in type F and returns out, dx, dWih, dWhh,
// dBias as float64. The output sits at column offset off of rows ldOut wide,
// and every other column must stay untouched.
func kernelRun[F Float](t *testing.T, l *LSTM[F], p *problem, reverse bool, ldOut, off int) (out, dx, dwih, dwhh, dbias []float64) {
	t.Helper()
	B, T, H := p.B, p.T, p.H
	w := &LSTMWeights[F]{In: p.In, Hidden: H, Wih: convert[F](p.wih), Whh: convert[F](p.whh), Bias: convert[F](p.bias)}
	const sentinel = 12345
	o := make([]F, B*T*ldOut)
	for i := range o {
		o[i] = sentinel
	}
	l.Forward(w, convert[F](p.x), convert[F](p.mask), B, T, reverse, o[off:], ldOut)
	dOut := make([]F, B*T*ldOut)
	for k := 0; k < B*T; k++ {
		for j := 0; j < H; j++ {
			dOut[k*ldOut+off+j] = F(p.dOut[k*H+j])
		}
	}
	gx := make([]F, B*T*p.In)
	gih := make([]F, len(p.wih))
	ghh := make([]F, len(p.whh))
	gb := make([]F, len(p.bias))
	l.Backward(w, dOut[off:], ldOut, gx, gih, ghh, gb)
	out = make([]float64, B*T*H)
	for k := 0; k < B*T; k++ {
		for j := 0; j < ldOut; j++ {
			v := o[k*ldOut+j]
			if j >= off && j < off+H {
				out[k*H+j-off] = float64(v)
			} else if v != sentinel {
				t.Fatalf("Forward wrote out[%d] column %d outside its %d columns at %d", k, j, H, off)
			}
		}
	}
	back := func(s []F) []float64 {
		d := make([]float64, len(s))
		for i, v := range s {
			d[i] = float64(v)
		}
		return d
	}
	return out, back(gx), back(gih), back(ghh), back(gb)
}

func compare(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); !(d <= tol*(1+math.Abs(want[i]))) {
			t.Fatalf("%s[%d] = %.12g, want %.12g (diff %.3g)", what, i, got[i], want[i], d)
		}
	}
}

func testAgainstReference[F Float](t *testing.T, tol float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	var l LSTM[F] // one LSTM for all cases: its buffers must adapt
	tests := []struct {
		B, T, In, H int
		holes       bool
		ldOut, off  int
	}{
		{B: 5, T: 7, In: 4, H: 3, ldOut: 3},
		{B: 10, T: 12, In: 6, H: 5, holes: true, ldOut: 10, off: 5},
		{B: 1, T: 1, In: 2, H: 2, ldOut: 2},
		{B: 7, T: 30, In: 16, H: 8, holes: true, ldOut: 16},
		{B: 3, T: 4, In: 3, H: 2, ldOut: 5, off: 1},
		// Full panels of both micro-kernels, edges, and sums over
		// B·(T+1) = 340 rows, more than one packed block.
		{B: 17, T: 19, In: 37, H: 24, holes: true, ldOut: 48, off: 24},
	}
	for _, tt := range tests {
		for _, reverse := range []bool{false, true} {
			name := fmt.Sprintf("B%dT%dIn%dH%d/holes=%v/reverse=%v", tt.B, tt.T, tt.In, tt.H, tt.holes, reverse)
			t.Run(name, func(t *testing.T) {
				p := newProblem(rng, tt.B, tt.T, tt.In, tt.H, tt.holes)
				r := p.ref(reverse)
				wantOut := r.forward()
				wdx, wih, whh, wb := r.backward(p.dOut)
				out, dx, dih, dhh, db := kernelRun(t, &l, p, reverse, tt.ldOut, tt.off)
				compare(t, "out", out, wantOut, tol)
				compare(t, "dx", dx, wdx, tol)
				compare(t, "dWih", dih, wih, tol)
				compare(t, "dWhh", dhh, whh, tol)
				compare(t, "dBias", db, wb, tol)
			})
		}
	}
}

func TestLSTMMatchesReference(t *testing.T) {
	t.Run("float64", func(t *testing.T) { testAgainstReference[float64](t, 1e-10) })
	t.Run("float32", func(t *testing.T) {
		forEachSIMD(t, func(t *testing.T) { testAgainstReference[float32](t, 1e-5) })
	})
}

// A named float type works like its underlying type.
type myFloat float32

func TestLSTMNamedFloat(t *testing.T) {
	p := newProblem(rand.New(rand.NewPCG(3, 4)), 4, 5, 3, 2, false)
	want := p.ref(false).forward()
	var l LSTM[myFloat]
	got, _, _, _, _ := kernelRun(t, &l, p, false, 2, 0)
	compare(t, "out", got, want, 1e-5)
}

// The gradients against central finite differences of
// loss = sum(dOut ⊙ out), in float64, with masks that have holes.
func TestLSTMGradientFiniteDifference(t *testing.T) {
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse=%v", reverse), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			p := newProblem(rng, 6, 6, 3, 4, true)
			p.mask[4*6+3] = 0 // a hole inside the random row for sure
			var l LSTM[float64]
			_, dx, dwih, dwhh, dbias := kernelRun(t, &l, p, reverse, 4, 0)
			loss := func() float64 {
				w := &LSTMWeights[float64]{In: p.In, Hidden: p.H, Wih: p.wih, Whh: p.whh, Bias: p.bias}
				out := make([]float64, p.B*p.T*p.H)
				var fl LSTM[float64]
				fl.Forward(w, p.x, p.mask, p.B, p.T, reverse, out, p.H)
				s := 0.0
				for i, v := range out {
					s += v * p.dOut[i]
				}
				return s
			}
			for _, c := range []struct {
				name   string
				values []float64
				grad   []float64
			}{{"x", p.x, dx}, {"Wih", p.wih, dwih}, {"Whh", p.whh, dwhh}, {"Bias", p.bias, dbias}} {
				const eps = 1e-6
				for i := range c.values {
					v := c.values[i]
					c.values[i] = v + eps
					up := loss()
					c.values[i] = v - eps
					down := loss()
					c.values[i] = v
					want := (up - down) / (2 * eps)
					if got := c.grad[i]; math.Abs(got-want) > 1e-7*(1+math.Abs(want)) {
						t.Errorf("d loss/d %s[%d] = %.10g, finite difference %.10g", c.name, i, got, want)
					}
				}
			}
		})
	}
}

// Reading the real tokens backwards equals running forward over them
// reversed: the reverse direction starts at each row's last real token.
func TestLSTMReverseEqualsForwardOnReversedTokens(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	p := newProblem(rng, 10, 9, 5, 4, false)
	var l LSTM[float64]
	gotRev, _, _, _, _ := kernelRun(t, &l, p, true, p.H, 0)

	flipped := *p
	flipped.x = make([]float64, len(p.x))
	for b, n := range p.lengths {
		for t := 0; t < n; t++ {
			copy(flipped.x[(b*p.T+t)*p.In:(b*p.T+t+1)*p.In], p.x[(b*p.T+n-1-t)*p.In:(b*p.T+n-t)*p.In])
		}
	}
	fwd, _, _, _, _ := kernelRun(t, &l, &flipped, false, p.H, 0)
	for b, n := range p.lengths {
		for s := 0; s < p.T; s++ {
			for j := 0; j < p.H; j++ {
				got := gotRev[(b*p.T+s)*p.H+j]
				want := 0.0 // padding after the row's end comes before any real token
				if s < n {
					want = fwd[(b*p.T+n-1-s)*p.H+j]
				}
				if math.Abs(got-want) > 1e-12 {
					t.Fatalf("row %d (length %d) reverse out[t=%d][%d] = %g, want %g", b, n, s, j, got, want)
				}
			}
		}
	}
}

// After the first batch of a shape, Forward and Backward allocate nothing.
func TestLSTMReusesBuffers(t *testing.T) {
	p := newProblem(rand.New(rand.NewPCG(9, 10)), 8, 10, 6, 5, true)
	w := &LSTMWeights[float32]{In: p.In, Hidden: p.H, Wih: convert[float32](p.wih), Whh: convert[float32](p.whh), Bias: convert[float32](p.bias)}
	x, mask := convert[float32](p.x), convert[float32](p.mask)
	out := make([]float32, p.B*p.T*p.H)
	dx, gih, ghh, gb := make([]float32, len(x)), make([]float32, len(w.Wih)), make([]float32, len(w.Whh)), make([]float32, len(w.Bias))
	var l LSTM[float32]
	run := func() {
		l.Forward(w, x, mask, p.B, p.T, false, out, p.H)
		l.Backward(w, out, p.H, dx, gih, ghh, gb)
	}
	run()
	if n := testing.AllocsPerRun(5, run); n != 0 {
		t.Errorf("Forward+Backward allocated %v times per run, want 0", n)
	}
}

// benchLSTM sets up one direction at the reference model's sizes: B=32,
// T=100, D=100, H=128, float32, rows of random length padded at the end.
func benchLSTM(b *testing.B) (l *LSTM[float32], w *LSTMWeights[float32], x, mask, out, dx, gih, ghh, gb []float32) {
	const B, T, In, H = 32, 100, 100, 128
	rng := rand.New(rand.NewPCG(13, 14))
	p := newProblem(rng, B, T, In, H, false)
	for b := range p.lengths { // realistic lengths: no empty rows
		n := 20 + rng.IntN(T-19)
		for t := 0; t < T; t++ {
			p.mask[b*T+t] = 0
			if t < n {
				p.mask[b*T+t] = 1
			}
		}
	}
	w = &LSTMWeights[float32]{In: In, Hidden: H, Wih: convert[float32](p.wih), Whh: convert[float32](p.whh), Bias: convert[float32](p.bias)}
	x, mask = convert[float32](p.x), convert[float32](p.mask)
	out = make([]float32, B*T*H)
	dx, gih, ghh, gb = make([]float32, len(x)), make([]float32, len(w.Wih)), make([]float32, len(w.Whh)), make([]float32, len(w.Bias))
	return new(LSTM[float32]), w, x, mask, out, dx, gih, ghh, gb
}

// BenchmarkLSTMForward and BenchmarkLSTMBackward time one direction at
// the reference model's sizes on each level this machine has.
func BenchmarkLSTMForward(b *testing.B) {
	benchLevels(b, func(b *testing.B) {
		l, w, x, mask, out, _, _, _, _ := benchLSTM(b)
		var cpu cpuClock
		cpu.Start()
		for b.Loop() {
			l.Forward(w, x, mask, 32, 100, false, out, 128)
		}
		cpu.Stop()
		cpu.Report(b)
	})
}

func BenchmarkLSTMBackward(b *testing.B) {
	benchLevels(b, func(b *testing.B) {
		l, w, x, mask, out, dx, gih, ghh, gb := benchLSTM(b)
		var cpu cpuClock
		for b.Loop() {
			b.StopTimer()
			l.Forward(w, x, mask, 32, 100, false, out, 128)
			b.StartTimer()
			cpu.Start()
			l.Backward(w, out, 128, dx, gih, ghh, gb)
			cpu.Stop()
		}
		cpu.Report(b)
	})
}

// benchLevels runs f as a sub-benchmark named after BLAS for each level of
// the float32 kernels this machine has.
// Each stays on one thread, whose CPU time cpuClock reads (gonum's
// products spread over goroutines: they report wall time only).
func benchLevels(b *testing.B, f func(b *testing.B)) {
	saved := simd
	defer func() { simd = saved }()
	for level := saved; level >= simdNone; level-- {
		simd = level
		b.Run(BLAS(), func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			f(b)
		})
	}
}
