package train

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/classify/classify/layers"
	"gorgonia.org/tensor"
)

// Names of the optimizer state in the maps that Adam.State gives and
// Adam.SetState takes, the keys of torch.optim.Adam's state_dict: the step
// count under StepKey, and for each parameter p the first and second moment
// estimates under p.Name+ExpAvgSuffix and p.Name+ExpAvgSqSuffix.
const (
	StepKey        = "step"
	ExpAvgSuffix   = ".exp_avg"
	ExpAvgSqSuffix = ".exp_avg_sq"
)

// ErrNonFinite is wrapped by the errors of a step refused because the loss
// or a gradient is NaN or infinite.
var ErrNonFinite = errors.New("not finite")

// Adam is the Adam optimizer as torch.optim.Adam computes it (Kingma & Ba
// 2015, without weight decay or AMSGrad):
//
//	m = b1*m + (1-b1)*g
//	v = b2*v + (1-b2)*g^2
//	w -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
//
// with an optional clip of the global gradient norm before the step, as
// torch.nn.utils.clip_grad_norm_. It keeps one pair of moments per
// trainable parameter, keyed by the parameter itself, so the order of the
// parameters never mixes their state up (Gorgonia's AdamSolver keys it by
// position). Float32 and float64 parameters are supported; the moments have
// the parameter's element type and the arithmetic is done in float64.
type Adam struct {
	// LR is the learning rate, Beta1 and Beta2 the decay rates of the
	// moment estimates, Eps the term that keeps the denominator off zero.
	LR, Beta1, Beta2, Eps float64
	// ClipNorm, when positive, scales the gradients so that their global
	// L2 norm is at most ClipNorm before each step.
	ClipNorm float64

	params []*layers.Param
	m, v   []*tensor.Dense
	step   int
}

// AdamOption sets one of Adam's hyperparameters in NewAdam.
type AdamOption func(*Adam)

// WithLearningRate sets the learning rate (default 1e-3).
func WithLearningRate(lr float64) AdamOption { return func(a *Adam) { a.LR = lr } }

// WithBetas sets the decay rates of the first and second moment estimates
// (defaults 0.9 and 0.999).
func WithBetas(beta1, beta2 float64) AdamOption {
	return func(a *Adam) { a.Beta1, a.Beta2 = beta1, beta2 }
}

// WithEpsilon sets the term added to the denominator (default 1e-7, Keras's
// default; PyTorch's is 1e-8).
func WithEpsilon(eps float64) AdamOption { return func(a *Adam) { a.Eps = eps } }

// WithClipNorm clips the global gradient norm to maxNorm before each step;
// 0 (the default) does not clip.
func WithClipNorm(maxNorm float64) AdamOption { return func(a *Adam) { a.ClipNorm = maxNorm } }

// NewAdam makes an Adam optimizer over the trainable parameters among
// params, in their order; frozen ones are left out and never changed. The
// moments start at zero.
func NewAdam(params []*layers.Param, opts ...AdamOption) (*Adam, error) {
	a := &Adam{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-7}
	for _, o := range opts {
		o(a)
	}
	switch {
	case !(a.LR > 0) || math.IsInf(a.LR, 0):
		return nil, fmt.Errorf("adam: learning rate %v, want > 0", a.LR)
	case !(a.Beta1 >= 0 && a.Beta1 < 1) || !(a.Beta2 >= 0 && a.Beta2 < 1):
		return nil, fmt.Errorf("adam: betas (%v, %v), want each in [0, 1)", a.Beta1, a.Beta2)
	case !(a.Eps >= 0):
		return nil, fmt.Errorf("adam: epsilon %v, want >= 0", a.Eps)
	case !(a.ClipNorm >= 0) || math.IsInf(a.ClipNorm, 0):
		return nil, fmt.Errorf("adam: clip norm %v, want >= 0", a.ClipNorm)
	}
	seen := map[string]bool{}
	for _, p := range params {
		if !p.Trainable {
			continue
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("adam: two trainable parameters named %q", p.Name)
		}
		seen[p.Name] = true
		dt := p.Value.Dtype()
		if dt != tensor.Float32 && dt != tensor.Float64 {
			return nil, fmt.Errorf("adam: parameter %q has element type %v, want float32 or float64", p.Name, dt)
		}
		if p.Grad == nil || !p.Grad.Shape().Eq(p.Value.Shape()) || p.Grad.Dtype() != dt {
			return nil, fmt.Errorf("adam: parameter %q has no gradient buffer of its shape and type", p.Name)
		}
		a.params = append(a.params, p)
		a.m = append(a.m, zerosLike(p.Value))
		a.v = append(a.v, zerosLike(p.Value))
	}
	return a, nil
}

// Params lists the parameters the optimizer updates, in order.
func (a *Adam) Params() []*layers.Param { return a.params }

// Steps is the number of steps taken so far, t in the formula.
func (a *Adam) Steps() int { return a.step }

// GradNorm returns the global L2 norm of the gradients, the square root of
// the sum of every gradient element squared, summed in float64. A parameter
// with Copies counts once per copy, as PyTorch's norm counts each tensor.
func (a *Adam) GradNorm() float64 {
	var sum float64
	for _, p := range a.params {
		var ps float64
		switch g := p.Grad.Data().(type) {
		case []float32:
			for _, x := range g {
				ps += float64(x) * float64(x)
			}
		case []float64:
			for _, x := range g {
				ps += x * x
			}
		}
		sum += float64(p.CopyCount()) * ps
	}
	return math.Sqrt(sum)
}

// Step updates every parameter from its Grad, which must hold this step's
// gradient (Step neither zeroes nor accumulates it), and returns the
// gradient norm before clipping. If a gradient holds NaN or an infinity it changes
// nothing, neither weights nor moments nor the step count, and returns an
// error wrapping ErrNonFinite.
func (a *Adam) Step() (gradNorm float64, err error) {
	norm := a.GradNorm()
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm, fmt.Errorf("adam: gradient norm is %v: %w", norm, ErrNonFinite)
	}
	scale := 1.0
	if a.ClipNorm > 0 {
		// clip_grad_norm_: coefficient max_norm/(norm+1e-6), capped at 1.
		if c := a.ClipNorm / (norm + 1e-6); c < 1 {
			scale = c
		}
	}
	a.step++
	t := float64(a.step)
	stepSize := a.LR / (1 - math.Pow(a.Beta1, t))
	bc2Sqrt := math.Sqrt(1 - math.Pow(a.Beta2, t))
	b1, b2, eps := a.Beta1, a.Beta2, a.Eps
	for i, p := range a.params {
		// Each of PyTorch's copies takes the same step: their sum moves
		// CopyCount times as far.
		stepSize := stepSize * float64(p.CopyCount())
		switch w := p.Value.Data().(type) {
		case []float32:
			g := p.Grad.Data().([]float32)
			m := a.m[i].Data().([]float32)
			v := a.v[i].Data().([]float32)
			adamStep32(w, g, m, v, float32(scale), float32(b1), float32(1-b1), float32(b2), float32(1-b2),
				float32(stepSize), float32(bc2Sqrt), float32(eps))
		case []float64:
			g := p.Grad.Data().([]float64)
			m := a.m[i].Data().([]float64)
			v := a.v[i].Data().([]float64)
			for j := range w {
				gj := g[j] * scale
				m[j] = b1*m[j] + (1-b1)*gj
				v[j] = b2*v[j] + (1-b2)*gj*gj
				w[j] -= stepSize * m[j] / (math.Sqrt(v[j])/bc2Sqrt + eps)
			}
		}
	}
	return norm, nil
}

// State returns copies of the optimizer's state for a checkpoint: the step
// count under StepKey as a float32 tensor of shape [1] (torch keeps it as a
// float32 tensor too), and each parameter's moments under its name with the
// suffixes ExpAvgSuffix and ExpAvgSqSuffix, in the parameter's element type.
func (a *Adam) State() map[string]*tensor.Dense {
	s := map[string]*tensor.Dense{
		StepKey: tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{float32(a.step)})),
	}
	for i, p := range a.params {
		s[p.Name+ExpAvgSuffix] = a.m[i].Clone().(*tensor.Dense)
		s[p.Name+ExpAvgSqSuffix] = a.v[i].Clone().(*tensor.Dense)
	}
	return s
}

// SetState restores a state that State gave, as a checkpoint read it back.
// Every key must be there with the shape of its parameter and no other key
// may be; the values are converted to the parameters' element types. On an
// error the optimizer is left as it was.
func (a *Adam) SetState(s map[string]*tensor.Dense) error {
	st, ok := s[StepKey]
	if !ok {
		return fmt.Errorf("adam state: no %q", StepKey)
	}
	steps, err := floats(st)
	if err != nil || len(steps) != 1 {
		return fmt.Errorf("adam state: %q must hold one number", StepKey)
	}
	step := steps[0]
	if !(step >= 0) || step != math.Trunc(step) || step > 1<<24 {
		return fmt.Errorf("adam state: %q is %v, want a whole number of steps", StepKey, step)
	}
	want := map[string]bool{StepKey: true}
	m := make([]*tensor.Dense, len(a.params))
	v := make([]*tensor.Dense, len(a.params))
	for i, p := range a.params {
		for _, e := range []struct {
			suffix string
			dst    []*tensor.Dense
		}{{ExpAvgSuffix, m}, {ExpAvgSqSuffix, v}} {
			key := p.Name + e.suffix
			want[key] = true
			t, ok := s[key]
			if !ok {
				return fmt.Errorf("adam state: no %q", key)
			}
			if !t.Shape().Eq(p.Value.Shape()) {
				return fmt.Errorf("adam state: %q has shape %v, want %v", key, t.Shape(), p.Value.Shape())
			}
			xs, err := floats(t)
			if err != nil {
				return fmt.Errorf("adam state: %q: %v", key, err)
			}
			d := zerosLike(p.Value)
			switch dd := d.Data().(type) {
			case []float32:
				for j, x := range xs {
					dd[j] = float32(x)
				}
			case []float64:
				copy(dd, xs)
			}
			e.dst[i] = d
		}
	}
	var extra []string
	for k := range s {
		if !want[k] {
			extra = append(extra, fmt.Sprintf("%q", k))
		}
	}
	if len(extra) > 0 {
		return fmt.Errorf("adam state: unknown tensors %s", strings.Join(extra, ", "))
	}
	a.m, a.v, a.step = m, v, int(step)
	return nil
}

func zerosLike(t *tensor.Dense) *tensor.Dense {
	return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.Of(t.Dtype()))
}

// floats returns a float32 or float64 tensor's values as float64s.
func floats(t *tensor.Dense) ([]float64, error) {
	switch d := t.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out, nil
	case []float64:
		return append([]float64(nil), d...), nil
	case float32:
		return []float64{float64(d)}, nil
	case float64:
		return []float64{d}, nil
	}
	return nil, fmt.Errorf("element type %v, want float32 or float64", t.Dtype())
}

// adamStep32 is one Adam step over float32 weights in float32 arithmetic,
// the element type torch.optim.Adam computes a float32 parameter in (its
// exp_avg, exp_avg_sq and denominator are float32 tensors). The factors
// 1-b1 and 1-b2 come rounded from float64, as PyTorch's Python scalars do.
//
// A weight whose gradient and both moments are zero would come out of the
// step as it went in (moments 0, update 0/(0+eps) = 0), so it is skipped:
// the rows of an embedding that no batch has used yet (words only the
// test texts hold, --vectors-vocab) cost a compare instead of a square
// root and a division.
func adamStep32(w, g, m, v []float32, scale, b1, oneMinusB1, b2, oneMinusB2, stepSize, bc2Sqrt, eps float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for j := range w {
		if g[j] == 0 && m[j] == 0 && v[j] == 0 {
			continue
		}
		gj := g[j] * scale
		mj := b1*m[j] + oneMinusB1*gj
		vj := b2*v[j] + oneMinusB2*gj*gj
		m[j], v[j] = mj, vj
		w[j] -= stepSize * mj / (float32(math.Sqrt(float64(vj)))/bc2Sqrt + eps)
	}
}
