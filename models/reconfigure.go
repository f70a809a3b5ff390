package models

import (
	"fmt"

	"gorgonia.org/tensor"
)

// Reconfigure returns a classifier of configuration cfg holding c's weights,
// for the settings that change how a model trains but not its weights:
// FreezeEmbeddings (fine-tuning) and Dropout. Any other difference is an
// error naming the setting.
func (c *Classifier) Reconfigure(cfg Config) (*Classifier, error) {
	a, b := c.Config, cfg
	a.FreezeEmbeddings, b.FreezeEmbeddings = false, false
	a.Dropout, b.Dropout = 0, 0
	if a != b {
		return nil, fmt.Errorf("the model's shape cannot change: checkpoint %+v, asked %+v", c.Config, cfg)
	}
	emb := c.Embedding.Params()[0].Value
	m, err := NewClassifier(cfg, emb.Clone().(*tensor.Dense), 0)
	if err != nil {
		return nil, err
	}
	old := map[string]*tensor.Dense{}
	for _, p := range c.Params() {
		old[p.Name] = p.Value
	}
	for _, p := range m.Params() {
		v, ok := old[p.Name]
		if !ok {
			return nil, fmt.Errorf("no weights for %s", p.Name)
		}
		copy(p.Value.Data().([]float32), v.Data().([]float32))
	}
	return m, nil
}
