package kernels

import (
	"sync"
	"unsafe"
)

// The float32 product on AVX2 machines: Goto-style blocking with packed
// panels around a 6×16 register-blocked micro-kernel in assembly. gonum's
// Sgemm, the fallback elsewhere, runs several times slower here.
const (
	gemmMR = 6   // rows of the micro-kernel
	gemmNR = 16  // columns of the micro-kernel
	gemmKC = 256 // depth of a packed block: B's block stays in L2
)

// packedB is op(B) packed for the micro-kernel: for each block of gemmKC
// rows of op(B), its columns in strips of gemmNR, each strip kb rows of
// gemmNR floats, zero-padded past n.
type packedB struct {
	k, n int
	data []float32
}

// pack packs op(B), k×n, from b with row stride ldb.
func (pb *packedB) pack(transB bool, k, n int, b []float32, ldb int) {
	strips := (n + gemmNR - 1) / gemmNR
	pb.k, pb.n = k, n
	pb.data = growF32(pb.data, k*strips*gemmNR)
	for pc := 0; pc < k; pc += gemmKC {
		kb := min(gemmKC, k-pc)
		block := pb.data[pc*strips*gemmNR:]
		for s := 0; s < strips; s++ {
			strip := block[s*kb*gemmNR : (s+1)*kb*gemmNR]
			j0 := s * gemmNR
			cols := min(gemmNR, n-j0)
			if cols < gemmNR {
				clear(strip)
			}
			if transB { // op(B)[p][j] = b[j*ldb+p]
				for jj := 0; jj < cols; jj++ {
					row := b[(j0+jj)*ldb+pc:][:kb]
					for p, v := range row {
						strip[p*gemmNR+jj] = v
					}
				}
			} else {
				for p := 0; p < kb; p++ {
					copy(strip[p*gemmNR:p*gemmNR+cols], b[(pc+p)*ldb+j0:][:cols])
				}
			}
		}
	}
}

// gemmWorkspace is the scratch of one product.
type gemmWorkspace struct {
	b    packedB
	a    [gemmMR * gemmKC]float32
	tile [gemmMR * gemmNR]float32
}

var gemmWorkspaces = sync.Pool{New: func() any { return new(gemmWorkspace) }}

func growF32(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// sgemmAVX2 is Gemm for float32 on the micro-kernel, with scratch from a
// pool.
func sgemmAVX2(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ws := gemmWorkspaces.Get().(*gemmWorkspace)
	ws.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	gemmWorkspaces.Put(ws)
}

// gemm is Gemm for float32 on the micro-kernel with ws's scratch.
func (ws *gemmWorkspace) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	ws.b.pack(transB, k, n, b, ldb)
	sgemmPacked(ws, transA, m, alpha, a, lda, &ws.b, beta, c, ldc)
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

// sgemmPacked computes C = alpha*op(A)*B + beta*C with B packed already,
// so that a product repeated with the same B (the recurrent weights, once
// per time step) packs it once.
func sgemmPacked(ws *gemmWorkspace, transA bool, m int, alpha float32, a []float32, lda int, pb *packedB, beta float32, c []float32, ldc int) {
	k, n := pb.k, pb.n
	if beta != 1 {
		scaleRows(m, n, beta, c, ldc)
	}
	if m <= 0 || n <= 0 || k <= 0 || alpha == 0 {
		return
	}
	strips := (n + gemmNR - 1) / gemmNR
	_ = c[(m-1)*ldc+n-1] // C is as large as its shape says
	for pc := 0; pc < k; pc += gemmKC {
		kb := min(gemmKC, k-pc)
		block := pb.data[pc*strips*gemmNR:]
		for i0 := 0; i0 < m; i0 += gemmMR {
			rows := min(gemmMR, m-i0)
			// Pack alpha·op(A)[i0:i0+rows, pc:pc+kb] as kb columns of gemmMR.
			ap := ws.a[:kb*gemmMR]
			if rows < gemmMR {
				clear(ap)
			}
			if transA { // op(A)[i][p] = a[p*lda+i]
				for p := 0; p < kb; p++ {
					for ii, v := range a[(pc+p)*lda+i0:][:rows] {
						ap[p*gemmMR+ii] = alpha * v
					}
				}
			} else {
				for ii := 0; ii < rows; ii++ {
					for p, v := range a[(i0+ii)*lda+pc:][:kb] {
						ap[p*gemmMR+ii] = alpha * v
					}
				}
			}
			for s := 0; s < strips; s++ {
				j0 := s * gemmNR
				cols := min(gemmNR, n-j0)
				bp := &block[s*kb*gemmNR]
				if rows == gemmMR && cols == gemmNR {
					sgemmKernel6x16(kb, &ap[0], bp, &c[i0*ldc+j0], ldc)
					continue
				}
				// An edge block goes through a full-size tile.
				clear(ws.tile[:])
				sgemmKernel6x16(kb, &ap[0], bp, &ws.tile[0], gemmNR)
				for ii := 0; ii < rows; ii++ {
					dst := c[(i0+ii)*ldc+j0:][:cols]
					for jj, v := range ws.tile[ii*gemmNR : ii*gemmNR+cols] {
						dst[jj] += v
					}
				}
			}
		}
	}
}
