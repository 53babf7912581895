package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSweepErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	one := write("one.yaml", "preset: seed\ngrid: {lr: [0.1]}\n")
	other := write("other.yaml", "preset: seed\ngrid: {lr: [0.2]}\n")
	out := filepath.Join(dir, "sw")
	// A shard without trials writes only the manifest.
	if code, stdout, errs := runCLI(t, "sweep", "-grid", one, "-out", out, "-shard", "1/2"); code != 0 || !strings.Contains(stdout, "1 trials") {
		t.Fatalf("empty shard: %d %s %s", code, stdout, errs)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sweep"}, 2, "-grid GRID.yaml and -out DIR are required"},
		{[]string{"sweep", "-grid", one}, 2, "are required"},
		{[]string{"sweep", "-grid", filepath.Join(dir, "none.yaml"), "-out", out}, 1, "no such file"},
		{[]string{"sweep", "-grid", write("bad.yaml", "grid: {lr: [1]}\nseeds: 3\n"), "-out", out}, 2, "bad.yaml:2: unknown key \"seeds\""},
		{[]string{"sweep", "-grid", write("badkey.yaml", "grid:\n  learning-rate: [1]\n"), "-out", out}, 2, "badkey.yaml:2: unknown key \"learning-rate\""},
		{[]string{"sweep", "-grid", one, "-out", out, "-shard", "2/2"}, 2, "numbered from 1?"},
		{[]string{"sweep", "-grid", other, "-out", out}, 1, "lists other trials"},
		{[]string{"sweep", "-summarize", out, "-grid", one}, 2, "takes no other flags"},
		{[]string{"sweep", "-summarize", t.TempDir()}, 1, "neither sweep.json nor run directories"},
	}
	for _, c := range cases {
		code, _, errs := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) || strings.Contains(errs, "goroutine") {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", c.args, code, c.code, errs, c.want)
		}
	}
	if code, stdout, _ := runCLI(t, "sweep", "-summarize", out); code != 0 || !strings.Contains(stdout, "000-lr_0.1: status pending") {
		t.Errorf("summary of an unstarted sweep: %d\n%s", code, stdout)
	}
}
