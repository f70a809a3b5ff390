package train

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// barWidth is the number of cells of the bar, as Keras's Progbar.
const barWidth = 30

// Progress reports training as it goes. On a terminal it draws Keras's
// progress bar, redrawn in place with a carriage return at most every
// Interval:
//
//	Epoch 3/10
//	 12/267 [=>............................] - ETA: 31s - 118ms/step - loss: 0.6931 - accuracy: 0.5000
//
// and ends each epoch with the bar full, the time taken and the validation
// scores. Elsewhere (a file, a pipe, CI logs) it writes one plain line per
// epoch:
//
//	epoch 3/10 - 11.2s - loss: 0.6931 - accuracy: 0.5000 - val_loss: 0.6012 - val_accuracy: 0.6800
//
// Write errors are ignored: a display that cannot be written must not stop
// training.
//
// A line redrawn in place must fit the terminal: one that wraps leaves its
// first part behind at each carriage return. With Width set, the bar
// narrows (to 10 cells) and then the line is cut so that it takes at
// most Width-1 columns.
type Progress struct {
	// Interval is the least time between two redraws of the bar (default
	// 100ms); the last step of an epoch is always drawn.
	Interval time.Duration
	// Metric names the score Update reports (default "accuracy"; a
	// multi-label task's is "micro_f1", see Metrics.MainName).
	Metric string
	// Width is the terminal's width in columns; 0 for no limit.
	Width int

	w        io.Writer
	terminal bool
	now      func() time.Time

	epoch, epochs, steps int
	start, drawn         time.Time
	perStep              time.Duration
	width                int // of the line last drawn, to blank its tail
}

// NewProgress makes a progress report written to w, drawn as a bar when
// terminal is true and as one line per epoch otherwise.
func NewProgress(w io.Writer, terminal bool) *Progress {
	return &Progress{Interval: 100 * time.Millisecond, Metric: "accuracy", w: w, terminal: terminal, now: time.Now}
}

// BeginEpoch starts the report of epoch (from 1) of epochs, which will
// take steps optimizer steps.
func (p *Progress) BeginEpoch(epoch, epochs, steps int) {
	p.epoch, p.epochs, p.steps = epoch, epochs, steps
	p.start = p.now()
	p.drawn = time.Time{}
	p.perStep = 0
	p.width = 0
	if p.terminal {
		fmt.Fprintf(p.w, "Epoch %d/%d\n", epoch, epochs)
	}
}

// Update reports that done of the epoch's steps are finished, with the
// running mean loss and main metric (Metric) of the epoch so far.
func (p *Progress) Update(done int, loss, metric float64) {
	now := p.now()
	elapsed := now.Sub(p.start)
	if done > 0 {
		p.perStep = elapsed / time.Duration(done)
	}
	if !p.terminal || done < p.steps && !p.drawn.IsZero() && now.Sub(p.drawn) < p.Interval {
		return
	}
	p.drawn = now
	var b strings.Builder
	if done < p.steps {
		fmt.Fprintf(&b, " - ETA: %s", formatETA(p.perStep*time.Duration(p.steps-done)))
	}
	fmt.Fprintf(&b, " - %s - loss: %.4f - %s: %.4f", formatPerStep(p.perStep), loss, p.Metric, metric)
	p.redraw(p.fit(done, b.String()))
}

// fit returns the bar of done steps followed by tail, narrowed and cut to
// fit in Width-1 columns.
func (p *Progress) fit(done int, tail string) string {
	line := p.barOf(done, barWidth) + tail
	if p.Width <= 0 || len(line) < p.Width {
		return line
	}
	cells := barWidth - (len(line) - (p.Width - 1))
	line = p.barOf(done, max(cells, 10)) + tail
	if len(line) >= p.Width {
		line = line[:max(p.Width-1, 0)]
	}
	return line
}

// EndEpoch finishes the epoch's report with its record.
func (p *Progress) EndEpoch(e Epoch) {
	var b strings.Builder
	if p.terminal {
		fmt.Fprintf(&b, "%s - %.0fs %s", p.bar(p.steps), e.Seconds, formatPerStep(p.perStep))
	} else {
		fmt.Fprintf(&b, "epoch %d/%d - %.1fs", e.Epoch, p.epochs, e.Seconds)
	}
	name := e.Train.MainName()
	fmt.Fprintf(&b, " - loss: %.4f - %s: %.4f", e.Train.Loss, name, e.Train.Main())
	if e.Val != nil {
		fmt.Fprintf(&b, " - val_loss: %.4f - val_%s: %.4f", e.Val.Loss, name, e.Val.Main())
	}
	if p.terminal {
		// Drawn once and followed by a newline: it may wrap.
		p.redraw(b.String())
		io.WriteString(p.w, "\n")
	} else {
		io.WriteString(p.w, b.String()+"\n")
	}
}

// Message writes a line of its own, such as a notice of early stopping,
// after the bar.
func (p *Progress) Message(format string, args ...any) {
	fmt.Fprintf(p.w, format+"\n", args...)
}

// bar draws "done/steps [====>.....]" as Keras's Progbar: the count right
// aligned to the width of steps, then the bar.
func (p *Progress) bar(done int) string { return p.barOf(done, barWidth) }

// barOf is bar with width cells.
func (p *Progress) barOf(done, width int) string {
	digits := len(fmt.Sprint(p.steps))
	var b strings.Builder
	fmt.Fprintf(&b, "%*d/%d [", digits, done, p.steps)
	filled := 0
	if p.steps > 0 {
		filled = width * done / p.steps
	}
	if filled > 0 {
		b.WriteString(strings.Repeat("=", filled-1))
		if done < p.steps {
			b.WriteByte('>')
		} else {
			b.WriteByte('=')
		}
	}
	b.WriteString(strings.Repeat(".", width-filled))
	b.WriteByte(']')
	return b.String()
}

// redraw replaces the current terminal line by line, blanking what is
// left of a longer previous one.
func (p *Progress) redraw(line string) {
	pad := ""
	if n := len(line); n < p.width {
		pad = strings.Repeat(" ", p.width-n)
	}
	p.width = len(line)
	io.WriteString(p.w, "\r"+line+pad)
}

// formatETA writes a duration as Keras does: 1:02:03, 2:03 or 31s.
func formatETA(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	switch {
	case s >= 3600:
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	case s >= 60:
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%ds", s)
}

// formatPerStep writes the time per step in s, ms or us, as Keras does.
func formatPerStep(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.0fs/step", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.0fms/step", d.Seconds()*1e3)
	}
	return fmt.Sprintf("%.0fus/step", d.Seconds()*1e6)
}
