package train

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sampleHistory is a made-up three-epoch run, the second epoch best.
func sampleHistory() History {
	return History{
		{Epoch: 1, Steps: 10, Seconds: 1.5,
			Train: Metrics{N: 300, Loss: 0.69, Accuracy: 0.52, Precision: 0.5, Recall: 0.25, F1: 1.0 / 3, AUC: 0.55},
			Val:   &Metrics{N: 30, Loss: 0.66, Accuracy: 0.6, Precision: 0.7, Recall: 0.5, F1: 0.5833333333333334, AUC: 0.61}},
		{Epoch: 2, Steps: 10, Seconds: 1.25,
			Train: Metrics{N: 300, Loss: 0.5, Accuracy: 0.75, Precision: 0.8, Recall: 0.7, F1: 0.7466666666666667, AUC: 0.8},
			Val:   &Metrics{N: 30, Loss: 0.55, Accuracy: 0.7, Precision: 0.75, Recall: 0.6, F1: 0.6666666666666666, AUC: math.NaN()}},
		{Epoch: 3, Steps: 10, Seconds: 1.0,
			Train: Metrics{N: 300, Loss: 0.3, Accuracy: 0.9, Precision: 0.9, Recall: 0.9, F1: 0.9, AUC: 0.95},
			Val:   &Metrics{N: 30, Loss: 0.6, Accuracy: 0.7333333333333333, Precision: 0.7, Recall: 0.8, F1: 0.7466666666666667, AUC: 0.7}},
	}
}

func TestHistoryJSONRoundTrip(t *testing.T) {
	noVal := History{{Epoch: 1, Steps: 3, Seconds: 0.5, Train: Metrics{N: 90, Loss: 0.7, Accuracy: 0.5, AUC: math.NaN()}}}
	for _, h := range []History{sampleHistory(), noVal, {}} {
		path := filepath.Join(t.TempDir(), "history.json")
		if err := h.WriteJSON(path); err != nil {
			t.Fatal(err)
		}
		got, err := ReadHistory(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(h) {
			t.Fatalf("ReadJSON gave %d epochs, want %d", len(got), len(h))
		}
		for i := range h {
			g, w := got[i], h[i]
			if g.Epoch != w.Epoch || g.Steps != w.Steps || g.Seconds != w.Seconds || !sameMetrics(g.Train, w.Train) ||
				(g.Val == nil) != (w.Val == nil) || g.Val != nil && !sameMetrics(*g.Val, *w.Val) {
				t.Errorf("epoch %d read back as %+v, want %+v", i+1, g, w)
			}
		}
	}
}

func TestHistoryJSONFormat(t *testing.T) {
	b, err := sampleHistory()[:2].MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `[
  {"epoch":1,"loss":0.69,"accuracy":0.52,"precision":0.5,"recall":0.25,"f1":0.3333333333333333,"auc":0.55,"val_loss":0.66,"val_accuracy":0.6,"val_precision":0.7,"val_recall":0.5,"val_f1":0.5833333333333334,"val_auc":0.61,"n":300,"val_n":30,"steps":10,"seconds":1.5},
  {"epoch":2,"loss":0.5,"accuracy":0.75,"precision":0.8,"recall":0.7,"f1":0.7466666666666667,"auc":0.8,"val_loss":0.55,"val_accuracy":0.7,"val_precision":0.75,"val_recall":0.6,"val_f1":0.6666666666666666,"n":300,"val_n":30,"steps":10,"seconds":1.25}
]`
	if got := string(b); got != want {
		t.Errorf("MarshalJSON =\n%s\nwant\n%s", got, want)
	}
}

func TestReadJSONErrors(t *testing.T) {
	tests := []struct{ name, content, want string }{
		{"syntax", "[\n  {\"epoch\":1},\n  {\"epoch\":2,}\n]", "history.json:3:"},
		{"type", "[\n  {\"epoch\":\"one\"}\n]", "history.json:2:"},
		{"not an array", `{"epoch":1}`, "history.json"},
	}
	for _, tc := range tests {
		path := filepath.Join(t.TempDir(), "history.json")
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadHistory(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ReadJSON error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestHistoryBest(t *testing.T) {
	tests := []struct {
		h    History
		want int
	}{
		{sampleHistory(), 1},
		{History{{Epoch: 1}}, -1},
		{History{}, -1},
		{History{{Epoch: 1, Val: &Metrics{Loss: 0.5}}, {Epoch: 2, Val: &Metrics{Loss: 0.5}}}, 0},
	}
	for i, tc := range tests {
		if got := tc.h.Best(); got != tc.want {
			t.Errorf("case %d: Best() = %d, want %d", i, got, tc.want)
		}
	}
}

func TestHistoryPlotPNG(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("CLASSIFY_PLOT_DIR"); d != "" {
		dir = d // to look at the images
	}
	noVal := History{{Epoch: 1, Train: Metrics{Loss: 0.7, Accuracy: 0.5}}}
	for name, h := range map[string]History{"full": sampleHistory(), "single": noVal} {
		path := filepath.Join(dir, name+".png")
		if err := h.PlotPNG(path); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: not a PNG: %v", name, err)
		}
		if got, want := img.Bounds().Dx(), 10*96; got < want/2 {
			t.Errorf("%s: width %d pixels, want about %d", name, got, want)
		}
	}
	if err := (History{}).PlotPNG(filepath.Join(dir, "empty.png")); err == nil {
		t.Error("PlotPNG of an empty history succeeded, want an error")
	}
}

func TestEpochTicks(t *testing.T) {
	got := []float64{}
	for _, tk := range (epochTicks{}).Ticks(0.5, 3.5) {
		got = append(got, tk.Value)
	}
	if want := []float64{1, 2, 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("Ticks(0.5, 3.5) = %v, want %v", got, want)
	}
	if n := len((epochTicks{}).Ticks(1, 100)); n > 11 {
		t.Errorf("Ticks(1, 100) gives %d ticks, want at most 11", n)
	}
}

// FuzzReadHistory feeds ReadJSON arbitrary files: it must return a history or
// an error, never panic, and what it reads must write back and read again
// to the same JSON.
func FuzzReadHistory(f *testing.F) {
	b, err := sampleHistory().MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`[{"epoch":1,"loss":0.5,"val_loss":0.4,"val_auc":null}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"epoch":"x"}]`))
	f.Add([]byte(`null`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content []byte) {
		path := filepath.Join(dir, "history.json")
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		h, err := ReadHistory(path)
		if err != nil {
			return
		}
		first, err := h.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON of what ReadJSON read: %v", err)
		}
		if err := h.WriteJSON(path); err != nil {
			t.Fatal(err)
		}
		back, err := ReadHistory(path)
		if err != nil {
			t.Fatalf("ReadJSON of what WriteJSON wrote (%s): %v", first, err)
		}
		second, _ := back.MarshalJSON()
		if !bytes.Equal(first, second) {
			t.Errorf("round trip changed\n%s\nto\n%s", first, second)
		}
	})
}
