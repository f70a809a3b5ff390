package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
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
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
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
				want := append([]float64(nil), c...)
				naiveGemm(ta, tb, tt.m, tt.n, tt.k, tt.alpha, a, lda, b, ldb, tt.beta, want, ldc)
				cf := convert[F](c)
				Gemm(ta, tb, tt.m, tt.n, tt.k, F(tt.alpha), convert[F](a), lda, convert[F](b), ldb, F(tt.beta), cf, ldc)
				// Rounding grows with the length of the sums.
				tol := tol * math.Sqrt(float64(max(1, tt.k)))
				for i := range cf {
					if got := float64(cf[i]); math.Abs(got-want[i]) > tol*(1+math.Abs(want[i])) {
						t.Fatalf("%s (%s): C[%d] = %g, want %g", name, BLAS(), i, got, want[i])
					}
				}
			}
		}
	}
}

func TestGemm(t *testing.T) {
	t.Run("float64", func(t *testing.T) { testGemm[float64](t, 1e-12) })
	t.Run("float32", func(t *testing.T) { testGemm[float32](t, 1e-5) })
	if hasAVX2 { // the pure-Go fallback of machines without AVX2 too
		hasAVX2 = false
		defer func() { hasAVX2 = true }()
		t.Run("float32/noAVX2", func(t *testing.T) { testGemm[float32](t, 1e-5) })
	}
}

// BenchmarkGemm reports GFLOP/s for the products an LSTM training step
// makes at B=32, T=100, D=100, H=128: the input projection of all steps,
// one recurrent step, and the weight gradient over all steps.
func BenchmarkGemm(b *testing.B) {
	shapes := []struct {
		name           string
		transA, transB bool
		m, n, k        int
	}{
		{"projection/3232x512x100", false, true, 3232, 512, 100},
		{"recurrent/32x512x128", false, true, 32, 512, 128},
		{"weightgrad/512x128x3232", true, false, 512, 128, 3232},
		{"weightgradT/128x512x3232", true, false, 128, 512, 3232},
		{"inputgrad/512x50x800", true, false, 512, 50, 800},
		{"inputgradT/50x512x800", true, false, 50, 512, 800},
		{"backrecurrent/32x128x512", false, false, 32, 128, 512},
		{"square/512", false, false, 512, 512, 512},
	}
	for _, s := range shapes {
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
			for b.Loop() {
				Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
			}
			flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
