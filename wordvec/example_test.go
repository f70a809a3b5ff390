package wordvec_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/classify/classify/wordvec"
)

// Training from words already split: count, keep the frequent words, hold
// the text as ids, train, write GloVe text.
func ExampleTrain() {
	var text [][]string
	for i := range 200 {
		text = append(text, strings.Fields(fmt.Sprintf("on day %d we met and on day %d we left", i%7, (i+3)%7)))
	}
	counter := wordvec.NewCounter()
	for _, s := range text {
		counter.Add(s)
	}
	vocab := counter.Vocabulary(5)
	corpus := wordvec.NewCorpus(vocab)
	for _, s := range text {
		corpus.Add(s)
	}
	opts := wordvec.DefaultOptions()
	opts.Dim, opts.Threads = 16, 1
	vec, err := wordvec.Train(corpus, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	path := filepath.Join(os.TempDir(), "example-vectors.txt")
	defer os.Remove(path)
	if err := wordvec.SaveText(path, vec); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(vec.Words), "words of dimension", vec.Dim, "most frequent first:", vec.Words[:3])
	// Output: 13 words of dimension 16 most frequent first: [day on we]
}

func ExampleIndex_Analogy() {
	words := []string{"man", "woman", "king", "queen", "apple"}
	values := []float32{
		1, 0, 0, // man
		0, 1, 0, // woman
		1, 0, 1, // king
		0, 1, 1, // queen
		0.5, 0.5, -1, // apple
	}
	ix, err := wordvec.NewIndex(words, 3, values)
	if err != nil {
		fmt.Println(err)
		return
	}
	best, _ := ix.Analogy("man", "king", "woman", 1)
	fmt.Printf("man : king :: woman : %s (%.3f)\n", best[0].Word, best[0].Similarity)
	near, _ := ix.Neighbors("king", 2)
	for _, n := range near {
		fmt.Printf("%s %.4f\n", n.Word, n.Similarity)
	}
	// Output:
	// man : king :: woman : queen (0.959)
	// man 0.7071
	// queen 0.5000
}
