package models

import (
	"fmt"
	"math/rand"

	"github.com/classify/classify/layers"
)

// The recurrent kinds of a Sequential's checkpoint: lstm, gru, and
// bidirectional over two of them (the two may differ in kind).

// bidirectionalSpec describes l, whose name sp holds.
func bidirectionalSpec(sp layerSpec, l *layers.Bidirectional) (layerSpec, error) {
	var dirs [2]layerSpec
	for i, r := range []layers.Recurrent{l.ForwardLayer, l.BackwardLayer} {
		if r == nil {
			return sp, fmt.Errorf("a bidirectional layer needs two recurrent layers")
		}
		d, err := specOf(r)
		if err != nil {
			return sp, err
		}
		if d.Kind != "lstm" && d.Kind != "gru" {
			return sp, fmt.Errorf("a bidirectional layer over a %T cannot be saved in a checkpoint yet: want LSTMs or GRUs", r)
		}
		dirs[i] = d
	}
	sp.Kind, sp.Forward, sp.Backward, sp.Merge = "bidirectional", &dirs[0], &dirs[1], l.Merge.String()
	return sp, nil
}

// checkBidirectional refuses a pair that Bidirectional cannot run: two
// lstm or gru layers, the second reading backwards, of one output kind and
// input width, and of one width unless concatenated.
func (sp layerSpec) checkBidirectional() error {
	if sp.Forward == nil || sp.Backward == nil {
		return fmt.Errorf("a bidirectional layer holds a forward and a backward lstm or gru")
	}
	f, b := *sp.Forward, *sp.Backward
	for _, d := range []struct {
		what string
		sp   layerSpec
	}{{"forward", f}, {"backward", b}} {
		if d.sp.Kind != "lstm" && d.sp.Kind != "gru" {
			return fmt.Errorf("%s layer of kind %q: want lstm or gru", d.what, d.sp.Kind)
		}
		if err := d.sp.check(0); err != nil {
			return fmt.Errorf("%s layer: %w", d.what, err)
		}
	}
	merge, err := parseEnum("merge", sp.Merge, mergeModes)
	switch {
	case err != nil:
		return err
	case f.Backwards || !b.Backwards:
		return fmt.Errorf("want a forward layer and a backwards one, have backwards %v and %v", f.Backwards, b.Backwards)
	case f.ReturnSequences != b.ReturnSequences:
		return fmt.Errorf("return_sequences %v and %v: the two layers differ in output kind", f.ReturnSequences, b.ReturnSequences)
	case f.In != b.In:
		return fmt.Errorf("in %d and %d: the two layers differ in input width", f.In, b.In)
	case merge != layers.MergeConcat && f.Out != b.Out:
		return fmt.Errorf("merge %v needs layers of one width, have out %d and %d", merge, f.Out, b.Out)
	}
	return nil
}

// bidirectionalOf makes the layer a checked bidirectional spec describes.
func bidirectionalOf(sp layerSpec, rng *rand.Rand) (*layers.Bidirectional, error) {
	var dirs [2]layers.Recurrent
	for i, d := range []*layerSpec{sp.Forward, sp.Backward} {
		l, err := layerOf(*d, rng)
		if err != nil {
			return nil, err
		}
		r, ok := l.(layers.Recurrent)
		if !ok {
			return nil, fmt.Errorf("a %T is not a recurrent layer", l)
		}
		dirs[i] = r
	}
	merge, err := parseEnum("merge", sp.Merge, mergeModes)
	if err != nil {
		return nil, err
	}
	return layers.NewBidirectional(dirs[0], dirs[1], merge), nil
}

// recurrentOptions are the options of NewLSTM and NewGRU that sp sets.
func (sp layerSpec) recurrentOptions() []layers.LSTMOption {
	var opts []layers.LSTMOption
	if sp.ReturnSequences {
		opts = append(opts, layers.ReturnSequences(true))
	}
	if sp.Backwards {
		opts = append(opts, layers.GoBackwards())
	}
	return opts
}
