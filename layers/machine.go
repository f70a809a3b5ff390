package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Machine is a Graph compiled once and run for every batch of its shape.
// Gorgonia graphs have fixed shapes, so a model keeps one Machine per
// (batch, length) bucket and feeds it new inputs each time; the layers'
// Params are shared by all of them.
type Machine struct {
	graph *Graph
	vm    G.VM
	grads bool // the backward pass is compiled in
}

// Compile compiles g. With a loss and g.Training it adds the backward
// pass for every trainable parameter used in g, so that each Run leaves
// their gradients in Param.Grad; frozen parameters get no gradient node.
func Compile(g *Graph, loss *G.Node) (*Machine, error) {
	if loss == nil || !g.Training {
		return &Machine{graph: g, vm: G.NewTapeMachine(g.ExprGraph)}, nil
	}
	if !loss.IsScalar() {
		return nil, fmt.Errorf("compile: loss of shape %v, want a scalar", loss.Shape())
	}
	_, nodes := g.Trainable()
	if len(nodes) > 0 {
		if _, err := G.Grad(loss, nodes...); err != nil {
			return nil, fmt.Errorf("compile: gradients: %w", err)
		}
	}
	// The symbolic backward pass is differentiated for the TapeMachine; on
	// Gorgonia's LispMachine ByIndices-style gathers get wrong gradients.
	return &Machine{graph: g, vm: G.NewTapeMachine(g.ExprGraph, G.BindDualValues(nodes...)), grads: len(nodes) > 0}, nil
}

// Run binds each input node to its value, runs the graph (and its
// backward pass when compiled with a loss), copies the gradients into the
// trainable Params and readies the machine for the next run. Output
// values may be reused by the next Run: copy what must outlive it.
func (m *Machine) Run(inputs map[*G.Node]*tensor.Dense) error {
	for n, v := range inputs {
		if err := G.Let(n, v); err != nil {
			return fmt.Errorf("run: input %s: %w", n.Name(), err)
		}
	}
	// Reset also on failure, so that the next Run starts from the top.
	defer m.vm.Reset()
	if err := m.vm.RunAll(); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	if m.grads {
		return m.graph.ReadGrads()
	}
	return nil
}

// Close releases the machine.
func (m *Machine) Close() error { return m.vm.Close() }
