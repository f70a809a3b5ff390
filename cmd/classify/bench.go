package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"runtime"
	"sort"
	"time"

	"gorgonia.org/tensor"

	"github.com/classify/classify/data"
	"github.com/classify/classify/kernels"
	"github.com/classify/classify/models"
)

var benchCommand = command{
	summary: "time training steps of the reference model on random data",
	usage:   "[--seq-len 100 --batch-size 32 --dim 100 --hidden 128 --steps 20]",
	example: "classify bench --seq-len 100 --batch-size 32 --steps 20",
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		seqLen := fs.Int("seq-len", 100, "tokens per sequence")
		batch := fs.Int("batch-size", 32, "sequences per step")
		dim := fs.Int("dim", 100, "embedding width")
		hidden := fs.Int("hidden", 128, "units of each LSTM direction")
		steps := fs.Int("steps", 20, "timed steps (after 3 warm-up steps)")
		vocab := fs.Int("vocab-size", 1000, "token ids drawn from [2, N)")
		pool := fs.String("pool", "last", "pooling: last, mean or max")
		pos := fs.String("pos-encoding", "sinusoidal", "positions: sinusoidal, learned, relative or none")
		seed := fs.Int64("seed", 42, "seed of the random data and weights")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			if *seqLen < 1 || *batch < 1 || *steps < 1 || *vocab < 3 {
				return usagef("--seq-len, --batch-size and --steps must be positive and --vocab-size at least 3")
			}
			cfg := models.DefaultConfig()
			cfg.VocabSize, cfg.Dim, cfg.MaxLen, cfg.Hidden, cfg.Pool, cfg.PosEncoding = *vocab, *dim, *seqLen, *hidden, *pool, *pos
			cfg.Dropout = 0 // the step of torch_reference.py step, which has none
			if err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			rng := rand.New(rand.NewSource(*seed))
			emb := make([]float32, cfg.VocabSize*cfg.Dim)
			for i := range emb {
				emb[i] = rng.Float32()
			}
			m, err := models.NewClassifier(cfg, nil, tensor.New(tensor.WithShape(cfg.VocabSize, cfg.Dim), tensor.WithBacking(emb)), *seed)
			if err != nil {
				return err
			}
			if err := m.Compile(); err != nil {
				return err
			}
			b := &data.Batch{Size: *batch, Len: *seqLen, IDs: make([]int, *batch**seqLen),
				Lengths: make([]int, *batch), Labels: make([]float32, *batch), Width: 1, Index: make([]int, *batch)}
			for i := range b.IDs {
				b.IDs[i] = 2 + rng.Intn(cfg.VocabSize-2)
			}
			for r := range b.Labels {
				b.Lengths[r], b.Index[r], b.Labels[r] = *seqLen, r, float32(rng.Intn(2))
			}
			var times []float64
			for i := 0; i < *steps+3; i++ {
				start := time.Now()
				if _, _, err := m.Forward(b, true); err != nil {
					return err
				}
				if _, err := m.Optimizer().Step(); err != nil {
					return err
				}
				if i >= 3 {
					times = append(times, float64(time.Since(start).Microseconds())/1000)
				}
			}
			sort.Float64s(times)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			out, err := json.Marshal(map[string]any{
				"summary": true, "blas": kernels.BLAS(), "seq_len": *seqLen, "batch_size": *batch, "dim": *dim, "hidden": *hidden,
				"steps": *steps, "threads": runtime.GOMAXPROCS(0),
				"median_ms_per_step": round2(times[len(times)/2]),
				"min_ms_per_step":    round2(times[0]),
				"heap_sys_mib":       round2(float64(ms.HeapSys) / (1 << 20)),
			})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "%s\n", out)
			return err
		}
	},
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }
