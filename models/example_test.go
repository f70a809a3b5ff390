package models_test

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"

	"gorgonia.org/tensor"

	"github.com/classify/classify/data"
	"github.com/classify/classify/layers"
	"github.com/classify/classify/models"
)

// Example builds a small classifier, saves it as a checkpoint, and serves
// predictions from it the way a program embedding classify would: load
// once, then call Predict from as many goroutines as needed.
func Example() {
	texts := []string{"a gorgeous , witty film", "dull and predictable"}
	vocab := data.BuildVocabulary(texts, 100)
	tok, _ := data.NewTokenizer(vocab)

	cfg := models.DefaultConfig()
	cfg.VocabSize, cfg.Dim, cfg.Hidden = vocab.Len(), 8, 4
	emb := layers.RandomEmbedding(cfg.VocabSize, cfg.Dim, tensor.Float32, rand.New(rand.NewSource(1)))
	model, err := models.NewClassifier(cfg, emb, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	ckpt := filepath.Join(dir, "ck")
	if err := models.Save(ckpt, &models.Checkpoint{Tokenizer: tok, Model: model}, nil); err != nil {
		fmt.Println(err)
		return
	}

	p, err := models.LoadPredictor(ckpt)
	if err != nil {
		fmt.Println(err)
		return
	}
	preds, err := p.Predict(texts)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, pr := range preds {
		fmt.Printf("%q: label %d, probability in (0,1): %v\n", texts[i], pr.Label, pr.Probability > 0 && pr.Probability < 1)
	}
	// Output:
	// "a gorgeous , witty film": label 1, probability in (0,1): true
	// "dull and predictable": label 1, probability in (0,1): true
}
