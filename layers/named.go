package layers

// named gives a layer its name in summaries, Keras style: the layer's
// kind in lower case unless renamed.
type named struct{ name string }

// Name returns the layer's name in summaries.
func (n *named) Name() string { return n.name }

// SetName renames the layer in summaries; its parameters keep their
// checkpoint names.
func (n *named) SetName(name string) { n.name = name }
