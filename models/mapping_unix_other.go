//go:build unix && !linux

package models

// adviseHugePages does nothing: huge pages are advised on Linux only.
func adviseHugePages([]byte) {}
