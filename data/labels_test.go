package data

import (
	"reflect"
	"strings"
	"testing"
)

func examplesOf(labels ...string) []Example {
	ex := make([]Example, len(labels))
	for i, l := range labels {
		ex[i] = Example{Text: "t", Labels: []string{l}, Line: i + 1}
	}
	return ex
}

func TestNewLabelSet(t *testing.T) {
	tests := []struct {
		labels []string
		multi  bool
		task   string
		names  []string
	}{
		{[]string{"1", "0", "1"}, false, Binary, []string{"0", "1"}},
		{[]string{"pos", "neg"}, false, Binary, []string{"neg", "pos"}},
		{[]string{"Positive", "NEGATIVE"}, false, Binary, []string{"NEGATIVE", "Positive"}},
		{[]string{"yes", "no"}, false, Binary, []string{"no", "yes"}},
		{[]string{"b", "a"}, false, Binary, []string{"a", "b"}},
		{[]string{"1", "2", "10"}, false, MultiClass, []string{"1", "10", "2"}},
		{[]string{"LOC", "HUM", "NUM", "HUM"}, false, MultiClass, []string{"HUM", "LOC", "NUM"}},
		{[]string{"pos", "neg"}, true, MultiLabel, []string{"neg", "pos"}},
		{[]string{"x"}, true, MultiLabel, []string{"x"}},
	}
	for _, tt := range tests {
		s, err := NewLabelSet(examplesOf(tt.labels...), tt.multi)
		if err != nil || s.Task != tt.task || !reflect.DeepEqual(s.Names, tt.names) {
			t.Errorf("NewLabelSet(%q, %v) = %+v, %v; want %s %q", tt.labels, tt.multi, s, err, tt.task, tt.names)
		}
	}
	if _, err := NewLabelSet(examplesOf("only", "only"), false); err == nil {
		t.Errorf("NewLabelSet(one label) succeeded, want an error")
	}
	lists := []Example{{Labels: []string{"grain", "wheat"}}, {Labels: []string{}}, {Labels: []string{"earn"}}}
	s, err := NewLabelSet(lists, false)
	if err != nil || s.Task != MultiLabel || !reflect.DeepEqual(s.Names, []string{"earn", "grain", "wheat"}) {
		t.Errorf("NewLabelSet(label lists) = %+v, %v; want a multi-label task of earn, grain, wheat", s, err)
	}
}

func TestLabelSetTargets(t *testing.T) {
	s, _ := NewLabelSetOf([]string{"HUM", "LOC", "NUM"}, MultiClass)
	got, err := s.Targets(examplesOf("NUM", "HUM"), "a.tsv")
	if want := []float32{2, 0}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Targets = %v, %v; want %v", got, err, want)
	}
	_, err = s.Targets(examplesOf("HUM", "DESC"), "test.tsv")
	if err == nil || !strings.HasPrefix(err.Error(), `test.tsv:2: label "DESC" is not one of the 3 labels`) {
		t.Errorf("Targets(unseen label) error = %v, want test.tsv:2: label \"DESC\" ...", err)
	}
	m, _ := NewLabelSetOf([]string{"earn", "grain", "wheat"}, MultiLabel)
	got, err = m.Targets([]Example{{Labels: []string{"wheat", "grain"}}, {Labels: []string{}}}, "r.tsv")
	if want := []float32{0, 1, 1, 0, 0, 0}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("multi-label Targets = %v, %v; want %v", got, err, want)
	}
	if _, err := m.Targets([]Example{{Labels: []string{"corn"}}}, "r.tsv"); err == nil || !strings.Contains(err.Error(), "r.tsv: example 1: label \"corn\"") {
		t.Errorf("multi-label Targets(unseen, no line) error = %v", err)
	}
	for _, tt := range []struct {
		names []string
		task  string
	}{{[]string{"a"}, Binary}, {[]string{"a", "b"}, MultiClass}, {[]string{"a", "a", "b"}, MultiClass}, {[]string{"a", "b\tc"}, Binary}, {nil, MultiLabel}, {[]string{"a", "b"}, "ranking"}} {
		if _, err := NewLabelSetOf(tt.names, tt.task); err == nil {
			t.Errorf("NewLabelSetOf(%q, %s) succeeded, want an error", tt.names, tt.task)
		}
	}
}
