package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// buildInfo is debug.ReadBuildInfo, replaced in tests.
var buildInfo = debug.ReadBuildInfo

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "version", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, versionString())
	return nil
}

// versionString is "matapprox VERSION (revision REV, TIME[, modified]) GO OS/ARCH":
// the main module's version and the VCS stamp that `go build` records.
func versionString() string {
	version, rev, when, modified := "(unknown)", "", "", false
	if info, ok := buildInfo(); ok {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	s := "matapprox " + version
	if rev != "" {
		s += " (revision " + rev
		if when != "" {
			s += ", " + when
		}
		if modified {
			s += ", modified"
		}
		s += ")"
	} else {
		s += " (no VCS revision recorded)"
	}
	return fmt.Sprintf("%s %s %s/%s", s, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
