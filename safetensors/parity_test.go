package safetensors

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/classify/classify/internal/shareddata"
)

// readWithParity runs read_safetensors from ../shared/bench/parity.py (the
// PyTorch parity check's own reader, with torch.from_numpy stubbed out) on
// path, and returns each F32 tensor's shape and values.
const readWithParity = `
import ast, json, struct, sys, types
import numpy as np
src = open(sys.argv[1]).read()
fn = next(n for n in ast.parse(src).body if isinstance(n, ast.FunctionDef) and n.name == "read_safetensors")
env = {"struct": struct, "json": json, "np": np, "torch": types.SimpleNamespace(from_numpy=lambda a: a)}
exec(compile(ast.Module(body=[fn], type_ignores=[]), "parity.py", "exec"), env)
out = env["read_safetensors"](sys.argv[2])
print(json.dumps({k: {"shape": list(v.shape), "values": v.reshape(-1).astype(float).tolist()} for k, v in out.items()}))
`

func TestParityPyReadsOurFiles(t *testing.T) {
	data := shareddata.Dir()
	if data == "" {
		t.Skip("shared folder not found")
	}
	parity := filepath.Join(filepath.Dir(data), "bench", "parity.py")
	if _, err := os.Stat(parity); err != nil {
		t.Skipf("%s not found", parity)
	}
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import numpy").Run(); err != nil {
		t.Skipf("%s with numpy is not installed (apt-get install python3-numpy): %v", python, err)
	}
	tensors := goldenTensors(t)
	big := make([]float32, 7*5)
	for i := range big {
		big[i] = float32(i)*0.37 - 5
	}
	bt, _ := NewF32("lstm.weight_ih_l0", []int{7, 5}, big)
	tensors = append(tensors, bt)
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := WriteFile(path, tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "-c", readWithParity, parity, path).Output()
	if err != nil {
		t.Fatalf("parity.py read_safetensors: %v\n%s", err, out)
	}
	var got map[string]struct {
		Shape  []int
		Values []float64
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("parity.py output %q: %v", out, err)
	}
	want := 0
	for _, tt := range tensors {
		if tt.DType != F32 {
			continue // parity.py reads F32 tensors only
		}
		want++
		v, _ := tt.Float32s()
		g, ok := got[tt.Name]
		if !ok {
			t.Errorf("parity.py did not read %q", tt.Name)
			continue
		}
		w := make([]float64, len(v))
		for i, x := range v {
			w[i] = float64(x)
		}
		if !slices.Equal(g.Shape, tt.Shape) || !slices.Equal(g.Values, w) {
			t.Errorf("parity.py read %q as %v %v, want %v %v", tt.Name, g.Shape, g.Values, tt.Shape, w)
		}
	}
	if len(got) != want {
		t.Errorf("parity.py read %d tensors, want %d", len(got), want)
	}
}
