package models

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/classify/classify/safetensors"
)

// allFinite answers as the test of one value at a time, whatever the
// position of a NaN or an infinity, and checkFinite names its index.
func TestAllFinite(t *testing.T) {
	finite := []float32{0, float32(math.Copysign(0, -1)), 1, -1, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1e-40, 0x1p-126, 3.5}
	bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.Float32frombits(0x7f800001), math.Float32frombits(0xffffffff)}
	for n := 0; n <= 37; n++ {
		v := make([]float32, n)
		for i := range v {
			v[i] = finite[i%len(finite)]
		}
		if !allFinite(v) {
			t.Fatalf("allFinite(%d finite values) = false", n)
		}
		for i := range v {
			for _, x := range bad {
				keep := v[i]
				v[i] = x
				if allFinite(v) {
					t.Errorf("allFinite with %v at %d of %d = true, want false", x, i, n)
				}
				v[i] = keep
			}
		}
	}
	v := make([]float32, 3*finiteBlock+5)
	v[2*finiteBlock+3] = float32(math.Inf(1))
	if err := checkFinite("m", "w", v); err == nil || !strings.Contains(err.Error(), "at index 8195") {
		t.Errorf("checkFinite = %v, want an error naming index 8195", err)
	}
	if err := checkFinite("m", "w", v[:2*finiteBlock]); err != nil {
		t.Errorf("checkFinite of finite values = %v", err)
	}
}

// Save writes model.safetensors as safetensors.Write writes the
// parameters with their digest, byte for byte, and Load reads it back.
func TestSaveWritesSafetensors(t *testing.T) {
	bow, _ := tinyBowCheckpoint(t)
	seq := tinyClassifier(t, tinyConfig("learned", "mean"), 5)
	for _, ck := range []*Checkpoint{bow, {Tokenizer: tinyTokenizer(t), Model: seq.Sequential}} {
		dir := filepath.Join(t.TempDir(), "ck")
		if err := Save(dir, ck, nil); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, ModelFile))
		if err != nil {
			t.Fatal(err)
		}
		ts, err := weightTensors(ck.Model)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := safetensors.Write(&want, ts, map[string]string{"format": "pt",
			"classify_format_version": fmt.Sprint(FormatVersion), digestKey: digest(ts)}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%T: model.safetensors differs from safetensors.Write's (%d bytes, want %d)", ck.Model, len(got), want.Len())
		}
		if st, err := os.Stat(filepath.Join(dir, ModelFile)); err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("model.safetensors mode %v, %v; want 0644", st.Mode(), err)
		}
		if _, err := Load(dir); err != nil {
			t.Errorf("%T: Load = %v", ck.Model, err)
		}
	}
}
