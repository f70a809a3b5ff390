package layers

import "math"

// ALiBi is the `alibi` position scheme (Press, Smith & Lewis 2022, "Train
// Short, Test Long"): no position vectors at all, but a bias on every
// attention logit that grows linearly with the distance between query i
// and key j, bias_h(i, j) = -m_h·|i - j|, one slope m_h per head. The
// paper's decoder sees only j <= i; an encoder sees both sides, so the
// distance is symmetric, as in bidirectional ALiBi models (MosaicBERT).
// Give it to a MultiHeadAttention (WithALiBi); it has no parameters.
type ALiBi struct {
	// Heads is the number of attention heads, one slope each.
	Heads int
}

// NewALiBi makes the ALiBi biases of heads heads.
func NewALiBi(heads int) *ALiBi { return &ALiBi{Heads: heads} }

// Slopes returns the heads' slopes, the paper's geometric sequence: for n
// heads, a power of two, m_h = 2^(-8h/n) for h = 1..n; otherwise the
// slopes of the largest power of two c below n followed by every other
// slope of 2c, as the paper's reference code does.
func (a *ALiBi) Slopes() []float64 { return alibiSlopes(a.Heads) }

func alibiSlopes(n int) []float64 {
	if n <= 0 {
		return nil
	}
	pow2 := func(n int) []float64 {
		s := make([]float64, n)
		for h := range s {
			s[h] = math.Pow(2, -8*float64(h+1)/float64(n))
		}
		return s
	}
	c := 1 << int(math.Floor(math.Log2(float64(n))))
	if c == n {
		return pow2(n)
	}
	s := pow2(c)
	for i, v := range alibiSlopes(2 * c) {
		if i%2 == 0 && len(s) < n {
			s = append(s, v)
		}
	}
	return s
}

// Bias returns the [Heads, t, t] biases, row-major: element (h, i, j) is
// -Slopes()[h]·|i - j|.
func (a *ALiBi) Bias(t int) []float64 {
	slopes := a.Slopes()
	b := make([]float64, len(slopes)*t*t)
	for h, m := range slopes {
		for i := 0; i < t; i++ {
			for j := 0; j < t; j++ {
				b[(h*t+i)*t+j] = -m * math.Abs(float64(i-j))
			}
		}
	}
	return b
}
