package models

import "golang.org/x/sys/unix"

// adviseHugePages asks Linux to back mem with transparent huge pages
// (2 MB), which it does where /sys/kernel/mm/transparent_hugepage/enabled
// is "madvise" or "always"; an error changes nothing but speed.
func adviseHugePages(mem []byte) { unix.Madvise(mem, unix.MADV_HUGEPAGE) }
