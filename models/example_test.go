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
	"github.com/classify/classify/train"
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
	head, err := train.NewMultiClassHead([]string{"negative", "neutral", "positive"})
	if err != nil {
		fmt.Println(err)
		return
	}
	model, err := models.NewClassifier(cfg, head, emb, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	ckpt := filepath.Join(dir, "ck")
	if err := models.Save(ckpt, &models.Checkpoint{Tokenizer: tok, Model: model.Sequential}, nil); err != nil {
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
		fmt.Printf("%q: %s, %d scores, the first the label's: %v\n", texts[i], pr.Label, len(pr.Scores), pr.Scores[0].Label == pr.Label)
	}
	// Output:
	// "a gorgeous , witty film": negative, 3 scores, the first the label's: true
	// "dull and predictable": negative, 3 scores, the first the label's: true
}

// ExampleSequential assembles a model of its own from the layers (the mean
// of trainable word vectors, then a Dense logit) and trains it as a Keras
// user would: Compile, Fit, Evaluate, Predict.
func ExampleSequential() {
	texts := []string{"good fun", "great fun", "good and great", "bad mess", "dull mess", "bad and dull"}
	labels := []float32{1, 1, 1, 0, 0, 0}
	vocab := data.BuildVocabulary(texts, 100)
	tok, _ := data.NewTokenizer(vocab)
	const maxLen = 16
	x := tok.EncodeAll(texts, maxLen)

	rng := rand.New(rand.NewSource(1))
	head, _ := train.NewBinaryHead([]string{"neg", "pos"})
	model := models.NewSequential("bag_of_words", maxLen, head,
		layers.NewEmbedding(layers.RandomEmbedding(vocab.Len(), 8, tensor.Float32, rng), true),
		layers.NewPooling(layers.PoolMean),
		layers.NewDense(8, 1, layers.Linear, tensor.Float32, rng))
	if err := model.Compile(train.WithLearningRate(0.05)); err != nil {
		fmt.Println(err)
		return
	}
	history, err := model.Fit(x, labels, models.FitConfig{Config: train.Config{Epochs: 40, BatchSize: 2, Shuffle: true, Seed: 1}})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, _ := model.Evaluate(x, labels, 0)
	fmt.Printf("%d epochs, training accuracy %.2f\n", len(history), m.Accuracy)

	probs, _ := model.Predict(tok.EncodeAll([]string{"great and good", "a dull , bad mess"}, maxLen))
	fmt.Printf("positive: %v, %v\n", probs[0][1] > 0.5, probs[1][1] > 0.5)

	// Saved, it is a checkpoint like any other: classify predict, eval
	// and serve take it, and so does LoadPredictor.
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	ckpt := filepath.Join(dir, "bow")
	if err := models.Save(ckpt, &models.Checkpoint{Tokenizer: tok, Model: model}, nil); err != nil {
		fmt.Println(err)
		return
	}
	p, err := models.LoadPredictor(ckpt)
	if err != nil {
		fmt.Println(err)
		return
	}
	preds, _ := p.Predict([]string{"great and good", "a dull , bad mess"})
	fmt.Println(preds[0].Label, preds[1].Label)
	// Output:
	// 40 epochs, training accuracy 1.00
	// positive: true, false
	// pos neg
}
