package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/classify/classify/internal/atomicfile"
	"github.com/classify/classify/models"
)

// fileJob is one batch of an --input file's lines, numbered in order.
type fileJob struct {
	seq   int
	first int // line number of texts[0]
	texts []string
	preds []models.Prediction
	err   error
}

// predictFile scores every line of the file in and writes the predictions,
// in order, to the file out (atomically: on an error nothing is written).
// verify, the checkpoint's checks, runs meanwhile: the file is written only
// when it passes, and its error comes before any other.
// Batches of batch lines go to as many workers as the predictor has
// replicas, so every core scores; at most two batches per worker are held
// at once, so memory does not grow with the file. Progress (lines, lines
// per second, share of the file read, ETA) goes to stderr.
func predictFile(e *env, p *models.Predictor, verify func() error, in, out string, batch, maxLine int, write func(io.Writer, string, models.Prediction) error) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	counted := &countingReader{r: f}
	workers := p.Replicas()
	jobs := make(chan *fileJob, workers)
	done := make(chan *fileJob, workers)
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }

	// The reader: batches of lines, in order.
	var readErr error
	go func() {
		defer close(jobs)
		br := bufio.NewReaderSize(counted, 1<<16)
		seq, lineNo := 0, 0
		next := &fileJob{first: 1}
		send := func() bool {
			if len(next.texts) == 0 {
				return true
			}
			select {
			case jobs <- next:
			case <-stop:
				return false
			}
			seq++
			next = &fileJob{seq: seq, first: lineNo + 1}
			return true
		}
		for {
			line, err := readLine(br, maxLine)
			if errors.Is(err, errLineTooLong) {
				readErr = fmt.Errorf("%s:%d: line longer than --max-line-bytes %d", in, lineNo+1, maxLine)
				return
			}
			if len(line) > 0 || err == nil {
				lineNo++
				line = strings.TrimRight(line, "\r\n")
				if !utf8.ValidString(line) {
					readErr = fmt.Errorf("%s:%d: text is not valid UTF-8", in, lineNo)
					return
				}
				next.texts = append(next.texts, line)
				if len(next.texts) >= batch && !send() {
					return
				}
			}
			if err == io.EOF {
				send()
				return
			}
			if err != nil {
				readErr = fmt.Errorf("%s: %w", in, err)
				return
			}
		}
	}()

	// The workers: each batch scored on a free replica.
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.preds, j.err = p.Predict(j.texts)
				select {
				case done <- j:
				case <-stop:
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	// The writer: batches put back in order.
	start := time.Now()
	lines := 0
	progress := newLineProgress(e, size)
	err = atomicfile.Write(out, func(w io.Writer) (err error) {
		defer func() {
			if verr := verify(); verr != nil {
				halt()
				err = verr
			}
		}()
		pending := map[int]*fileJob{}
		want := 0
		for j := range done {
			pending[j.seq] = j
			for pending[want] != nil {
				j := pending[want]
				delete(pending, want)
				want++
				if j.err != nil {
					halt()
					return fmt.Errorf("%s: lines %d-%d: %w", in, j.first, j.first+len(j.texts)-1, j.err)
				}
				for i, pr := range j.preds {
					if err := write(w, j.texts[i], pr); err != nil {
						halt()
						return err
					}
				}
				lines += len(j.texts)
				progress.update(lines, counted.n.Load(), time.Since(start))
			}
		}
		if readErr != nil {
			return readErr
		}
		return nil
	})
	halt()
	progress.finish(lines, counted.n.Load(), time.Since(start))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "%d predictions written to %s\n", lines, out)
	return nil
}

// countingReader counts the bytes read through it, for the progress: the
// reader goroutine adds, the writer reads.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// lineProgress reports the lines scored: redrawn in place on a terminal
// every 200ms, one line at the end elsewhere.
type lineProgress struct {
	e     *env
	size  int64
	drawn time.Time
}

func newLineProgress(e *env, size int64) *lineProgress { return &lineProgress{e: e, size: size} }

func (p *lineProgress) line(lines int, read int64, elapsed time.Duration) string {
	rate := float64(lines) / max(elapsed.Seconds(), 1e-9)
	s := fmt.Sprintf("%d lines, %.0f lines/s", lines, rate)
	if p.size > 0 {
		frac := float64(read) / float64(p.size)
		s += fmt.Sprintf(", %.0f%% of the file", 100*frac)
		if frac > 0 && frac < 1 {
			eta := time.Duration(float64(elapsed) * (1 - frac) / frac)
			s += fmt.Sprintf(", ETA %s", eta.Round(time.Second))
		}
	}
	return s
}

func (p *lineProgress) update(lines int, read int64, elapsed time.Duration) {
	if !p.e.terminal || time.Since(p.drawn) < 200*time.Millisecond {
		return
	}
	p.drawn = time.Now()
	fmt.Fprintf(p.e.stderr, "\r%s\x1b[K", p.line(lines, read, elapsed))
}

func (p *lineProgress) finish(lines int, read int64, elapsed time.Duration) {
	if p.e.terminal {
		fmt.Fprintf(p.e.stderr, "\r%s\x1b[K\n", p.line(lines, read, elapsed))
		return
	}
	fmt.Fprintf(p.e.stderr, "%s in %.1fs\n", p.line(lines, read, elapsed), elapsed.Seconds())
}
