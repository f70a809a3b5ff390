package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"

	"github.com/classify/classify/data"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Epoch is the record of one training epoch.
type Epoch struct {
	// Epoch counts from 1.
	Epoch int
	// Train holds the training metrics as Keras reports them: the loss is
	// the mean of the batch losses met during the epoch, weighted by batch
	// size, and the other scores count the logits of those same forward
	// passes, while the weights were still moving.
	Train Metrics
	// Val holds the metrics on the validation data at the end of the
	// epoch, or nil when there is none.
	Val *Metrics
	// Steps is the number of optimizer steps taken in the epoch.
	Steps int
	// Seconds is the epoch's wall time, validation included.
	Seconds float64
}

// History is the record of a training run, one Epoch per epoch in order.
// As JSON it is an array with one flat object per epoch, under Keras's
// names: epoch, loss, accuracy, precision, recall, f1, auc, the same with
// the prefix "val_" when there is validation data, steps and seconds.
type History []Epoch

// Best returns the index of the epoch with the lowest validation loss, the
// first of equal ones, or -1 when no epoch has validation metrics.
func (h History) Best() int {
	best := -1
	for i, e := range h {
		if e.Val != nil && !math.IsNaN(e.Val.Loss) && (best < 0 || e.Val.Loss < h[best].Val.Loss) {
			best = i
		}
	}
	return best
}

// epochJSON is an Epoch as it is written: flat, Keras style, with absent
// or undefined values left out.
type epochJSON struct {
	Epoch        int      `json:"epoch"`
	Loss         float64  `json:"loss"`
	Accuracy     float64  `json:"accuracy"`
	Precision    float64  `json:"precision"`
	Recall       float64  `json:"recall"`
	F1           float64  `json:"f1"`
	AUC          *float64 `json:"auc,omitempty"`
	ValLoss      *float64 `json:"val_loss,omitempty"`
	ValAccuracy  *float64 `json:"val_accuracy,omitempty"`
	ValPrecision *float64 `json:"val_precision,omitempty"`
	ValRecall    *float64 `json:"val_recall,omitempty"`
	ValF1        *float64 `json:"val_f1,omitempty"`
	ValAUC       *float64 `json:"val_auc,omitempty"`
	MacroF1      *float64 `json:"macro_f1,omitempty"`
	ValMacroF1   *float64 `json:"val_macro_f1,omitempty"`
	MicroF1      *float64 `json:"micro_f1,omitempty"`
	ValMicroF1   *float64 `json:"val_micro_f1,omitempty"`
	N            int      `json:"n"`
	ValN         *int     `json:"val_n,omitempty"`
	Steps        int      `json:"steps"`
	Seconds      float64  `json:"seconds"`
}

// MarshalJSON writes the epoch as one flat object.
func (e Epoch) MarshalJSON() ([]byte, error) {
	j := epochJSON{
		Epoch: e.Epoch, Loss: e.Train.Loss, Accuracy: e.Train.Accuracy, Precision: e.Train.Precision,
		Recall: e.Train.Recall, F1: e.Train.F1, AUC: finiteOrNil(e.Train.AUC), N: e.Train.N,
		Steps: e.Steps, Seconds: e.Seconds,
	}
	multi := e.Train.Task == data.MultiLabel
	many := multi || e.Train.Task == data.MultiClass // the F1 of no one class sums them up
	if many {
		j.MacroF1 = &e.Train.MacroF1
	}
	if multi {
		j.MicroF1 = &e.Train.MicroF1
	}
	if v := e.Val; v != nil {
		j.ValLoss, j.ValAccuracy, j.ValPrecision = &v.Loss, &v.Accuracy, &v.Precision
		j.ValRecall, j.ValF1, j.ValAUC, j.ValN = &v.Recall, &v.F1, finiteOrNil(v.AUC), &v.N
		if many {
			j.ValMacroF1 = &v.MacroF1
		}
		if multi {
			j.ValMicroF1 = &v.MicroF1
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes. An epoch without val_loss
// has no validation metrics; one with micro_f1 is of a multi-label task.
// The confusion counts are not stored.
func (e *Epoch) UnmarshalJSON(b []byte) error {
	var j epochJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Epoch{
		Epoch: j.Epoch, Steps: j.Steps, Seconds: j.Seconds,
		Train: Metrics{N: j.N, Loss: j.Loss, Accuracy: j.Accuracy, Precision: j.Precision,
			Recall: j.Recall, F1: j.F1, AUC: orNaN(j.AUC)},
	}
	if j.MacroF1 != nil {
		e.Train.MacroF1 = *j.MacroF1
	}
	if j.MicroF1 != nil {
		e.Train.Task, e.Train.MicroF1 = data.MultiLabel, *j.MicroF1
	}
	if j.ValLoss != nil {
		v := &Metrics{Task: e.Train.Task, Loss: *j.ValLoss, AUC: orNaN(j.ValAUC)}
		for _, f := range []struct {
			dst *float64
			src *float64
		}{{&v.Accuracy, j.ValAccuracy}, {&v.Precision, j.ValPrecision}, {&v.Recall, j.ValRecall}, {&v.F1, j.ValF1},
			{&v.MacroF1, j.ValMacroF1}, {&v.MicroF1, j.ValMicroF1}} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		if j.ValN != nil {
			v.N = *j.ValN
		}
		e.Val = v
	}
	return nil
}

// MarshalJSON writes the history as an array with one epoch object per
// line.
func (h History) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("[")
	for i, e := range h {
		if i > 0 {
			buf.WriteString(",")
		}
		b, err := e.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("epoch %d: %w", e.Epoch, err)
		}
		buf.WriteString("\n  ")
		buf.Write(b)
	}
	if len(h) > 0 {
		buf.WriteString("\n")
	}
	buf.WriteString("]")
	return buf.Bytes(), nil
}

// WriteJSON writes the history to path as history.json holds it.
func (h History) WriteJSON(path string) error {
	b, err := h.MarshalJSON()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadHistory reads a history that WriteJSON wrote. Errors name the file and,
// for malformed JSON, the line.
func ReadHistory(path string) (History, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var h History
	if err := json.Unmarshal(b, &h); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("%s:%d: %v", path, lineOf(b, se.Offset), err)
		case errors.As(err, &te):
			return nil, fmt.Errorf("%s:%d: %v", path, lineOf(b, te.Offset), err)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

func lineOf(b []byte, offset int64) int {
	if offset > int64(len(b)) {
		offset = int64(len(b))
	}
	return 1 + bytes.Count(b[:offset], []byte("\n"))
}

// Colours of the curves: training solid blue, validation dashed orange.
var (
	trainColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	valColor   = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
)

// PlotPNG draws the history into a PNG image at path, as Keras tutorials
// do: a loss panel and an accuracy panel side by side, each with the
// training curve and, when there is validation data, the validation curve;
// the best epoch by validation loss is marked in both panels.
func (h History) PlotPNG(path string) error {
	if len(h) == 0 {
		return fmt.Errorf("%s: no epochs to plot", path)
	}
	loss, err := h.panel("Loss", "loss", func(m Metrics) float64 { return m.Loss })
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	name := h[0].Train.MainName()
	title := map[string]string{"accuracy": "Accuracy", "micro_f1": "Micro F1"}[name]
	acc, err := h.panel(title, name, func(m Metrics) float64 { return m.Main() })
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	img := vgimg.New(10*vg.Inch, 4*vg.Inch)
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter * 2,
		PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	plots := [][]*plot.Plot{{loss, acc}}
	canvases := plot.Align(plots, tiles, dc)
	for j, p := range plots[0] {
		p.Draw(canvases[0][j])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// panel makes one plot of a metric over the epochs.
func (h History) panel(title, ylabel string, metric func(Metrics) float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = ylabel == "loss"
	p.X.Tick.Marker = epochTicks{}
	var train, val plotter.XYs
	for _, e := range h {
		train = append(train, plotter.XY{X: float64(e.Epoch), Y: metric(e.Train)})
		if e.Val != nil {
			val = append(val, plotter.XY{X: float64(e.Epoch), Y: metric(*e.Val)})
		}
	}
	curves := []struct {
		name  string
		xys   plotter.XYs
		color color.Color
		dash  []vg.Length
	}{{"training", train, trainColor, nil}, {"validation", val, valColor, []vg.Length{vg.Points(6), vg.Points(3)}}}
	for _, c := range curves {
		if len(c.xys) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(c.xys)
		if err != nil {
			return nil, fmt.Errorf("%s curve: %w", c.name, err)
		}
		line.Color, line.Width, line.Dashes = c.color, vg.Points(1.5), c.dash
		points.Color, points.Shape, points.Radius = c.color, draw.CircleGlyph{}, vg.Points(2)
		p.Add(line, points)
		p.Legend.Add(c.name, line, points)
	}
	fitAxes(p, append(train, val...), ylabel == "accuracy")
	if b := h.Best(); b >= 0 && len(h) > 1 {
		best, err := plotter.NewScatter(plotter.XYs{{X: float64(h[b].Epoch), Y: metric(*h[b].Val)}})
		if err != nil {
			return nil, err
		}
		best.Color, best.Shape, best.Radius = valColor, draw.RingGlyph{}, vg.Points(5)
		p.Add(best)
		p.Legend.Add("best val_loss", best)
	}
	return p, nil
}

// fitAxes sets the ranges of p to hold xys with a margin, so that no point
// sits on an axis; losses stay above 0 and a share (accuracy) in [0, 1].
func fitAxes(p *plot.Plot, xys plotter.XYs, share bool) {
	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, q := range xys {
		xmin, xmax = math.Min(xmin, q.X), math.Max(xmax, q.X)
		if !math.IsNaN(q.Y) && !math.IsInf(q.Y, 0) {
			ymin, ymax = math.Min(ymin, q.Y), math.Max(ymax, q.Y)
		}
	}
	if ymin > ymax {
		return
	}
	p.X.Min, p.X.Max = xmin-0.25, xmax+0.25
	pad := 0.08 * (ymax - ymin)
	if pad == 0 {
		pad = 0.05 * math.Max(math.Abs(ymax), 0.1)
	}
	p.Y.Min, p.Y.Max = math.Max(0, ymin-pad), ymax+pad
	if share {
		p.Y.Max = math.Min(1, p.Y.Max)
	}
}

// epochTicks puts ticks on whole epochs only, at most about ten of them.
type epochTicks struct{}

// Ticks returns the tick marks between min and max.
func (epochTicks) Ticks(min, max float64) []plot.Tick {
	step := math.Max(1, math.Ceil((max-min)/10))
	var ticks []plot.Tick
	for x := math.Ceil(min); x <= max; x += step {
		ticks = append(ticks, plot.Tick{Value: x, Label: fmt.Sprintf("%.0f", x)})
	}
	return ticks
}
