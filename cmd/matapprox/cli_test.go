package main

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/train"
)

// TestUsage checks the top-level help: every command on one line, exit 0
// for -h and help, 2 for no arguments, and no arguments start nothing.
func TestUsage(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		code, out, _ := runCLI(t, args...)
		if code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		for _, c := range commands {
			if !strings.Contains(out, "\n  "+c.name+" ") {
				t.Errorf("%v: usage lacks %s:\n%s", args, c.name, out)
			}
		}
	}
	code, out, errs := runCLI(t)
	if code != 2 || out != "" || !strings.Contains(errs, "Commands:") {
		t.Errorf("no arguments: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, _, errs = runCLI(t, "-epochs", "3")
	if code != 2 || !strings.Contains(errs, "matapprox train -epochs 3") {
		t.Errorf("flags without a command: exit %d, %q", code, errs)
	}
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Errorf("help or no arguments created %v", entries)
	}
}

// TestHelpCommand checks that help CMD is CMD -h, for every command.
func TestHelpCommand(t *testing.T) {
	for _, c := range commands {
		if c.name == "help" {
			continue
		}
		c1, o1, e1 := runCLI(t, "help", c.name)
		c2, o2, e2 := runCLI(t, c.name, "-h")
		// (A command that prints no help at all is a placeholder under construction.)
		if c1 != 0 || c2 != 0 || o1 != o2 || e1 != e2 || o1+e1 != "" && !strings.Contains(o1+e1, "Usage: matapprox "+c.name) {
			t.Errorf("help %s (exit %d) differs from %s -h (exit %d):\n%s%s\n----\n%s%s", c.name, c1, c.name, c2, o1, e1, o2, e2)
		}
	}
	if code, _, errs := runCLI(t, "help", "trian"); code != 2 || !strings.Contains(errs, "did you mean train?") {
		t.Errorf("help trian: %d %q", code, errs)
	}
	if code, out, errs := runCLI(t, "help", "-h"); code != 0 || !strings.Contains(out, "Commands:") || errs != "" {
		t.Errorf("help -h: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "matapprox ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, out2, _ := runCLI(t, "--version"); code != 0 || out2 != out {
		t.Errorf("--version: %d %q", code, out2)
	}
}

// TestSuggestions checks "did you mean" for commands, flags, presets,
// choice values and configuration keys, and case-insensitive choices.
func TestSuggestions(t *testing.T) {
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "c.yaml")
	os.WriteFile(cfg, []byte("epochs: 2\nbatchsize: 3\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"trian"}, "did you mean train?"},
		{[]string{"train", "-epoch", "3"}, "did you mean -epochs?"},
		{[]string{"eval", "-modle", "x"}, "did you mean -model?"},
		{[]string{"train", "-preset", "spectal"}, "did you mean spectral?"},
		{[]string{"train", "-optimizer", "adma"}, "did you mean adam?"},
		{[]string{"train", "-activation", "rleu"}, "did you mean relu?"},
		{[]string{"train", "-data", "gausian"}, "did you mean gaussian?"},
		{[]string{"train", "-config", cfg}, "did you mean batch-size?"},
		{[]string{"optimal", "-loss", "spectal", "-matrix", "1,2,3", "-out-band", "0"}, "did you mean spectral?"},
	} {
		code, _, errs := runCLI(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
	code, out, errs := runCLI(t, "train", "-print-config", "-optimizer", "SGD", "-loss", "Spectral", "-preset", "SEED")
	if code != 0 || !strings.Contains(out, "optimizer: sgd\n") || !strings.Contains(out, "loss: spectral\n") {
		t.Errorf("case-insensitive choices: %d %q %q", code, out, errs)
	}
}

// TestPrintConfig checks that -print-config resolves preset, file and
// flags, prints YAML that reads back to the same configuration, and trains
// nothing.
func TestPrintConfig(t *testing.T) {
	t.Chdir(t.TempDir())
	os.WriteFile("c.yaml", []byte("epochs: 4\nlr: 0.5\n"), 0o644)
	code, out, errs := runCLI(t, "train", "-preset", "seed", "-config", "c.yaml", "-lr", "0.1", "-standardize", "false", "-print-config")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	cfg, err := train.ParseConfig([]byte(out), "stdout", train.Config{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := train.Preset("seed")
	want.Epochs, want.LR = 4, 0.1
	want.ValFraction = 0 // the preset's default split does not apply to generated data: cleared
	if train.ConfigHash(&cfg) != train.ConfigHash(&want) {
		t.Errorf("resolved\n%s\nwant\n%s", out, train.MarshalConfig(&want))
	}
	if _, err := os.Stat("runs"); err == nil {
		t.Error("-print-config created a run directory")
	}
	// -standardize false is -standardize=false.
	_, a, _ := runCLI(t, "train", "-standardize", "false", "-print-config")
	_, b, _ := runCLI(t, "train", "-standardize=false", "-print-config")
	if a != b || !strings.Contains(a, "standardize: false") {
		t.Errorf("-standardize false:\n%s\n-standardize=false:\n%s", a, b)
	}
}

// TestTrainHelp checks that train -h groups its flags and shows the chosen
// preset's values as defaults.
func TestTrainHelp(t *testing.T) {
	_, _, errs := runCLI(t, "train", "-preset", "spectral-32", "-h")
	var at []int
	for _, g := range []string{"Problem:", "Data:", "Network:", "Optimizer:", "Schedule:", "Run:"} {
		i := strings.Index(errs, "\n"+g+"\n")
		if i < 0 {
			t.Fatalf("no group %s in\n%s", g, errs)
		}
		at = append(at, i)
	}
	for i := 1; i < len(at); i++ {
		if at[i] < at[i-1] {
			t.Errorf("groups out of order: %v", at)
		}
	}
	for _, want := range []string{"matrix size N (default 32)", "-loss probe|frobenius|spectral", "(default spectral)", "(default 128,128)", "-print-config"} {
		if !strings.Contains(errs, want) {
			t.Errorf("train -h lacks %q", want)
		}
	}
	for _, k := range train.Keys() {
		if !strings.Contains(errs, "  -"+k+" ") && !strings.Contains(errs, "  -"+k+"\n") {
			t.Errorf("train -h lacks -%s", k)
		}
	}
}

// TestConfigExitCodes checks that each kind of configuration mistake, from
// a flag or a file, exits 2 with the file and line or the flag.
func TestConfigExitCodes(t *testing.T) {
	tmp := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(tmp, name)
		os.WriteFile(p, []byte(src), 0o644)
		return p
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "-config", write("a.yaml", "n: 13.7\n")}, "a.yaml:1: n: 13.7: not an integer"},
		{[]string{"train", "-config", write("b.yaml", "epochs: 2\nn: 015\n")}, "b.yaml:2: n: 015"},
		{[]string{"train", "-config", write("c.yaml", "seed: 2^64\n")}, "c.yaml:1: seed"},
		{[]string{"train", "-config", write("d.yaml", "n: 11\nout-band: 9\n")}, "d.yaml:2: out-band: 9: want an integer between 0 and 5"},
		{[]string{"train", "-config", write("e.yaml", "n: [1\n")}, "e.yaml:1"},
		{[]string{"train", "-epochs", "1.9"}, "-epochs 1.9: not an integer"},
		{[]string{"train", "-epochs", "0"}, "-epochs 0: want an integer between 1 and 1000000"},
		{[]string{"train", "-optimizer", "adam", "-momentum", "0.9"}, "-momentum 0.9: does not apply"},
		{[]string{"train", "-drop-factor", "0.5"}, "it is for schedule piecewise, and schedule is cosine"},
		{[]string{"train", "-hidden", "100,x"}, "-hidden 100,x"},
	} {
		code, _, errs := runCLI(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
	// A file that cannot be read is a failure (1), as for every command.
	for _, args := range [][]string{{"train", "-config", filepath.Join(tmp, "missing.yaml")}, {"train", "-resume", filepath.Join(tmp, "nodir")}} {
		if code, _, errs := runCLI(t, args...); code != 1 || !strings.Contains(errs, "no such file") {
			t.Errorf("%v: exit %d, %q; want 1 and no such file", args, code, errs)
		}
	}
}

// FuzzTrainFlags feeds arbitrary flags to train -print-config: it must
// exit 0 or 2, never panic, and what it prints must read back as a valid
// configuration.
func FuzzTrainFlags(f *testing.F) {
	f.Add("-epochs", "3", "-n", "015")
	f.Add("-standardize", "false", "-optimizer", "SGD")
	f.Add("-momentum", "0.9", "-hidden", "[1,2]")
	f.Add("-seed", "18446744073709551616", "-preset", "spectral-32")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		args := []string{"train", "-print-config", a, b, c, d}
		for _, s := range args[2:] {
			if strings.Contains(s, "config") || strings.Contains(s, "resume") || strings.Contains(s, "out") || strings.Contains(s, "print") {
				t.Skip("reads or names files, or trains")
			}
		}
		var out, errb strings.Builder
		code := run(args, &out, &errb)
		if code != 0 && code != 2 {
			t.Fatalf("%q: exit %d: %s", args, code, errb.String())
		}
		if code == 0 && strings.HasPrefix(out.String(), "n: ") {
			cfg, err := train.ParseConfig([]byte(out.String()), "stdout", train.Config{})
			if err != nil {
				t.Fatalf("%q: printed configuration does not parse: %v\n%s", args, err, out.String())
			}
			if err := cfg.Validate(); err != nil {
				t.Fatalf("%q: printed configuration is invalid: %v", args, err)
			}
		}
	})
}

// TestVersionString checks the version line from a build's VCS stamp.
func TestVersionString(t *testing.T) {
	old := buildInfo
	t.Cleanup(func() { buildInfo = old })
	buildInfo = func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-01T09:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}, true
	}
	want := "matapprox v1.2.3 (revision abc123, 2026-12-01T09:00:00Z, modified) " + runtime.Version()
	if got := versionString(); !strings.HasPrefix(got, want) {
		t.Errorf("got %q, want prefix %q", got, want)
	}
	buildInfo = func() (*debug.BuildInfo, bool) { return nil, false }
	if got := versionString(); !strings.HasPrefix(got, "matapprox (unknown) (no VCS revision recorded)") {
		t.Errorf("without build info: %q", got)
	}
}
