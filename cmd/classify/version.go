package main

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

var versionCommand = command{
	summary: "print the module version, VCS revision and Go version of this binary",
	usage:   "",
	example: "classify version",
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			fmt.Fprintln(e.stdout, versionLine())
			return nil
		}
	},
}

// buildVersion is the main module's version as the build recorded it:
// a tag for "go install ...@vX", "(devel)" for a build in a clone.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" {
		return "(devel)"
	}
	return bi.Main.Version
}

// versionLine is what "classify version" prints: the module path and
// version, the VCS revision and time and whether the tree was modified
// when the build recorded them (not with -buildvcs=false), and Go's
// version and platform.
func versionLine() string {
	path, rev, when, dirty := "github.com/classify/classify", "", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path != "" {
			path = bi.Main.Path
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	line := fmt.Sprintf("classify %s (%s)", buildVersion(), path)
	switch {
	case rev != "":
		if len(rev) > 12 {
			rev = rev[:12]
		}
		line += " revision " + rev
		if when != "" {
			line += " " + when
		}
		if dirty {
			line += " modified"
		}
	default:
		line += " revision unknown (built without VCS information)"
	}
	return line + fmt.Sprintf(" %s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
