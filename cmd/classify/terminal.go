package main

import (
	"os"

	"golang.org/x/term"

	"github.com/classify/classify/train"
)

// terminalOf describes the process's terminal for env: terminal is true
// when both stdout and stderr are interactive terminals, so that progress
// bars (drawn on stderr) appear only when a person watches both, and
// "classify train ... | cat" or "> log" get one line per epoch. width is
// stderr's width in columns, 80 when it cannot be told.
//
// term.IsTerminal asks the terminal driver (TCGETS on Linux): /dev/null
// and other character devices are not terminals, as they were for a test
// of os.ModeCharDevice.
func terminalOf(stdout, stderr *os.File) (terminal bool, width int) {
	terminal = term.IsTerminal(int(stdout.Fd())) && term.IsTerminal(int(stderr.Fd()))
	width = 80
	if w, _, err := term.GetSize(int(stderr.Fd())); err == nil && w > 0 {
		width = w
	}
	return terminal, width
}

// newProgress is the training progress of e: on stderr, a bar fitted to
// the terminal's width when e.terminal, else one line per epoch.
func newProgress(e *env) *train.Progress {
	p := train.NewProgress(e.stderr, e.terminal)
	p.Width = e.width
	return p
}
