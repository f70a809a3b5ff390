package main

import "os"

// isTerminal reports whether f is a character device, a terminal, so that
// progress bars are drawn there and plain lines are written elsewhere.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
