package train

import (
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestProgressBar(t *testing.T) {
	tests := []struct {
		done, steps int
		want        string
	}{
		// Keras's Progbar: int(30*done/steps) cells, the last one '>'
		// until the end.
		{0, 267, "  0/267 [..............................]"},
		{12, 267, " 12/267 [>.............................]"},
		{18, 267, " 18/267 [=>............................]"},
		{150, 300, "150/300 [==============>...............]"},
		{267, 267, "267/267 [==============================]"},
		{1, 1, "1/1 [==============================]"},
		{0, 0, "0/0 [..............................]"},
	}
	for _, tc := range tests {
		p := NewProgress(nil, true)
		p.steps = tc.steps
		if got := p.bar(tc.done); got != tc.want {
			t.Errorf("bar(%d/%d) = %q, want %q", tc.done, tc.steps, got, tc.want)
		}
	}
}

func TestProgressTerminal(t *testing.T) {
	var out strings.Builder
	clock := &fakeClock{t: time.Unix(0, 0)}
	p := NewProgress(&out, true)
	p.now = clock.now
	p.BeginEpoch(3, 10, 4)
	clock.advance(120 * time.Millisecond)
	p.Update(1, 0.69314, 0.5)
	clock.advance(50 * time.Millisecond) // under Interval: not drawn
	p.Update(2, 0.6, 0.625)
	clock.advance(60 * time.Millisecond)
	p.Update(3, 0.55, 0.75)
	clock.advance(5 * time.Millisecond) // the last step is always drawn
	p.Update(4, 0.5, 0.8)
	clock.advance(1500 * time.Millisecond)
	p.EndEpoch(Epoch{Epoch: 3, Seconds: 1.735, Train: Metrics{Loss: 0.5, Accuracy: 0.8},
		Val: &Metrics{Loss: 0.45678, Accuracy: 0.75}})
	// 30*1/4 = 7 cells (the 7th '>'), 30*3/4 = 22; the third line is
	// 10 characters shorter than the second (no " - ETA: 0s"), so 10
	// blanks follow it.
	want := "Epoch 3/10\n" +
		"\r1/4 [======>.......................] - ETA: 0s - 120ms/step - loss: 0.6931 - accuracy: 0.5000" +
		"\r3/4 [=====================>........] - ETA: 0s - 77ms/step - loss: 0.5500 - accuracy: 0.7500 " +
		"\r4/4 [==============================] - 59ms/step - loss: 0.5000 - accuracy: 0.8000          " +
		"\r4/4 [==============================] - 2s 59ms/step - loss: 0.5000 - accuracy: 0.8000 - val_loss: 0.4568 - val_accuracy: 0.7500\n"
	if got := out.String(); got != want {
		t.Errorf("terminal output\n%q\nwant\n%q", got, want)
	}
}

func TestProgressPlain(t *testing.T) {
	var out strings.Builder
	clock := &fakeClock{t: time.Unix(0, 0)}
	p := NewProgress(&out, false)
	p.now = clock.now
	for epoch := 1; epoch <= 2; epoch++ {
		p.BeginEpoch(epoch, 2, 3)
		for step := 1; step <= 3; step++ {
			clock.advance(time.Second)
			p.Update(step, 0.7, 0.5)
		}
		e := Epoch{Epoch: epoch, Seconds: 11.24, Train: Metrics{Loss: 0.69314, Accuracy: 0.5}}
		if epoch == 2 {
			e.Val = &Metrics{Loss: 0.6012, Accuracy: 0.68}
		}
		p.EndEpoch(e)
	}
	want := "epoch 1/2 - 11.2s - loss: 0.6931 - accuracy: 0.5000\n" +
		"epoch 2/2 - 11.2s - loss: 0.6931 - accuracy: 0.5000 - val_loss: 0.6012 - val_accuracy: 0.6800\n"
	if got := out.String(); got != want {
		t.Errorf("plain output\n%q\nwant\n%q", got, want)
	}
}

func TestFormatETA(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{31*time.Second + 400*time.Millisecond, "31s"},
		{59*time.Second + 600*time.Millisecond, "1:00"},
		{2*time.Minute + 3*time.Second, "2:03"},
		{time.Hour + 2*time.Minute + 3*time.Second, "1:02:03"},
	}
	for _, tc := range tests {
		if got := formatETA(tc.d); got != tc.want {
			t.Errorf("formatETA(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestFormatPerStep(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{2500 * time.Millisecond, "2s/step"},
		{118 * time.Millisecond, "118ms/step"},
		{850 * time.Microsecond, "850us/step"},
	}
	for _, tc := range tests {
		if got := formatPerStep(tc.d); got != tc.want {
			t.Errorf("formatPerStep(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// screen is a terminal of width columns, as xterm draws: a character
// written past the last column wraps to the next row; '\r' returns to the
// row's start, '\n' goes to the next row.
type screen struct {
	width    int
	rows     [][]byte
	row, col int
}

func (s *screen) Write(b []byte) (int, error) {
	for _, c := range b {
		switch c {
		case '\r':
			s.col = 0
		case '\n':
			s.row, s.col = s.row+1, 0
		default:
			if s.col == s.width {
				s.row, s.col = s.row+1, 0
			}
			for len(s.rows) <= s.row {
				s.rows = append(s.rows, nil)
			}
			r := s.rows[s.row]
			for len(r) <= s.col {
				r = append(r, ' ')
			}
			r[s.col] = c
			s.rows[s.row] = r
			s.col++
		}
	}
	return len(b), nil
}

// TestProgressFitsTerminal draws an epoch's bar many times on an
// 80-column screen: it must stay on one row under the "Epoch" line, with
// nothing left of earlier draws.
func TestProgressFitsTerminal(t *testing.T) {
	for _, width := range []int{80, 60, 40} {
		scr := &screen{width: width}
		clock := &fakeClock{t: time.Unix(0, 0)}
		p := NewProgress(scr, true)
		p.Width = width
		p.now = clock.now
		p.BeginEpoch(1, 10, 2670)
		for done := 1; done < 2670; done += 97 {
			clock.advance(time.Second)
			p.Update(done, 0.693147, 0.5)
		}
		var lines []string
		for _, r := range scr.rows {
			lines = append(lines, strings.TrimRight(string(r), " "))
		}
		if len(lines) != 2 || lines[0] != "Epoch 1/10" || !strings.HasPrefix(lines[1], "2620/2670 [") {
			t.Errorf("%d columns: the screen shows %q, want the Epoch line and one bar line", width, lines)
		}
		if width == 80 && !strings.Contains(lines[1], "loss: 0.6931 - accuracy: 0.5000") {
			t.Errorf("80 columns: the bar %q lost its loss and accuracy", lines[1])
		}
	}
	// Without a width the line is Keras's, longer than 80 columns.
	p := NewProgress(nil, true)
	p.steps = 2670
	if got := p.fit(2620, " - ETA: 1:02 - 1s/step - loss: 0.6931 - accuracy: 0.5000"); len(got) < 80 {
		t.Errorf("fit with no width = %q, want the whole line", got)
	}
}
