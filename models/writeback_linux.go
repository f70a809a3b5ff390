package models

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback hands the n bytes of f from off, just written, to the
// disk without waiting for them (sync_file_range(2) SYNC_FILE_RANGE_WRITE):
// the fsync that makes the file durable then finds them written or on
// their way. It makes nothing durable itself; an error changes nothing but
// speed.
func startWriteback(f *os.File, off, n int64) {
	unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
