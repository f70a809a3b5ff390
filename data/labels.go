package data

import (
	"fmt"
	"slices"
	"strings"
)

// Tasks a label set makes (SPEC section 2, "Labels").
const (
	Binary     = "binary"
	MultiClass = "multiclass"
	MultiLabel = "multilabel"
)

// LabelSet is the labels of a classification task in index order, and the
// task they make: two labels a binary task, more a multi-class one, and
// label lists a multi-label one.
type LabelSet struct {
	// Names are the labels in index order.
	Names []string
	// Task is Binary, MultiClass or MultiLabel.
	Task  string
	index map[string]int
}

// negativeFirst holds the pairs of binary labels whose order is negative,
// positive rather than byte order, in lower case.
var negativeFirst = map[[2]string]bool{
	{"0", "1"}: true, {"neg", "pos"}: true, {"negative", "positive"}: true,
}

// NewLabelSet collects the label set of training examples. The task is
// multi-label when multiLabel is set or an example has other than one
// label; else two labels make a binary task, ordered negative then positive
// when they are 0/1, neg/pos or negative/positive (any case) and in byte
// order otherwise, and three or more a multi-class task in byte order.
func NewLabelSet(examples []Example, multiLabel bool) (*LabelSet, error) {
	seen := map[string]bool{}
	for _, e := range examples {
		if len(e.Labels) != 1 {
			multiLabel = true
		}
		for _, l := range e.Labels {
			seen[l] = true
		}
	}
	names := make([]string, 0, len(seen))
	for l := range seen {
		names = append(names, l)
	}
	slices.Sort(names)
	task := MultiClass
	switch {
	case multiLabel:
		task = MultiLabel
		if len(names) == 0 {
			return nil, fmt.Errorf("no labels: every example's label list is empty")
		}
	case len(names) < 2:
		return nil, fmt.Errorf("one label only (%q): a classifier needs two or more", strings.Join(names, ""))
	case len(names) == 2:
		task = Binary
		if negativeFirst[[2]string{strings.ToLower(names[1]), strings.ToLower(names[0])}] {
			names[0], names[1] = names[1], names[0]
		}
	}
	return NewLabelSetOf(names, task)
}

// NewLabelSetOf makes the label set of a task from its names in index
// order, as a checkpoint stores them.
func NewLabelSetOf(names []string, task string) (*LabelSet, error) {
	switch {
	case task != Binary && task != MultiClass && task != MultiLabel:
		return nil, fmt.Errorf("task %q: want %s, %s or %s", task, Binary, MultiClass, MultiLabel)
	case task == Binary && len(names) != 2:
		return nil, fmt.Errorf("a binary task has 2 labels, not %d", len(names))
	case task == MultiClass && len(names) < 3:
		return nil, fmt.Errorf("a multi-class task has 3 or more labels, not %d", len(names))
	case len(names) == 0:
		return nil, fmt.Errorf("a %s task with no labels", task)
	}
	s := &LabelSet{Names: append([]string(nil), names...), Task: task, index: map[string]int{}}
	for i, n := range s.Names {
		if n == "" || strings.ContainsAny(n, "\t\n") {
			return nil, fmt.Errorf("label %d (%q): want a non-empty name without tabs or newlines", i, n)
		}
		if _, dup := s.index[n]; dup {
			return nil, fmt.Errorf("label %q given twice", n)
		}
		s.index[n] = i
	}
	return s, nil
}

// Len is the number of labels.
func (s *LabelSet) Len() int { return len(s.Names) }

// Index is the index of the label name, and whether the set has it.
func (s *LabelSet) Index(name string) (int, bool) {
	i, ok := s.index[name]
	return i, ok
}

// Width is the number of target values per example: one (the label's
// index) for single-label tasks, one per label (0 or 1) for multi-label.
func (s *LabelSet) Width() int {
	if s.Task == MultiLabel {
		return len(s.Names)
	}
	return 1
}

// Targets encodes the examples' labels as the flat float32 targets a
// Batch holds, Width values per example. path names the examples' file
// in errors: a label the set lacks is an error naming path and the
// example's line, as is an example with other than one label in a
// single-label task.
func (s *LabelSet) Targets(examples []Example, path string) ([]float32, error) {
	w := s.Width()
	out := make([]float32, len(examples)*w)
	for i, e := range examples {
		if s.Task != MultiLabel && len(e.Labels) != 1 {
			return nil, exampleError(path, e, i, "%d labels for a %s task, want one", len(e.Labels), s.Task)
		}
		for _, l := range e.Labels {
			k, ok := s.index[l]
			if !ok {
				return nil, exampleError(path, e, i, "label %q is not one of the %d labels the model was trained on (%s)", l, len(s.Names), s.list())
			}
			if s.Task == MultiLabel {
				out[i*w+k] = 1
			} else {
				out[i] = float32(k)
			}
		}
	}
	return out, nil
}

// list names the labels for an error, the first ten of them.
func (s *LabelSet) list() string {
	if len(s.Names) <= 10 {
		return strings.Join(s.Names, ", ")
	}
	return strings.Join(s.Names[:10], ", ") + ", ..."
}

// exampleError names the example's place: path:line, or path and the
// example's number when it has no line.
func exampleError(path string, e Example, i int, format string, args ...any) error {
	if e.Line > 0 {
		return lineError(path, e.Line, format, args...)
	}
	return fmt.Errorf("%s: example %d: %s", path, i+1, fmt.Sprintf(format, args...))
}
