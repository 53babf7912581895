package main
import "io"
func runSweep(args []string, stdout, stderr io.Writer) error { return nil }
