package data_test

import (
	"fmt"

	"github.com/classify/classify/data"
)

func ExampleWords() {
	fmt.Printf("%q\n", data.Words("It's a GEM -- truly!"))
	// Output: ["it" "'" "s" "a" "gem" "-" "-" "truly" "!"]
}

func ExampleParseLabels() {
	one, _ := data.ParseLabels(" positive ", false)
	set, _ := data.ParseLabels("grain, wheat", true)
	_, err := data.ParseLabels("", false)
	fmt.Printf("%q %q %v\n", one, set, err)
	// Output: ["positive"] ["grain" "wheat"] empty label
}

func ExampleNewLabelSet() {
	ex := []data.Example{{Text: "a fine film", Labels: []string{"pos"}}, {Text: "a dull one", Labels: []string{"neg"}}}
	binary, _ := data.NewLabelSet(ex, false)
	ex = append(ex, data.Example{Text: "who knows", Labels: []string{"mixed"}})
	multi, _ := data.NewLabelSet(ex, false)
	fmt.Println(binary.Task, binary.Names, multi.Task, multi.Names)
	// Output: binary [neg pos] multiclass [mixed neg pos]
}

func ExampleBuildVocabulary() {
	v := data.BuildVocabulary([]string{"a good film", "a bad film", "a film"}, 5)
	fmt.Println(v.Words(), v.ID("film"), v.ID("great"))
	// Output: [[PAD] [UNK] a film bad] 3 1
}

func ExampleTokenizer_Encode() {
	tok, _ := data.NewTokenizer(data.BuildVocabulary([]string{"a good film", "a bad film"}, 0))
	ids, tokens := tok.Encode("A good, good film!", 4)
	fmt.Println(ids, tokens)
	// Output: [2 5 1 5] [a good [UNK] good]
}

func ExampleEmbeddingMatrix() {
	vocab := data.BuildVocabulary([]string{"good film"}, 0) // [PAD] [UNK] film good
	vec := &data.Vectors{Words: []string{"good"}, Dim: 2, Values: []float32{0.5, -1}}
	m, found := data.EmbeddingMatrix(vocab, vec, 42)
	fmt.Println(found, m[0:2], m[6:8])
	// Output: 1 [0 0] [0.5 -1]
}

// With rng nil the batches keep the order; with a rand.Rand they are
// shuffled and grouped by length.
func ExampleBatches() {
	seqs := [][]int{{4, 5, 6}, {7}, {8, 9}}
	for _, b := range data.Batches(seqs, []float32{1, 0, 1}, 1, 2, nil) {
		fmt.Println(b.IDs, b.Lengths, b.Len)
	}
	// Output:
	// [4 5 6 7 0 0] [3 1] 3
	// [8 9] [2] 2
}

func ExampleMeasureCoverage() {
	vec := &data.Vectors{Words: []string{"the", "film"}, Dim: 1, Values: []float32{1, 2}}
	c := data.MeasureCoverage([]string{"The film, the end."}, vec)
	fmt.Printf("%+v %.2f\n", c, c.TokenShare())
	// Output: {Tokens:6 TokensFound:3 Words:5 WordsFound:2} 0.50
}
