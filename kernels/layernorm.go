package kernels

import (
	"math"
	"runtime"
	"sync"
)

// LayerNorm normalises each row of x, [rows, dim] row-major, over its dim
// values and then scales and shifts it, as torch.nn.LayerNorm(dim, eps):
// y = (x - mean) / sqrt(var + eps) · gamma + beta, with the biased
// variance. It keeps each row's mean and 1/sqrt(var + eps) in mean and
// rstd ([rows] each) for LayerNormBackward. y may be x. Sums run in
// float64. Blocks of rows are spread over the workers.
func LayerNorm[F Float](x, gamma, beta []F, rows, dim int, eps float64, y, mean, rstd []F) {
	parallelChunks(rows, layerNormChunk(dim), func(lo, hi int) {
		layerNormRows(x, gamma, beta, lo, hi, dim, eps, y, mean, rstd)
	})
}

// layerNormChunk is the fewest rows worth a worker of their own.
func layerNormChunk(dim int) int { return max(1, 16384/max(1, dim)) }

// layerNormRows is LayerNorm for rows [lo, hi).
func layerNormRows[F Float](x, gamma, beta []F, lo, hi, dim int, eps float64, y, mean, rstd []F) {
	for r := lo; r < hi; r++ {
		xr := x[r*dim : (r+1)*dim]
		yr := y[r*dim : (r+1)*dim]
		var s float64
		for _, v := range xr {
			s += float64(v)
		}
		mu := s / float64(dim)
		var ss float64
		for _, v := range xr {
			d := float64(v) - mu
			ss += d * d
		}
		rs := 1 / math.Sqrt(ss/float64(dim)+eps)
		mean[r], rstd[r] = F(mu), F(rs)
		m, is := F(mu), F(rs)
		for j, v := range xr {
			yr[j] = (v-m)*is*gamma[j] + beta[j]
		}
	}
}

// LayerNormBackward takes dy, the gradient with respect to the output of
// the LayerNorm call that left mean and rstd, writes the gradient with
// respect to x into dx and adds those with respect to gamma and beta into
// dgamma and dbeta. With x̂ = (x - mean)·rstd and g = dy·gamma,
// dx = rstd·(g - mean(g) - x̂·mean(g·x̂)) per row. dx may be dy. Blocks of
// rows are spread over the workers, each summing its own share of dgamma
// and dbeta, which are then added in the order of the blocks.
func LayerNormBackward[F Float](dy, x, gamma, mean, rstd []F, rows, dim int, dx, dgamma, dbeta []F) {
	w := min(runtime.GOMAXPROCS(0), max(1, rows/layerNormChunk(dim)))
	if w <= 1 {
		layerNormBackwardRows(dy, x, gamma, mean, rstd, 0, rows, dim, dx, dgamma, dbeta)
		return
	}
	chunk := (rows + w - 1) / w
	part := make([]F, 2*dim*w)
	var wg sync.WaitGroup
	for c := 0; c*chunk < rows; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			dg, db := part[2*c*dim:(2*c+1)*dim], part[(2*c+1)*dim:(2*c+2)*dim]
			layerNormBackwardRows(dy, x, gamma, mean, rstd, c*chunk, min(rows, (c+1)*chunk), dim, dx, dg, db)
		}(c)
	}
	wg.Wait()
	for c := 0; c*chunk < rows; c++ {
		for j := 0; j < dim; j++ {
			dgamma[j] += part[2*c*dim+j]
			dbeta[j] += part[(2*c+1)*dim+j]
		}
	}
}

// layerNormBackwardRows is LayerNormBackward for rows [lo, hi).
func layerNormBackwardRows[F Float](dy, x, gamma, mean, rstd []F, lo, hi, dim int, dx, dgamma, dbeta []F) {
	for r := lo; r < hi; r++ {
		xr := x[r*dim : (r+1)*dim]
		dyr := dy[r*dim : (r+1)*dim]
		dxr := dx[r*dim : (r+1)*dim]
		m, is := mean[r], rstd[r]
		var sg, sgx float64
		for j, v := range xr {
			xh := (v - m) * is
			g := dyr[j] * gamma[j]
			sg += float64(g)
			sgx += float64(g * xh)
			dgamma[j] += dyr[j] * xh
			dbeta[j] += dyr[j]
		}
		mg, mgx := F(sg/float64(dim)), F(sgx/float64(dim))
		for j, v := range xr {
			xh := (v - m) * is
			dxr[j] = is * (dyr[j]*gamma[j] - mg - xh*mgx)
		}
	}
}
