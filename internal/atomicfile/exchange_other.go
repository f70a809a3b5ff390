//go:build !linux

package atomicfile

import "errors"

// exchange reports that this system cannot swap two entries in one step;
// WriteDir then swaps with two renames.
func exchange(from, to string) error { return errors.ErrUnsupported }
