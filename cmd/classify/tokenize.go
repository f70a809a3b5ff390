package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"github.com/classify/classify/data"
	"github.com/classify/classify/models"
)

var tokenizeCommand = command{
	summary: "show the token ids and tokens that texts become",
	usage:   "--checkpoint DIR [--json] [TEXT ...]",
	example: `classify tokenize --checkpoint checkpoints/rt --json "It's a gem!"`,
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		ckpt := fs.String("checkpoint", "", "checkpoint `folder` whose tokenizer to use (required)")
		asJSON := fs.Bool("json", false, `print {"text":...,"ids":[...],"tokens":[...]} per line`)
		return func(e *env, args []string) error {
			if *ckpt == "" {
				return usagef("--checkpoint is required")
			}
			cfg, tok, err := models.LoadTokenizer(*ckpt)
			if err != nil {
				return err
			}
			maxLen, err := cfg.MaxLen()
			if err != nil {
				return err
			}
			out := bufio.NewWriter(e.stdout)
			defer out.Flush()
			show := func(texts []string) error {
				for _, text := range texts {
					ids, tokens := tok.Encode(text, maxLen)
					if *asJSON {
						js, err := json.Marshal(struct {
							Text   string   `json:"text"`
							IDs    []int    `json:"ids"`
							Tokens []string `json:"tokens"`
						}{text, ids, tokens})
						if err != nil {
							return err
						}
						fmt.Fprintf(out, "%s\n", js)
						continue
					}
					parts := make([]string, len(ids))
					for i := range ids {
						parts[i] = fmt.Sprintf("%s:%d", tokens[i], ids[i])
					}
					fmt.Fprintf(out, "%s\t%s\n", strings.Join(parts, " "), text)
				}
				return out.Flush()
			}
			if len(args) > 0 {
				return show(args)
			}
			return forEachLineBatch(e.stdin, 256, data.DefaultMaxLineBytes, show)
		}
	},
}
