package data

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// The hashes and n-gram rows are those of fastText's dictionary.cc, as
// testdata/ngrams_golden.py computes them with C's conversions spelled out.
func TestNgramsMatchFastText(t *testing.T) {
	raw, err := os.ReadFile("testdata/ngrams_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Hashes map[string]uint32
		Cases  []struct {
			Tokens             []string
			N, Buckets, Offset int
			Rows               []int
		}
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	for tok, want := range golden.Hashes {
		if got := FastTextHash(tok); got != want {
			t.Errorf("FastTextHash(%q) = %d, want %d", tok, got, want)
		}
	}
	for _, c := range golden.Cases {
		h := NgramHasher{N: c.N, Buckets: c.Buckets, Offset: c.Offset}
		got := h.Append([]int{-7}, c.Tokens)
		if fmt.Sprint(got[1:]) != fmt.Sprint(c.Rows) || got[0] != -7 {
			t.Errorf("%+v.Append([-7], %q) = %v, want [-7] + %v", h, c.Tokens, got, c.Rows)
		}
		if n := h.Count(len(c.Tokens)); n != len(c.Rows) {
			t.Errorf("%+v.Count(%d) = %d, want %d", h, len(c.Tokens), n, len(c.Rows))
		}
	}
}

func TestNgramHasherNone(t *testing.T) {
	for _, h := range []NgramHasher{{N: 1, Buckets: 10}, {N: 3, Buckets: 0}} {
		if got := h.Append(nil, []string{"a", "b", "c"}); len(got) != 0 || h.Count(3) != 0 {
			t.Errorf("%+v gives n-grams %v (Count %d), want none", h, got, h.Count(3))
		}
	}
}

func BenchmarkNgramHasher(b *testing.B) {
	h := NgramHasher{N: 2, Buckets: 2000000, Offset: 10000}
	tokens := Words("the rock is destined to be the 21st century's new conan and that he's going to make a splash even greater than arnold schwarzenegger")
	var ids []int
	for b.Loop() {
		ids = h.Append(ids[:0], tokens)
	}
}
