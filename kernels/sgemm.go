package kernels

import (
	"sync"
	"unsafe"
)

// The float32 product on the assembly micro-kernels: Goto-style blocking
// with B packed in strips around a register-blocked micro-kernel, 6×16 on
// AVX2 and 8×32 on AVX-512. gonum's Sgemm, the fallback elsewhere, runs
// several times slower here.
//
// A is not packed when the kernel can read a full panel of it in place:
// its rows (or, for op(A) = Aᵀ, its columns) are at a fixed stride, which
// the kernels take as arguments. Only panels at the bottom edge, and on
// AVX2 products with alpha != 1, are copied.
const (
	gemmKC = 256 // depth of a packed block: B's block stays in L2

	avx2MR, avx2NR     = 6, 16 // the AVX2 micro-kernel's rows and columns
	avx512MR, avx512NR = 8, 32 // the AVX-512 micro-kernel's
)

// gemmNR returns the strip width B is packed in for the kernel of level.
func gemmNR(level simdLevel) int {
	if level == simdAVX512 {
		return avx512NR
	}
	return avx2NR
}

// packedB is op(B) prepared for a micro-kernel. Packed, it holds for each
// block of gemmKC rows of op(B) its columns in strips of nr, each strip
// kb rows of its width, zero-padded past n. Every strip is nr wide
// except, for the AVX-512 kernel, a last one of 16 columns or fewer,
// which is 16 wide. The kernel that runs a product is the one the strips
// fit. The AVX-512 kernels, whose masked loads stop at n, also read an
// op(B) = B in place: then src is the caller's B, ld its row stride.
type packedB struct {
	k, n  int
	nr    int // avx2NR or avx512NR
	width int // the sum of the strip widths
	data  []float32
	src   []float32 // B read in place, or nil
	ld    int       // src's row stride
}

// prepare makes op(B), k×n, from b with row stride ldb ready for the
// kernel of level: B itself on AVX-512, a packed copy otherwise. A
// prepared B that reads the caller's b is valid while b is unchanged.
func (pb *packedB) prepare(level simdLevel, transB bool, k, n int, b []float32, ldb int) {
	if level != simdAVX512 || transB || k == 0 || n == 0 {
		pb.pack(level, transB, k, n, b, ldb)
		return
	}
	_ = b[(k-1)*ldb+n-1] // B is as large as its shape says
	pb.k, pb.n, pb.nr = k, n, avx512NR
	pb.src, pb.ld = b, ldb
}

// stripWidth returns the width of the strip starting at column j0 of an
// n-column op(B) packed in strips of nr.
func stripWidth(nr, n, j0 int) int {
	if nr == avx512NR && n-j0 <= 16 {
		return 16
	}
	return nr
}

// pack packs op(B), k×n, from b with row stride ldb, for the kernel of
// level.
func (pb *packedB) pack(level simdLevel, transB bool, k, n int, b []float32, ldb int) {
	nr := gemmNR(level)
	pb.k, pb.n, pb.nr = k, n, nr
	pb.src, pb.ld = nil, 0
	pb.width = 0
	for j0 := 0; j0 < n; j0 += nr {
		pb.width += stripWidth(nr, n, j0)
	}
	pb.data = growF32(pb.data, k*pb.width)
	for pc := 0; pc < k; pc += gemmKC {
		kb := min(gemmKC, k-pc)
		block := pb.data[pc*pb.width:]
		for j0 := 0; j0 < n; j0 += nr {
			w := stripWidth(nr, n, j0)
			strip := block[j0*kb : (j0+w)*kb]
			cols := min(w, n-j0)
			if cols < w {
				clear(strip)
			}
			if transB { // op(B)[p][j] = b[j*ldb+p]
				for jj := 0; jj < cols; jj++ {
					row := b[(j0+jj)*ldb+pc:][:kb]
					for p, v := range row {
						strip[p*w+jj] = v
					}
				}
			} else {
				for p := 0; p < kb; p++ {
					copy(strip[p*w:p*w+cols], b[(pc+p)*ldb+j0:][:cols])
				}
			}
		}
	}
}

// gemmWorkspace is the scratch of one product.
type gemmWorkspace struct {
	b    packedB
	a    [avx512MR * gemmKC]float32
	tile [avx2MR * avx2NR]float32
}

var gemmWorkspaces = sync.Pool{New: func() any { return new(gemmWorkspace) }}

func growF32(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// sgemmGo is Gemm for float32 on the micro-kernel of simd, with scratch
// from a pool.
func sgemmGo(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ws := gemmWorkspaces.Get().(*gemmWorkspace)
	ws.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	gemmWorkspaces.Put(ws)
}

// gemm is Gemm for float32 on the micro-kernel with ws's scratch.
func (ws *gemmWorkspace) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	ws.b.prepare(simd, transB, k, n, b, ldb)
	sgemmPacked(ws, transA, m, alpha, a, lda, &ws.b, beta, c, ldc)
	ws.b.src = nil // keep no reference to the caller's B
}

// gemmWith is Gemm that, on the micro-kernel, takes its scratch from ws
// rather than from the shared pool, so that a caller that owns a
// workspace never allocates.
func gemmWith[F Float](ws *gemmWorkspace, transA, transB bool, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int) {
	if unsafe.Sizeof(alpha) == 4 && goKernel() && k > 0 && alpha != 0 {
		ws.gemm(transA, transB, m, n, k, float32(alpha), as32(a), lda, as32(b), ldb, float32(beta), as32(c), ldc)
		return
	}
	Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// panelA returns the rows i0..i0+rows of op(A), columns pc..pc+kb, as a
// pointer and the strides of its rows and columns, for a kernel of mr
// rows. A full panel is read in place when scale is 1; otherwise the
// panel is copied into ws.a as kb columns of mr, times scale, with zeros
// below the last row.
func (ws *gemmWorkspace) panelA(transA bool, a []float32, lda, i0, pc, rows, kb, mr int, scale float32) (p *float32, rs, cs int) {
	if rows == mr && scale == 1 {
		if transA { // op(A)[i][p] = a[p*lda+i]
			_ = a[(pc+kb-1)*lda+i0+mr-1]
			return &a[pc*lda+i0], 1, lda
		}
		_ = a[(i0+mr-1)*lda+pc+kb-1]
		return &a[i0*lda+pc], lda, 1
	}
	ap := ws.a[:kb*mr]
	if rows < mr {
		clear(ap)
	}
	if transA {
		for p := 0; p < kb; p++ {
			for ii, v := range a[(pc+p)*lda+i0:][:rows] {
				ap[p*mr+ii] = scale * v
			}
		}
	} else {
		for ii := 0; ii < rows; ii++ {
			for p, v := range a[(i0+ii)*lda+pc:][:kb] {
				ap[p*mr+ii] = scale * v
			}
		}
	}
	return &ap[0], 1, mr
}

// sgemmPacked computes C = alpha*op(A)*B + beta*C with B packed already,
// so that a product repeated with the same B (the recurrent weights, once
// per time step) packs it once. It runs on the kernel B was packed for.
func sgemmPacked(ws *gemmWorkspace, transA bool, m int, alpha float32, a []float32, lda int, pb *packedB, beta float32, c []float32, ldc int) {
	k, n := pb.k, pb.n
	if m <= 0 || n <= 0 {
		return
	}
	if k <= 0 || alpha == 0 {
		scaleRows(m, n, beta, c, ldc)
		return
	}
	_ = c[(m-1)*ldc+n-1] // C is as large as its shape says
	if pb.nr == avx512NR {
		sgemmPacked512(ws, transA, m, alpha, a, lda, pb, beta, c, ldc)
		return
	}
	if beta != 1 {
		scaleRows(m, n, beta, c, ldc)
	}
	const mr, nr = avx2MR, avx2NR
	for pc := 0; pc < k; pc += gemmKC {
		kb := min(gemmKC, k-pc)
		block := pb.data[pc*pb.width:]
		for i0 := 0; i0 < m; i0 += mr {
			rows := min(mr, m-i0)
			ap, rs, cs := ws.panelA(transA, a, lda, i0, pc, rows, kb, mr, alpha)
			for j0 := 0; j0 < n; j0 += nr {
				cols := min(nr, n-j0)
				bp := &block[j0*kb]
				if rows == mr && cols == nr {
					sgemmKernel6x16(kb, ap, rs, cs, bp, &c[i0*ldc+j0], ldc)
					continue
				}
				// An edge block goes through a full-size tile.
				clear(ws.tile[:])
				sgemmKernel6x16(kb, ap, rs, cs, bp, &ws.tile[0], nr)
				for ii := 0; ii < rows; ii++ {
					dst := c[(i0+ii)*ldc+j0:][:cols]
					for jj, v := range ws.tile[ii*nr : ii*nr+cols] {
						dst[jj] += v
					}
				}
			}
		}
	}
}

// sgemmPacked512 is sgemmPacked on the AVX-512 kernels, which scale by
// alpha, overwrite C when beta is 0 and mask the edges themselves.
//
// The loops over A's panels and B's strips nest either way: with few rows
// (up to jOuterRows) each strip of B stays in L1 while the panels of A,
// L2-resident, pass under it; with many, each panel of A stays in L1
// while B's block passes.
func sgemmPacked512(ws *gemmWorkspace, transA bool, m int, alpha float32, a []float32, lda int, pb *packedB, beta float32, c []float32, ldc int) {
	const mr, nr, jOuterRows = avx512MR, avx512NR, 256
	k, n := pb.k, pb.n
	if beta != 0 && beta != 1 {
		scaleRows(m, n, beta, c, ldc)
	}
	acc := beta != 0
	full := m - m%mr // rows in full panels; the rest are packed once per block
	for pc := 0; pc < k; pc += gemmKC {
		kb := min(gemmKC, k-pc)
		var block []float32
		if pb.src == nil {
			block = pb.data[pc*pb.width:]
		}
		var edge *float32
		if full < m {
			edge, _, _ = ws.panelA(transA, a, lda, full, pc, m-full, kb, mr, 1)
		}
		run := func(i0, j0 int) {
			ap, rs, cs := edge, 1, mr
			if i0 < full {
				ap, rs, cs = ws.panelA(transA, a, lda, i0, pc, mr, kb, mr, 1)
			}
			rows, cols := min(mr, m-i0), min(nr, n-j0)
			mask := uint32(uint64(1)<<cols - 1)
			w := stripWidth(nr, n, j0)
			var bp *float32
			ldb := w
			if pb.src != nil {
				bp, ldb = &pb.src[pc*pb.ld+j0], pb.ld
			} else {
				bp = &block[j0*kb]
			}
			cp := &c[i0*ldc+j0]
			if w == 16 {
				sgemmKernel8x16(kb, ap, rs, cs, bp, ldb, cp, ldc, rows, mask, alpha, acc)
			} else {
				sgemmKernel8x32(kb, ap, rs, cs, bp, ldb, cp, ldc, rows, mask, alpha, acc)
			}
		}
		if m <= jOuterRows {
			for j0 := 0; j0 < n; j0 += nr {
				for i0 := 0; i0 < m; i0 += mr {
					run(i0, j0)
				}
			}
		} else {
			for i0 := 0; i0 < m; i0 += mr {
				for j0 := 0; j0 < n; j0 += nr {
					run(i0, j0)
				}
			}
		}
		acc = true
	}
}
