package models

import (
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/classify/classify/data"
	"github.com/classify/classify/train"
)

// LabelScore is one label's probability.
type LabelScore struct {
	Label string  `json:"label"`
	Score float32 `json:"score"`
}

// Prediction is a model's answer for one text, in the shape of HF's
// text-classification pipeline (SPEC section 5, predict --json).
type Prediction struct {
	// Label is the predicted label's name; for a multi-label task the
	// predicted labels' names joined by commas ("" for none).
	Label string
	// Score is the predicted label's probability; for a multi-label task
	// the highest probability of any label.
	Score float32
	// Scores holds every label's probability, highest first (ties in
	// label order).
	Scores []LabelScore
	// Labels holds the predicted labels of a multi-label task, most
	// probable first; nil for single-label tasks.
	Labels []string
}

// MarshalJSON writes {"label", "score", "scores"} and, for a multi-label
// prediction, "labels" (an empty list when no label is predicted).
func (p Prediction) MarshalJSON() ([]byte, error) {
	type single struct {
		Label  string       `json:"label"`
		Score  float32      `json:"score"`
		Scores []LabelScore `json:"scores"`
	}
	if p.Labels == nil {
		return json.Marshal(single{p.Label, p.Score, p.Scores})
	}
	return json.Marshal(struct {
		single
		Labels []string `json:"labels"`
	}{single{p.Label, p.Score, p.Scores}, p.Labels})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Prediction) UnmarshalJSON(b []byte) error {
	var v struct {
		Label  string       `json:"label"`
		Score  float32      `json:"score"`
		Scores []LabelScore `json:"scores"`
		Labels []string     `json:"labels"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Prediction{Label: v.Label, Score: v.Score, Scores: v.Scores, Labels: v.Labels}
	return nil
}

// NewPrediction reads one row of logits with the head: every label's
// probability, and the label or labels the head's decision rule picks.
func NewPrediction(h train.Head, logits []float32) Prediction {
	names := h.Labels()
	probs := make([]float32, len(names))
	h.Probabilities(logits, probs)
	p := Prediction{Scores: make([]LabelScore, len(names))}
	for i, n := range names {
		p.Scores[i] = LabelScore{Label: n, Score: probs[i]}
	}
	sort.SliceStable(p.Scores, func(a, b int) bool { return p.Scores[a].Score > p.Scores[b].Score })
	chosen := h.Decide(logits, nil)
	if h.Task() != data.MultiLabel {
		p.Label, p.Score = names[chosen[0]], probs[chosen[0]]
		return p
	}
	sort.SliceStable(chosen, func(a, b int) bool { return probs[chosen[a]] > probs[chosen[b]] })
	p.Labels = make([]string, len(chosen))
	for i, c := range chosen {
		p.Labels[i] = names[c]
	}
	p.Label = strings.Join(p.Labels, ",")
	if len(p.Scores) > 0 {
		p.Score = p.Scores[0].Score
	}
	return p
}

// Predictor is a checkpoint loaded once for prediction. It is safe for
// concurrent use by many goroutines, and concurrent calls run at once:
// it keeps up to Replicas copies of the model (Gorgonia writes to a
// graph's weight tensors while it runs, so two runs cannot share them),
// each call taking a free one, made on first need. Calls that wait for a
// replica are scored together, as TF Serving's and Triton's dynamic
// batching do: a replica that comes free takes the waiting calls' texts,
// up to Coalesce of them, in one run, where sorting by length leaves
// less padding and the matrix products are larger. A call that finds a
// replica free waits for nothing, so a lone caller sees no change.
type Predictor struct {
	// Checkpoint is what was loaded; its Model is the first replica.
	Checkpoint *Checkpoint
	// Coalesce is the most texts of waiting calls one replica scores in
	// one run (DefaultCoalesce; 0 scores each call alone). A call with
	// more texts is scored alone. Set it before the predictor serves.
	Coalesce int

	mu       sync.Mutex
	free     chan Model
	made     int
	replicas int

	qmu   sync.Mutex
	queue []*predictCall // calls waiting to be scored, oldest first
}

// DefaultCoalesce is a Predictor's Coalesce: four batches of the
// 64 sequences a Sequential scores together.
const DefaultCoalesce = 4 * predictBatchSize

// predictCall is one Predict call's texts and, once done is closed, its
// answer.
type predictCall struct {
	texts []string
	out   []Prediction
	err   error
	taken bool // a replica has taken it from the queue; guarded by qmu
	done  chan struct{}
}

// LoadPredictor loads the checkpoint folder dir for prediction, with
// GOMAXPROCS replicas at most.
func LoadPredictor(dir string) (*Predictor, error) {
	ck, err := Load(dir)
	if err != nil {
		return nil, err
	}
	return NewPredictor(ck), nil
}

// NewPredictor serves predictions from a loaded checkpoint, with
// GOMAXPROCS replicas at most.
func NewPredictor(ck *Checkpoint) *Predictor { return NewPredictorN(ck, runtime.GOMAXPROCS(0)) }

// NewPredictorN serves predictions from a loaded checkpoint with at most
// replicas replicas of the model (1 or more): as many calls run at once.
// A replica is a copy holding the model's weights again, or the model
// itself where scoring only reads it (Model.Replica).
// A network server that calls Predict from its handlers should run with
// GOMAXPROCS above replicas, as classify serve does: with as many
// processors as busy replicas, Go's scheduler reads the network only
// every 10 ms.
func NewPredictorN(ck *Checkpoint, replicas int) *Predictor {
	replicas = max(replicas, 1)
	p := &Predictor{Checkpoint: ck, Coalesce: DefaultCoalesce, free: make(chan Model, replicas), made: 1, replicas: replicas}
	p.free <- ck.Model
	return p
}

// Replicas is the most copies of the model the predictor makes.
func (p *Predictor) Replicas() int { return p.replicas }

// Labels names the model's labels in index order.
func (p *Predictor) Labels() []string { return p.Checkpoint.Model.Head().Labels() }

// Task is the model's task: data.Binary, data.MultiClass or data.MultiLabel.
func (p *Predictor) Task() string { return p.Checkpoint.Model.Head().Task() }

// SetThreshold sets the probability from which a multi-label model
// predicts a label; other tasks have no threshold. Call it before the
// predictor serves.
func (p *Predictor) SetThreshold(t float64) error {
	h, ok := p.Checkpoint.Model.Head().(*train.MultiLabelHead)
	if !ok {
		return fmt.Errorf("a threshold applies to multi-label models; this one is %s", p.Task())
	}
	if !(t > 0 && t < 1) {
		return fmt.Errorf("threshold %v: want a probability in (0, 1)", t)
	}
	c := *h
	c.Threshold = t
	m := <-p.free // the first replica: made before any other
	defer func() { p.free <- m }()
	return m.SetHead(&c)
}

// Predict scores texts and returns one prediction per text, in order.
// The call waits in a queue until a replica comes free; whichever call
// gets the replica scores the queue's oldest calls, its own or others',
// and hands each its answer.
func (p *Predictor) Predict(texts []string) ([]Prediction, error) {
	if len(texts) == 0 {
		return []Prediction{}, nil
	}
	c := &predictCall{texts: texts, done: make(chan struct{})}
	p.qmu.Lock()
	p.queue = append(p.queue, c)
	p.qmu.Unlock()
	for {
		p.qmu.Lock()
		taken := c.taken
		p.qmu.Unlock()
		if taken {
			<-c.done
			return c.out, c.err
		}
		m, err := p.take(c.done)
		if err != nil {
			p.qmu.Lock()
			if !c.taken {
				c.taken = true
				p.queue = slices.DeleteFunc(p.queue, func(q *predictCall) bool { return q == c })
				p.qmu.Unlock()
				return nil, err
			}
			p.qmu.Unlock()
			continue
		}
		if m == nil { // another replica scored c
			return c.out, c.err
		}
		p.scoreQueued(m)
	}
}

// take returns a free replica, making one when none is free and fewer
// than Replicas exist, else waiting for one; it returns nil if done is
// closed first.
func (p *Predictor) take(done <-chan struct{}) (Model, error) {
	select {
	case m := <-p.free:
		return m, nil
	default:
	}
	p.mu.Lock()
	if p.made < p.replicas {
		p.made++
		p.mu.Unlock()
		m, err := p.replicate()
		if err != nil {
			p.mu.Lock()
			p.made--
			p.mu.Unlock()
			return nil, err
		}
		return m, nil
	}
	p.mu.Unlock()
	select {
	case m := <-p.free:
		return m, nil
	case <-done:
		return nil, nil
	}
}

// scoreQueued takes the oldest waiting calls, up to Coalesce texts (at
// least one call), scores them with the replica m in one run, answers
// each and gives m back. If the run fails, each call is scored alone, so
// that an error is only its own call's.
func (p *Predictor) scoreQueued(m Model) {
	defer func() { p.free <- m }()
	p.qmu.Lock()
	n, texts := 0, 0
	for n < len(p.queue) && (n == 0 || texts+len(p.queue[n].texts) <= p.Coalesce) {
		texts += len(p.queue[n].texts)
		n++
	}
	calls := slices.Clone(p.queue[:n])
	p.queue = slices.Delete(p.queue, 0, n)
	for _, c := range calls {
		c.taken = true
	}
	p.qmu.Unlock()
	if len(calls) == 0 {
		return
	}
	answered := 0
	defer func() {
		// A panic in the model answers the calls not yet answered with
		// an error, and goes on up this call's stack.
		if r := recover(); r != nil {
			for _, c := range calls[answered:] {
				c.err = fmt.Errorf("scoring panicked: %v", r)
				close(c.done)
			}
			panic(r)
		}
	}()
	if len(calls) > 1 {
		all := make([]string, 0, texts)
		for _, c := range calls {
			all = append(all, c.texts...)
		}
		if preds, err := p.score(m, all); err == nil {
			for _, c := range calls {
				c.out, preds = preds[:len(c.texts):len(c.texts)], preds[len(c.texts):]
				close(c.done)
				answered++
			}
			return
		}
	}
	for _, c := range calls {
		c.out, c.err = p.score(m, c.texts)
		close(c.done)
		answered++
	}
}

// score runs the replica m on texts.
func (p *Predictor) score(m Model, texts []string) ([]Prediction, error) {
	logits, err := m.TextLogits(p.Checkpoint.Tokenizer, texts)
	if err != nil {
		return nil, err
	}
	h := m.Head()
	u := h.Units()
	if len(logits) != len(texts)*u {
		return nil, fmt.Errorf("the model gave %d logits for %d texts of %d units", len(logits), len(texts), u)
	}
	out := make([]Prediction, len(texts))
	for i := range out {
		out[i] = NewPrediction(h, logits[i*u:(i+1)*u])
	}
	return out, nil
}

// replicate makes another replica of the model, with the same weights
// and head: a copy where scoring writes to the model.
func (p *Predictor) replicate() (Model, error) {
	m, err := p.Checkpoint.Model.Replica()
	if err != nil {
		return nil, fmt.Errorf("replicating the model: %w", err)
	}
	return m, nil
}
