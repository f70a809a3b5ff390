package layers

import (
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// Summary writes a Keras-style table of layers: each layer's name and
// type, its output shape for a model input of shape inputShape (-1 for a
// size known only at run time, printed None), and its parameter count,
// then the total, trainable and non-trainable counts with thousands
// separators.
func Summary(w io.Writer, name string, layers []Layer, inputShape []int) error {
	type row struct{ layer, shape, params string }
	rows := []row{{"Layer (type)", "Output Shape", "Param #"}}
	shape := append([]int{}, inputShape...)
	var trainable, frozen int
	for _, l := range layers {
		shape = l.OutputShape(shape)
		tr, fr := CountParams(l.Params())
		trainable += tr
		frozen += fr
		rows = append(rows, row{
			layer:  fmt.Sprintf("%s (%s)", l.Name(), typeName(l)),
			shape:  formatShape(shape),
			params: strconv.Itoa(tr + fr),
		})
	}
	// Keras's column widths (29, 26, 10 of 65), widened to fit.
	w1, w2, width := 29, 26, 65
	for _, r := range rows {
		w1 = max(w1, len(r.layer)+1)
		w2 = max(w2, len(r.shape)+1)
		width = max(width, w1+w2+len(r.params)+1)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Model: %q\n", name)
	rule := func(c string) { b.WriteString(strings.Repeat(c, width) + "\n") }
	line := func(r row) {
		b.WriteString(strings.TrimRight(fmt.Sprintf("%-*s%-*s%s", w1, r.layer, w2, r.shape, r.params), " ") + "\n")
	}
	rule("_")
	line(rows[0])
	rule("=")
	for i, r := range rows[1:] {
		line(r)
		if i < len(rows)-2 {
			rule("_")
		}
	}
	rule("=")
	fmt.Fprintf(&b, "Total params: %s\n", thousands(trainable+frozen))
	fmt.Fprintf(&b, "Trainable params: %s\n", thousands(trainable))
	fmt.Fprintf(&b, "Non-trainable params: %s\n", thousands(frozen))
	rule("_")
	_, err := io.WriteString(w, b.String())
	return err
}

// typeName is the layer's Go type name, which is its Keras class name.
func typeName(l Layer) string {
	t := reflect.TypeOf(l)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// formatShape writes a shape as Keras does: (None, 100, 256).
func formatShape(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		if d < 0 {
			parts[i] = "None"
		} else {
			parts[i] = strconv.Itoa(d)
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
