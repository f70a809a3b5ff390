package main

import (
	"flag"
	"math/rand"

	"github.com/classify/classify/layers"
	"github.com/classify/classify/models"
	"gorgonia.org/tensor"
)

var summaryCommand = command{
	summary: "print the model's layers, output shapes and parameter counts",
	usage:   "--checkpoint DIR | [--vectors PATH] [model flags of train]",
	example: "classify summary --vocab-size 10000 --dim 100 --hidden 128",
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		ckpt := fs.String("checkpoint", "", "checkpoint `folder` to describe")
		vectors := fs.String("vectors", "", "word vectors whose width sets the embedding width (instead of --dim)")
		mf := addModelFlags(fs)
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			var m models.Model
			if *ckpt != "" {
				ck, err := models.Load(*ckpt)
				if err != nil {
					return err
				}
				m = ck.Model
			} else {
				dim := mf.dim
				if *vectors != "" {
					vec, err := dataStore(e).LoadVectors(*vectors)
					if err != nil {
						return err
					}
					dim = vec.Dim
				}
				if mf.model == models.BowArchitecture {
					mf.applyBowDefaults()
				}
				spec, err := mf.spec(dim)
				if err != nil {
					return err
				}
				var emb *tensor.Dense // a bow table is counted, not drawn: Build makes it zero
				if mf.model != models.BowArchitecture {
					emb = layers.RandomEmbedding(mf.vocabSize, dim, tensor.Float32, rand.New(rand.NewSource(0)))
				}
				if m, err = models.Build(spec, nil, emb, 0); err != nil {
					return err
				}
			}
			return m.Summary(e.stdout)
		}
	},
}
