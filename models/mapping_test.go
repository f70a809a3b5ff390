package models

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// loadBoth loads the checkpoint dir twice: mapped where the system can,
// and read.
func loadBoth(t *testing.T, dir string) (mapped, read *Checkpoint) {
	t.Helper()
	mapped, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	mapFiles = false
	defer func() { mapFiles = true }()
	if read, err = Load(dir); err != nil {
		t.Fatal(err)
	}
	return mapped, read
}

// sameBits tells whether a and b hold the same float32s to the bit.
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// A bow checkpoint mapped scores every text as the one read does, to the
// bit, and a bow trained further from it (train --from) trains as from
// the one read while its file stays as written.
func TestMappedBowMatchesRead(t *testing.T) {
	ck, texts := tinyBowCheckpoint(t)
	dir := filepath.Join(t.TempDir(), "ck")
	if err := Save(dir, ck, nil); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(filepath.Join(dir, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	mapped, read := loadBoth(t, dir)
	want, err := read.Logits(texts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := mapped.Logits(texts)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(got, want) {
		t.Errorf("mapped logits %v, read %v: want the same bits", got, want)
	}
	a, b := mapped.Model.(*Bow), read.Model.(*Bow)
	bags := a.Bags(ck.Tokenizer, texts)
	y := []float32{0, 1, 2, 0, 1, 2, 0, 1}
	for _, m := range []*Bow{a, b} {
		if _, err := m.Fit(bags, y, BowFitConfig{Epochs: 3, LR: 0.3, Seed: 9}); err != nil {
			t.Fatal(err)
		}
	}
	if !sameBits(a.table(), b.table()) {
		t.Error("a mapped table trained further differs from the table read")
	}
	after, err := os.ReadFile(filepath.Join(dir, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, file) {
		t.Error("training a mapped model changed its model.safetensors")
	}
	again, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := again.Logits(texts); !sameBits(got, want) {
		t.Errorf("logits after training the mapped copy %v, want %v", got, want)
	}
}

// Every architecture's checkpoint loads mapped as it loads read: the
// weights the same to the bit.
func TestMappedLoadMatchesRead(t *testing.T) {
	m := tinyClassifier(t, tinyConfig("learned", "mean"), 5)
	dir := filepath.Join(t.TempDir(), "ck")
	if err := Save(dir, &Checkpoint{Tokenizer: tinyTokenizer(t), Model: m.Sequential}, nil); err != nil {
		t.Fatal(err)
	}
	mapped, read := loadBoth(t, dir)
	pm, pr := mapped.Model.Params(), read.Model.Params()
	if len(pm) != len(pr) {
		t.Fatalf("%d parameters mapped, %d read", len(pm), len(pr))
	}
	for i := range pm {
		if !sameBits(pm[i].Value.Data().([]float32), pr[i].Value.Data().([]float32)) {
			t.Errorf("parameter %s differs mapped and read", pm[i].Name)
		}
	}
}

// waitFor runs the collector until cond holds, for up to a few seconds:
// cleanups run on their own goroutine after a collection.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(time.Millisecond)
		if cond() {
			return true
		}
	}
	return cond()
}

func (r *region) mapped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mem != nil
}

// The table a bow model adopts lies in the file's mapping, which stays
// while the model is reachable and is unmapped once it is not; a model
// that adopts nothing lets the mapping go when loading ends.
func TestMappingLifetime(t *testing.T) {
	ck, texts := tinyBowCheckpoint(t)
	dir := filepath.Join(t.TempDir(), "ck")
	if err := Save(dir, ck, nil); err != nil {
		t.Fatal(err)
	}
	load := func() (*Bow, *region) {
		t.Helper()
		cfg, err := LoadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		head, _ := cfg.Head()
		f, err := os.Open(filepath.Join(dir, ModelFile))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		file, mem, verify, err := readWeightsFile(f, f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if mem == nil {
			t.Skip("this system maps no files")
		}
		model, err := modelOfFile(cfg, head, ck.Tokenizer, file, mem, nil, dir, f.Name())
		if err := verify(); err != nil {
			t.Fatal(err)
		}
		mem.done()
		if err != nil {
			t.Fatal(err)
		}
		bow := model.(*Bow)
		tab, _ := file.Tensor("embedding_bag.weight")
		if unsafe.Pointer(&bow.table()[0]) != unsafe.Pointer(&tab.Data[0]) {
			t.Fatal("the bow table is not the mapped file's bytes")
		}
		return bow, mem
	}
	bow, mem := load()
	runtime.GC()
	runtime.GC()
	if !mem.mapped() {
		t.Fatal("the mapping was unmapped while its model is reachable")
	}
	want, _ := ck.Logits(texts)
	if got, err := (&Checkpoint{Tokenizer: ck.Tokenizer, Model: bow}).Logits(texts); err != nil || !sameBits(got, want) {
		t.Errorf("mapped logits %v, %v; want %v", got, err, want)
	}
	runtime.KeepAlive(bow)
	bow = nil
	if !waitFor(func() bool { return !mem.mapped() }) {
		t.Error("the mapping of an unreachable model is still mapped")
	}
	_, mem = load()
	if !waitFor(func() bool { return !mem.mapped() }) {
		t.Error("the mapping of a model dropped at once is still mapped")
	}

	// A model that adopts nothing copies the weights: the mapping goes
	// when loading is done.
	seq := tinyClassifier(t, tinyConfig("none", "max"), 3)
	if err := Save(dir, &Checkpoint{Tokenizer: tinyTokenizer(t), Model: seq.Sequential}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	file, mem, verify, err := readWeightsFile(f, f.Name())
	if err != nil || mem == nil {
		t.Fatal(err)
	}
	if err := fillWeights(file, mem, f.Name(), seq.Sequential, nil); err != nil {
		t.Fatal(err)
	}
	verify()
	mem.done()
	if mem.mapped() {
		t.Error("a mapping that no tensor adopted is still mapped after loading")
	}
}

// A table of tableMapMinBytes or more (a mapping of its own) and a small
// one (a Go slice) are zeros to write.
func TestNewTableMapped(t *testing.T) {
	rows := tableMapMinBytes / 4 / 16
	d := newTable(rows, 16)
	v := d.Data().([]float32)
	if len(v) != rows*16 || v[0] != 0 || v[len(v)-1] != 0 {
		t.Fatalf("newTable(%d, 16) = %d values, first %v, last %v; want zeros", rows, len(v), v[0], v[len(v)-1])
	}
	v[len(v)/2] = 1
	small := newTable(3, 4).Data().([]float32)
	if len(small) != 12 {
		t.Errorf("newTable(3, 4) = %d values, want 12", len(small))
	}
	runtime.KeepAlive(d)
}

// LoadUnverified gives the checkpoint Load gives, and the error Load
// gives for a file altered, truncated or holding a NaN: at once, or from
// verify.
func TestLoadUnverified(t *testing.T) {
	ck, texts := tinyBowCheckpoint(t)
	good := filepath.Join(t.TempDir(), "good")
	if err := Save(good, ck, nil); err != nil {
		t.Fatal(err)
	}
	got, verify, err := LoadUnverified(good)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ck.Logits(texts)
	if logits, err := got.Logits(texts); err != nil || !sameBits(logits, want) {
		t.Errorf("logits %v, %v; want %v", logits, err, want)
	}
	if err := verify(); err != nil {
		t.Errorf("verify = %v, want nil", err)
	}
	if err := verify(); err != nil {
		t.Errorf("verify again = %v, want nil", err)
	}

	nan := filepath.Join(t.TempDir(), "nan")
	ck.Model.(*Bow).table()[40] = float32(math.NaN())
	if err := Save(nan, ck, nil); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(good, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, dir string
		model     []byte
		want      string
	}{
		{"altered", "", append(bytes.Clone(raw[:len(raw)-1]), raw[len(raw)-1]^1), "altered"},
		{"truncated", "", raw[:len(raw)-3], ModelFile},
		{"nan", nan, nil, "finite"},
	} {
		for _, mapped := range []bool{true, false} {
			dir := c.dir
			if dir == "" {
				dir = filepath.Join(t.TempDir(), c.name)
				if err := os.CopyFS(dir, os.DirFS(good)); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, ModelFile), c.model, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			mapFiles = mapped
			_, loadErr := Load(dir)
			_, verify, err := LoadUnverified(dir)
			mapFiles = true
			if err == nil {
				err = verify()
			}
			if loadErr == nil || err == nil || err.Error() != loadErr.Error() || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s (mapped %v): LoadUnverified and verify = %v, Load = %v; want Load's error, naming %q", c.name, mapped, err, loadErr, c.want)
			}
		}
	}
}
