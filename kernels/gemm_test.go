package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// naiveGemm is the definition of Gemm as three loops, in float64.
func naiveGemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for p := 0; p < k; p++ {
				var av, bv float64
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 { // as cblas: C is not read
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

func testGemm[F Float](t *testing.T, tol float64) {
	rng := rand.New(rand.NewPCG(11, 12))
	random := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = 2*rng.Float64() - 1
		}
		return s
	}
	tests := []struct {
		m, n, k, pad int
		alpha, beta  float64
	}{
		{1, 1, 1, 0, 1, 0},
		{3, 5, 7, 0, 1, 1},
		{17, 9, 33, 3, 0.5, -2},
		{64, 65, 66, 1, 1, 0},
		{4, 4, 0, 2, 1, 3},         // k = 0: C = beta*C
		{4, 4, 5, 0, 0, 0.5},       // alpha = 0
		{13, 35, 600, 2, 1.5, 0.5}, // k spans several packed blocks
		{32, 512, 128, 0, 1, 1},    // the recurrent product
		// Edges of both kernels' tiles (6×16, 8×32 and its 16-wide last
		// strip): one row or column, depth 1, sizes just off a multiple.
		{1, 37, 5, 0, 1, 1},
		{23, 1, 9, 1, 1, 0.5},
		{1, 1, 300, 0, 2, 0},
		{9, 17, 1, 0, 1, 1},
		{25, 100, 40, 2, 1, 0},
		{7, 48, 20, 0, 1, 1},
		{33, 31, 260, 1, -1, 1},
		{48, 64, 17, 0, 1, 0},
		{100, 100, 512, 3, 1, 1}, // the input gradient of one row
	}
	for _, tt := range tests {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				name := fmt.Sprintf("%dx%dx%d/pad%d/transA=%v/transB=%v/alpha=%g/beta=%g", tt.m, tt.n, tt.k, tt.pad, ta, tb, tt.alpha, tt.beta)
				rowsA, colsA := tt.m, tt.k
				if ta {
					rowsA, colsA = tt.k, tt.m
				}
				rowsB, colsB := tt.k, tt.n
				if tb {
					rowsB, colsB = tt.n, tt.k
				}
				lda, ldb, ldc := colsA+tt.pad, colsB+tt.pad, tt.n+tt.pad
				a, b, c := random(max(1, rowsA*lda)), random(max(1, rowsB*ldb)), random(tt.m*ldc)
				if tt.beta == 0 { // C is not read: NaN must not leak
					c[0] = math.NaN()
				}
				want := append([]float64(nil), c...)
				naiveGemm(ta, tb, tt.m, tt.n, tt.k, tt.alpha, a, lda, b, ldb, tt.beta, want, ldc)
				cf := convert[F](c)
				Gemm(ta, tb, tt.m, tt.n, tt.k, F(tt.alpha), convert[F](a), lda, convert[F](b), ldb, F(tt.beta), cf, ldc)
				// Rounding grows with the length of the sums.
				tol := tol * math.Sqrt(float64(max(1, tt.k)))
				for i := range cf {
					if got := float64(cf[i]); !(math.Abs(got-want[i]) <= tol*(1+math.Abs(want[i]))) {
						t.Fatalf("%s (%s): C[%d] = %g, want %g", name, BLAS(), i, got, want[i])
					}
				}
			}
		}
	}
}

// Gemm against the three loops, float32 on every kernel this machine has.
// float32's tolerance is its rounding: each of the k products and sums
// loses up to 2^-24 relative, and random signs grow the error of the sum
// as sqrt(k), so 1e-5·sqrt(k) relative to 1+|C| is a few ulps per term.
func TestGemm(t *testing.T) {
	t.Run("float64", func(t *testing.T) { testGemm[float64](t, 1e-12) })
	forEachSIMD(t, func(t *testing.T) { testGemm[float32](t, 1e-5) })
}

// A packed B serves many products, as the recurrent weights serve every
// step, and the kernel it was packed for runs them whatever the detected
// level is.
func TestGemmPackedReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	const m, n, k = 13, 70, 300
	bm := make([]float64, n*k) // held transposed, as Whh is
	for i := range bm {
		bm[i] = 2*rng.Float64() - 1
	}
	forEachSIMD(t, func(t *testing.T) {
		if simd == simdNone {
			t.Skip("no micro-kernel without AVX2")
		}
		var ws gemmWorkspace
		var pb packedB
		pb.pack(simd, true, k, n, convert[float32](bm), k)
		for step := range 3 {
			a := make([]float64, m*(k+1))
			for i := range a {
				a[i] = 2*rng.Float64() - 1
			}
			c := make([]float64, m*n)
			want := append([]float64(nil), c...)
			naiveGemm(false, true, m, n, k, 1, a, k+1, bm, k, 1, want, n)
			cf := convert[float32](c)
			sgemmPacked(&ws, false, m, 1, convert[float32](a), k+1, &pb, 1, cf, n)
			for i := range cf {
				if d := math.Abs(float64(cf[i]) - want[i]); !(d <= 1e-5*math.Sqrt(k)*(1+math.Abs(want[i]))) {
					t.Fatalf("step %d: C[%d] = %g, want %g", step, i, cf[i], want[i])
				}
			}
		}
	})
}

// BenchmarkGemm reports GFLOP/s of each kernel this machine has, side by
// side, for the products of one direction's LSTM training step at B=32,
// T=100, D=100, H=128 (B·(T+1) = 3232 rows, with the spare slot): the
// input projection of all steps, one recurrent step (packing Whh in the
// call, and prepacked as LSTM runs it), the recurrent product of the
// backward pass, the two weight gradients over all steps and one row's
// input gradient; and a square product. cpu-GFLOP/s divides by the
// benchmark thread's CPU time instead of the wall clock, which on a
// machine shared with other jobs counts the time the thread waited for a
// core.
func BenchmarkGemm(b *testing.B) {
	shapes := []struct {
		name           string
		transA, transB bool
		m, n, k        int
		prepacked      bool
	}{
		{"projection/3232x512x100", false, true, 3232, 512, 100, false},
		{"recurrent/32x512x128", false, true, 32, 512, 128, false},
		{"recurrent-prepacked/32x512x128", false, true, 32, 512, 128, true},
		{"backrecurrent-prepacked/32x128x512", false, false, 32, 128, 512, true},
		{"dWih/512x100x3232", true, false, 512, 100, 3232, false},
		{"dWhh/512x128x3232", true, false, 512, 128, 3232, false},
		{"dx-prepacked/100x100x512", false, false, 100, 100, 512, true},
		{"square/512", false, false, 512, 512, 512, false},
	}
	saved := simd
	defer func() { simd = saved }()
	for _, s := range shapes {
		for level := saved; level >= simdAVX2; level-- {
			simd = level
			b.Run(s.name+"/"+BLAS(), func(b *testing.B) {
				a := make([]float32, s.m*s.k)
				bm := make([]float32, s.k*s.n)
				c := make([]float32, s.m*s.n)
				for i := range a {
					a[i] = float32(i%7) - 3
				}
				for i := range bm {
					bm[i] = float32(i%5) - 2
				}
				lda, ldb := s.k, s.n
				if s.transA {
					lda = s.m
				}
				if s.transB {
					ldb = s.k
				}
				var ws gemmWorkspace
				var pb packedB
				pb.prepare(simd, s.transB, s.k, s.n, bm, ldb)
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				cpu0, cpuOK := threadCPU()
				for b.Loop() {
					if s.prepacked {
						sgemmPacked(&ws, s.transA, s.m, 1, a, lda, &pb, 1, c, s.n)
					} else {
						Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
					}
				}
				cpu1, _ := threadCPU()
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpuOK && cpu1 > cpu0 { // per second of this thread's CPU time
					b.ReportMetric(flops/(cpu1-cpu0).Seconds()/1e9, "cpu-GFLOP/s")
				}
			})
		}
	}
}
