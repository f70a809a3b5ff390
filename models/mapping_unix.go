//go:build unix

package models

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps size bytes of f from its start, private and writable.
func mapFile(f *os.File, size int) ([]byte, error) {
	return unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
}

// mapZeros maps size bytes of zeros, private, advised to huge pages.
func mapZeros(size int) ([]byte, error) {
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, err
	}
	adviseHugePages(mem)
	return mem, nil
}

// unmap unmaps what mapFile or mapZeros mapped.
func unmap(mem []byte) error { return unix.Munmap(mem) }
