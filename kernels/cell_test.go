package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// One cell step, forward and backward, in float32 on every level against
// the formulas in float64, for widths around the 8 and 16 lanes, and in
// place (c = cPrev) as Infer runs it.
func TestCellMatchesFormulas(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	forEachSIMD(t, func(t *testing.T) {
		for _, H := range []int{1, 7, 15, 16, 17, 40, 128} {
			for _, inPlace := range []bool{false, true} {
				t.Run(fmt.Sprintf("H%d/inPlace=%v", H, inPlace), func(t *testing.T) {
					r := func(n int, scale float64) []float64 {
						s := make([]float64, n)
						for i := range s {
							s[i] = scale * (2*rng.Float64() - 1)
						}
						return s
					}
					z, bias, cPrev := r(4*H, 6), r(4*H, 1), r(H, 3)
					d, dh, dc := r(H, 1), r(H, 1), r(H, 1)
					sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
					gates := make([]float64, 4*H)
					wantC, wantT, wantH := make([]float64, H), make([]float64, H), make([]float64, H)
					wantDz, wantDc := make([]float64, 4*H), make([]float64, H)
					for j := 0; j < H; j++ {
						i, f := sig(z[j]+bias[j]), sig(z[H+j]+bias[H+j])
						g, o := math.Tanh(z[2*H+j]+bias[2*H+j]), sig(z[3*H+j]+bias[3*H+j])
						gates[j], gates[H+j], gates[2*H+j], gates[3*H+j] = i, f, g, o
						c := f*cPrev[j] + i*g
						wantC[j], wantT[j], wantH[j] = c, math.Tanh(c), o*math.Tanh(c)
						dhj := dh[j] + d[j]
						dcj := dc[j] + dhj*o*(1-wantT[j]*wantT[j])
						wantDz[j] = dcj * g * i * (1 - i)
						wantDz[H+j] = dcj * cPrev[j] * f * (1 - f)
						wantDz[2*H+j] = dcj * i * (1 - g*g)
						wantDz[3*H+j] = dhj * wantT[j] * o * (1 - o)
						wantDc[j] = dcj * f
					}
					z32, cp32 := convert[float32](z), convert[float32](cPrev)
					c32, tc32, h32 := make([]float32, H), make([]float32, H), make([]float32, H)
					if inPlace {
						c32 = cp32
					}
					cellForward32(z32, convert[float32](bias), cp32, c32, tc32, h32, make([]float32, H))
					compare(t, "gates", back32(z32), gates, 3e-7)
					compare(t, "c", back32(c32), wantC, 1e-6)
					compare(t, "tanh c", back32(tc32), wantT, 1e-6)
					compare(t, "h", back32(h32), wantH, 1e-6)
					if inPlace {
						return // cPrev is gone
					}
					// Backward from the gate values the forward pass left,
					// against the formulas on those same values.
					dh32, dc32 := convert[float32](dh), convert[float32](dc)
					db := r(4*H, 1)
					db32 := convert[float32](db)
					cellBackward(z32, convert[float32](d), dh32, dc32, cp32, tc32, db32)
					compare(t, "dz", back32(z32), wantDz, 1e-5)
					for j := range db {
						db[j] += wantDz[j]
					}
					compare(t, "db", back32(db32), db, 1e-5)
					compare(t, "dc", back32(dc32), wantDc, 1e-5)
					compare(t, "dh", back32(dh32), make([]float64, H), 0)
				})
			}
		}
	})
}

func back32(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}
