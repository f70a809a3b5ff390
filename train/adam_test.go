package train

import (
	"errors"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/classify/classify/layers"
	"gorgonia.org/tensor"
)

// adamGrads are the gradients fed to the optimizer in the golden runs, one
// pair (w1 [2,3], w2 [2]) per step.
var adamGrads = [][2][]float64{
	{{0.1, -0.2, 0.3, 0.0, 1.5, -0.05}, {2.0, -0.5}},
	{{-0.4, 0.25, 0.3, 1.0, -1.0, 0.0}, {0.125, 3.0}},
	{{0.01, 0.02, -0.03, 0.5, 0.5, 0.5}, {-0.75, 0.0}},
	{{8.0, -6.0, 0.0, 0.0, 0.0, 4.0}, {1.0, -2.0}},
}

// The golden weights below were made with PyTorch 1.13 (Debian's
// python3-torch): w1 = [[0.5,-0.25,1],[0,2,-1.5]], w2 = [0.1,-0.3] as
// tensors of the named dtype, torch.optim.Adam([w1, w2], lr, betas, eps),
// and for each step the gradients of adamGrads assigned to .grad, then
// torch.nn.utils.clip_grad_norm_([w1, w2], clip) when clip > 0, then
// opt.step(); the weights are printed after every step with float(x).
var adamGoldens = []struct {
	name            string
	dtype           tensor.Dtype
	lr, b1, b2, eps float64
	clip            float64
	w1, w2          [][]float64 // after each step
	m1, v1          []float64   // w1's exp_avg and exp_avg_sq after the last step
	tol             float64
}{
	{
		name: "float32 defaults", dtype: tensor.Float32, lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-7,
		w1: [][]float64{
			{0.49900001287460327, -0.24899999797344208, 0.9990000128746033, 0.0, 1.9989999532699585, -1.4989999532699585},
			{0.49955952167510986, -0.2491627335548401, 0.9980000257492065, -0.0007441366906277835, 1.998855471611023, -1.4983298778533936},
			{0.49997639656066895, -0.2493281364440918, 0.9972740411758423, -0.0015443777665495872, 1.9985769987106323, -1.4989140033721924},
			{0.4994136095046997, -0.2487550526857376, 0.9966793656349182, -0.0021998865995556116, 1.9983488321304321, -1.499550223350525},
		},
		w2: [][]float64{
			{0.0989999994635582, -0.2990000247955322},
			{0.09828480333089828, -0.29962393641471863},
			{0.0979912132024765, -0.3001062273979187},
			{0.09752706438302994, -0.3001166880130768},
		},
		m1:  []float64{0.7757900357246399, -0.5925300121307373, 0.043469998985528946, 0.12600000202655792, 0.07335000485181808, 0.44135499000549316},
		v1:  []float64{0.0641697496175766, 0.03610265627503395, 0.00018044948228634894, 0.00124775106087327, 0.003491007722914219, 0.016252243891358376},
		tol: 2e-7,
	},
	{
		name: "float32 clip 1", dtype: tensor.Float32, lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-7, clip: 1,
		w1: [][]float64{
			{0.49900001287460327, -0.24899999797344208, 0.9990000128746033, 0.0, 1.9989999532699585, -1.4989999532699585},
			{0.4994995892047882, -0.24903075397014618, 0.9980155825614929, -0.0007441364577971399, 1.9987417459487915, -1.4983298778533936},
			{0.49984031915664673, -0.24915671348571777, 0.9973788261413574, -0.0015959030715748668, 1.9982209205627441, -1.4989451169967651},
			{0.49931496381759644, -0.24860695004463196, 0.996857225894928, -0.002293618395924568, 1.997794270515442, -1.4997042417526245},
		},
		w2: [][]float64{
			{0.0989999994635582, -0.2990000247955322},
			{0.09829511493444443, -0.2995847165584564},
			{0.09829027950763702, -0.3000366985797882},
			{0.09823447465896606, -0.30028605461120605},
		},
		m1:  []float64{0.06671452522277832, -0.05261566489934921, 0.013349942862987518, 0.06332436203956604, 0.05762017145752907, 0.0742076188325882},
		v1:  []float64{0.0005445984425023198, 0.00030933471862226725, 2.2121737856650725e-05, 0.00027818200760520995, 0.0006158945034258068, 0.0003226892731618136},
		tol: 2e-7,
	},
	{
		name: "float64 lr .1 betas .8 .99 eps 1e-8", dtype: tensor.Float64, lr: 0.1, b1: 0.8, b2: 0.99, eps: 1e-8,
		w1: [][]float64{
			{0.400000009999999, -0.15000000499999977, 0.9000000033333332, 0.0, 1.9000000006666666, -1.400000019999996},
			{0.4608425459128974, -0.17207413786842135, 0.8000000066666664, -0.07837075433703274, 1.8912752926856973, -1.3369875796033692},
			{0.5031958649990319, -0.19247250593715615, 0.7327399965501487, -0.16082788393191447, 1.8661604277993755, -1.4027766341455157},
			{0.43769124836475737, -0.1261458177168283, 0.681254209913815, -0.22394667012558428, 1.8469356524964022, -1.4757470039594485},
		},
		w2: [][]float64{
			{4.999999997368221e-10, -0.20000000199999995},
			{-0.06780167449872114, -0.26700623590899153},
			{-0.08878183125357371, -0.3155607122635869},
			{-0.1320898680789235, -0.30930950833436965},
		},
		m1:  []float64{1.5606399999999996, -1.1852799999999997, 0.06431999999999997, 0.20799999999999996, 0.10559999999999999, 0.8748799999999998},
		v1:  []float64{0.6416661799000005, 0.36100464210000033, 0.0017642691000000015, 0.01227600000000001, 0.034107727500000025, 0.16249925747500016},
		tol: 1e-14,
	},
}

// newTestParam makes a trainable parameter of the given dtype and shape.
func newTestParam(name string, dtype tensor.Dtype, values []float64, shape ...int) *layers.Param {
	var backing any
	if dtype == tensor.Float32 {
		b := make([]float32, len(values))
		for i, x := range values {
			b[i] = float32(x)
		}
		backing = b
	} else {
		backing = append([]float64(nil), values...)
	}
	return layers.NewParam(name, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(backing)), true)
}

func setFloats(t *tensor.Dense, xs []float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i, x := range xs {
			d[i] = float32(x)
		}
	case []float64:
		copy(d, xs)
	}
}

func mustFloats(t *testing.T, d *tensor.Dense) []float64 {
	t.Helper()
	xs, err := floats(d)
	if err != nil {
		t.Fatal(err)
	}
	return xs
}

func closeTo(got, want []float64, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
			return false
		}
	}
	return true
}

func TestAdamMatchesPyTorch(t *testing.T) {
	for _, tc := range adamGoldens {
		t.Run(tc.name, func(t *testing.T) {
			w1 := newTestParam("w1", tc.dtype, []float64{0.5, -0.25, 1, 0, 2, -1.5}, 2, 3)
			w2 := newTestParam("w2", tc.dtype, []float64{0.1, -0.3}, 2)
			frozen := layers.NewParam("frozen", tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{7})), false)
			opt, err := NewAdam([]*layers.Param{w1, frozen, w2},
				WithLearningRate(tc.lr), WithBetas(tc.b1, tc.b2), WithEpsilon(tc.eps), WithClipNorm(tc.clip))
			if err != nil {
				t.Fatal(err)
			}
			for step, g := range adamGrads {
				setFloats(w1.Grad, g[0])
				setFloats(w2.Grad, g[1])
				if _, err := opt.Step(); err != nil {
					t.Fatalf("step %d: %v", step+1, err)
				}
				if got := mustFloats(t, w1.Value); !closeTo(got, tc.w1[step], tc.tol) {
					t.Errorf("step %d: w1 = %v, want %v", step+1, got, tc.w1[step])
				}
				if got := mustFloats(t, w2.Value); !closeTo(got, tc.w2[step], tc.tol) {
					t.Errorf("step %d: w2 = %v, want %v", step+1, got, tc.w2[step])
				}
			}
			s := opt.State()
			if got := mustFloats(t, s["w1.exp_avg"]); !closeTo(got, tc.m1, tc.tol) {
				t.Errorf("w1.exp_avg = %v, want %v", got, tc.m1)
			}
			if got := mustFloats(t, s["w1.exp_avg_sq"]); !closeTo(got, tc.v1, tc.tol) {
				t.Errorf("w1.exp_avg_sq = %v, want %v", got, tc.v1)
			}
			if got := mustFloats(t, s["step"]); got[0] != 4 {
				t.Errorf("step = %v, want 4", got[0])
			}
			if got := frozen.Value.Data().([]float32)[0]; got != 7 {
				t.Errorf("frozen parameter = %v, want 7 (untouched)", got)
			}
		})
	}
}

// TestAdamFirstStep checks the first step by hand: with m and v at zero the
// bias corrections cancel and every weight moves by lr*g/(|g|+eps/(1)),
// nearly lr against the sign of its gradient.
func TestAdamFirstStep(t *testing.T) {
	for _, g := range []float64{3, -0.5, 1e-3, 0} {
		p := newTestParam("w", tensor.Float64, []float64{1}, 1)
		opt, err := NewAdam([]*layers.Param{p}, WithLearningRate(0.01))
		if err != nil {
			t.Fatal(err)
		}
		setFloats(p.Grad, []float64{g})
		if _, err := opt.Step(); err != nil {
			t.Fatal(err)
		}
		want := 1 - 0.01*g/(math.Abs(g)+1e-7)
		if got := p.Value.Data().([]float64)[0]; math.Abs(got-want) > 1e-15 {
			t.Errorf("g=%v: w = %v, want %v", g, got, want)
		}
	}
}

func TestAdamGradNormAndClip(t *testing.T) {
	a := newTestParam("a", tensor.Float32, []float64{0, 0}, 2)
	b := newTestParam("b", tensor.Float64, []float64{0}, 1)
	setFloats(a.Grad, []float64{3, 0})
	setFloats(b.Grad, []float64{-4})
	// With b1 = b2 = 0 a step is w -= lr*g'/(|g'|+eps) for the clipped g',
	// so a large eps shows the clipped gradient: the norm 5 scaled to 1
	// gives g' = (0.6, 0, -0.8), and with eps = 1 the steps are
	// g'/(|g'|+1).
	opt, err := NewAdam([]*layers.Param{a, b}, WithLearningRate(1), WithBetas(0, 0), WithEpsilon(1), WithClipNorm(1))
	if err != nil {
		t.Fatal(err)
	}
	if got := opt.GradNorm(); got != 5 {
		t.Errorf("GradNorm() = %v, want 5", got)
	}
	norm, err := opt.Step()
	if err != nil || norm != 5 {
		t.Fatalf("Step() = %v, %v, want 5, nil", norm, err)
	}
	c := 1 / (5 + 1e-6) // clip_grad_norm_'s coefficient
	ga, gb := 3*c, -4*c
	wantA := []float64{-ga / (ga + 1), 0}
	wantB := []float64{-gb / (-gb + 1)}
	if got := mustFloats(t, a.Value); !closeTo(got, wantA, 1e-7) {
		t.Errorf("a = %v, want %v", got, wantA)
	}
	if got := mustFloats(t, b.Value); !closeTo(got, wantB, 1e-15) {
		t.Errorf("b = %v, want %v", got, wantB)
	}
	// A norm under the limit is not scaled.
	setFloats(a.Grad, []float64{0.3, 0})
	setFloats(b.Grad, []float64{0.4})
	before := mustFloats(t, b.Value)[0]
	if _, err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	if got, want := mustFloats(t, b.Value)[0]-before, -0.4/1.4; math.Abs(got-want) > 1e-15 {
		t.Errorf("unclipped step of b = %v, want %v", got, want)
	}
}

func TestAdamRefusesNonFinite(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		p := newTestParam("w", tensor.Float32, []float64{1, 2}, 2)
		opt, err := NewAdam([]*layers.Param{p})
		if err != nil {
			t.Fatal(err)
		}
		setFloats(p.Grad, []float64{0.5, bad})
		_, err = opt.Step()
		if !errors.Is(err, ErrNonFinite) {
			t.Errorf("Step() with gradient %v: error %v, want ErrNonFinite", bad, err)
		}
		if got := mustFloats(t, p.Value); got[0] != 1 || got[1] != 2 {
			t.Errorf("weights after a refused step = %v, want [1 2]", got)
		}
		if opt.Steps() != 0 {
			t.Errorf("Steps() = %d after a refused step, want 0", opt.Steps())
		}
	}
}

func TestAdamStateRoundTrip(t *testing.T) {
	newRun := func() (*Adam, *layers.Param, *layers.Param) {
		w1 := newTestParam("w1", tensor.Float32, []float64{0.5, -0.25, 1, 0, 2, -1.5}, 2, 3)
		w2 := newTestParam("w2", tensor.Float32, []float64{0.1, -0.3}, 2)
		opt, err := NewAdam([]*layers.Param{w1, w2})
		if err != nil {
			t.Fatal(err)
		}
		return opt, w1, w2
	}
	step := func(opt *Adam, w1, w2 *layers.Param, g [2][]float64) {
		setFloats(w1.Grad, g[0])
		setFloats(w2.Grad, g[1])
		if _, err := opt.Step(); err != nil {
			t.Fatal(err)
		}
	}
	// One run takes all four steps; another takes two, hands its state and
	// weights to a fresh optimizer (in the other parameter order), which
	// takes the last two. They must agree to the bit.
	full, f1, f2 := newRun()
	for _, g := range adamGrads {
		step(full, f1, f2, g)
	}
	half, h1, h2 := newRun()
	step(half, h1, h2, adamGrads[0])
	step(half, h1, h2, adamGrads[1])
	state := half.State()
	r1 := newTestParam("w1", tensor.Float32, mustFloats(t, h1.Value), 2, 3)
	r2 := newTestParam("w2", tensor.Float32, mustFloats(t, h2.Value), 2)
	resumed, err := NewAdam([]*layers.Param{r2, r1})
	if err != nil {
		t.Fatal(err)
	}
	if err := resumed.SetState(state); err != nil {
		t.Fatal(err)
	}
	step(resumed, r1, r2, adamGrads[2])
	step(resumed, r1, r2, adamGrads[3])
	if got, want := mustFloats(t, r1.Value), mustFloats(t, f1.Value); !closeTo(got, want, 0) {
		t.Errorf("resumed w1 = %v, want %v", got, want)
	}
	if got, want := mustFloats(t, r2.Value), mustFloats(t, f2.Value); !closeTo(got, want, 0) {
		t.Errorf("resumed w2 = %v, want %v", got, want)
	}
}

func TestAdamSetStateErrors(t *testing.T) {
	w := newTestParam("w", tensor.Float32, []float64{1, 2}, 2)
	good := func() map[string]*tensor.Dense {
		return map[string]*tensor.Dense{
			"step":         tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{3})),
			"w.exp_avg":    tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{1, 2})),
			"w.exp_avg_sq": tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{3, 4})),
		}
	}
	tests := []struct {
		name   string
		change func(map[string]*tensor.Dense)
	}{
		{"no step", func(s map[string]*tensor.Dense) { delete(s, "step") }},
		{"fractional step", func(s map[string]*tensor.Dense) {
			s["step"] = tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{2.5}))
		}},
		{"negative step", func(s map[string]*tensor.Dense) {
			s["step"] = tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{-1}))
		}},
		{"missing moment", func(s map[string]*tensor.Dense) { delete(s, "w.exp_avg_sq") }},
		{"wrong shape", func(s map[string]*tensor.Dense) {
			s["w.exp_avg"] = tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, 2, 3}))
		}},
		{"unknown tensor", func(s map[string]*tensor.Dense) {
			s["v.exp_avg"] = tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{1, 2}))
		}},
		{"integer tensor", func(s map[string]*tensor.Dense) {
			s["w.exp_avg"] = tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{1, 2}))
		}},
	}
	for _, tc := range tests {
		opt, err := NewAdam([]*layers.Param{w})
		if err != nil {
			t.Fatal(err)
		}
		s := good()
		tc.change(s)
		if err := opt.SetState(s); err == nil {
			t.Errorf("%s: SetState succeeded, want an error", tc.name)
		}
		if opt.Steps() != 0 {
			t.Errorf("%s: Steps() = %d after a failed SetState, want 0", tc.name, opt.Steps())
		}
	}
	opt, _ := NewAdam([]*layers.Param{w})
	if err := opt.SetState(good()); err != nil || opt.Steps() != 3 {
		t.Errorf("SetState(good) = %v with Steps() = %d, want nil and 3", err, opt.Steps())
	}
}

func TestNewAdamErrors(t *testing.T) {
	w := newTestParam("w", tensor.Float32, []float64{1}, 1)
	tests := []struct {
		name   string
		params []*layers.Param
		opts   []AdamOption
	}{
		{"zero lr", []*layers.Param{w}, []AdamOption{WithLearningRate(0)}},
		{"NaN lr", []*layers.Param{w}, []AdamOption{WithLearningRate(math.NaN())}},
		{"beta 1", []*layers.Param{w}, []AdamOption{WithBetas(1, 0.999)}},
		{"negative eps", []*layers.Param{w}, []AdamOption{WithEpsilon(-1)}},
		{"negative clip", []*layers.Param{w}, []AdamOption{WithClipNorm(-1)}},
		{"duplicate name", []*layers.Param{w, newTestParam("w", tensor.Float32, []float64{1}, 1)}, nil},
		{"no grad", []*layers.Param{{Name: "x", Value: w.Value, Trainable: true}}, nil},
	}
	for _, tc := range tests {
		if _, err := NewAdam(tc.params, tc.opts...); err == nil {
			t.Errorf("NewAdam(%s) succeeded, want an error", tc.name)
		}
	}
}

func BenchmarkAdamStep(b *testing.B) {
	// About the trainable size of the reference model's BiLSTM(128) on
	// 100-dimensional embeddings.
	const n = 2 * 4 * 128 * (100 + 128 + 1)
	p := newTestParam("w", tensor.Float32, make([]float64, n), n)
	setFloats(p.Grad, make([]float64, n))
	opt, err := NewAdam([]*layers.Param{p})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(4 * n)
	for b.Loop() {
		if _, err := opt.Step(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAdamStep32SkipsUnusedWeights checks the skip of weights whose
// gradient and moments are zero against the plain step it replaces: the
// weights and moments come out bit for bit the same, over steps where
// some weights start to get gradients and others stop.
func TestAdamStep32SkipsUnusedWeights(t *testing.T) {
	plain := func(w, g, m, v []float32, scale, b1, omb1, b2, omb2, stepSize, bc2Sqrt, eps float32) {
		for j := range w {
			gj := g[j] * scale
			m[j] = b1*m[j] + omb1*gj
			v[j] = b2*v[j] + omb2*gj*gj
			w[j] -= stepSize * m[j] / (float32(math.Sqrt(float64(v[j])))/bc2Sqrt + eps)
		}
	}
	const n = 64
	rng := rand.New(rand.NewSource(5))
	w := make([]float32, n)
	for j := range w {
		w[j] = float32(rng.NormFloat64())
	}
	w2 := slices.Clone(w)
	m, v, m2, v2 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	g := make([]float32, n)
	for step := 1; step <= 6; step++ {
		for j := range g {
			// Weights 0-15 never get a gradient, 16-31 from step 3 on,
			// 32-47 only until step 2, the rest always.
			switch {
			case j < 16, j < 32 && step < 3, j < 48 && j >= 32 && step > 2:
				g[j] = 0
			default:
				g[j] = float32(rng.NormFloat64())
			}
		}
		b1, b2 := 0.9, 0.999
		stepSize := float32(0.01 / (1 - math.Pow(b1, float64(step))))
		bc2 := float32(math.Sqrt(1 - math.Pow(b2, float64(step))))
		adamStep32(w, g, m, v, 0.5, float32(b1), float32(1-b1), float32(b2), float32(1-b2), stepSize, bc2, 1e-8)
		plain(w2, g, m2, v2, 0.5, float32(b1), float32(1-b1), float32(b2), float32(1-b2), stepSize, bc2, 1e-8)
		for j := range w {
			if math.Float32bits(w[j]) != math.Float32bits(w2[j]) || m[j] != m2[j] || v[j] != v2[j] {
				t.Fatalf("step %d, weight %d: w %v m %v v %v, the plain step gives %v %v %v", step, j, w[j], m[j], v[j], w2[j], m2[j], v2[j])
			}
		}
	}
}
