//go:build !unix

package models

import (
	"errors"
	"os"
)

// mapFile is not available here: model.safetensors is read.
func mapFile(*os.File, int) ([]byte, error) { return nil, errors.ErrUnsupported }

// mapZeros is not available here: a table is a Go slice.
func mapZeros(int) ([]byte, error) { return nil, errors.ErrUnsupported }

// unmap is never called here.
func unmap([]byte) error { return errors.ErrUnsupported }
