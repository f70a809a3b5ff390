package data

import (
	"math/rand"
	"testing"

	"github.com/classify/classify/internal/shareddata"
)

// BenchmarkLoadVectorsGlove reads the 4 MB GloVe file (10000 x 50).
func BenchmarkLoadVectorsGlove(b *testing.B) {
	p := shareddata.Path(b, "glove/glove.6B.50d.top10k.txt")
	for b.Loop() {
		if _, err := LoadVectors(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadTSV reads rt-polarity.tsv (10662 examples, 1.2 MB).
func BenchmarkLoadTSV(b *testing.B) {
	p := shareddata.Path(b, "rt-polarity/rt-polarity.tsv")
	for b.Loop() {
		if _, err := Load(p, LoadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadPolarity reads the Windows-1252 originals.
func BenchmarkLoadPolarity(b *testing.B) {
	p := shareddata.Path(b, "rt-polarity/rt-polarity.pos")
	for b.Loop() {
		if _, err := Load(p[:len(p)-len("/rt-polarity.pos")], LoadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeAll encodes all of rt-polarity with a 10000-word
// vocabulary, in pure Go; BenchmarkSugarmeEncode does it with sugarme.
func BenchmarkEncodeAll(b *testing.B) {
	texts := Texts(rtPolarity(b))
	tok, _ := NewTokenizer(BuildVocabulary(texts, 10000))
	for b.Loop() {
		tok.EncodeAll(texts, 100)
	}
}

func BenchmarkSugarmeEncode(b *testing.B) {
	texts := Texts(rtPolarity(b))
	tok, _ := NewTokenizer(BuildVocabulary(texts, 10000))
	sg := tok.SugarmeTokenizer()
	for b.Loop() {
		for _, t := range texts {
			sg.EncodeSingle(t)
		}
	}
}

func BenchmarkBuildVocabulary(b *testing.B) {
	texts := Texts(rtPolarity(b))
	for b.Loop() {
		BuildVocabulary(texts, 10000)
	}
}

// BenchmarkBatches cuts rt-polarity into shuffled, bucketed batches of 32.
func BenchmarkBatches(b *testing.B) {
	ex := rtPolarity(b)
	tok, _ := NewTokenizer(BuildVocabulary(Texts(ex), 10000))
	seqs := tok.EncodeAll(Texts(ex), 100)
	ls, _ := NewLabelSet(ex, false)
	labels, _ := ls.Targets(ex, "rt-polarity")
	rng := rand.New(rand.NewSource(1))
	for b.Loop() {
		Batches(seqs, labels, 1, 32, rng)
	}
}
