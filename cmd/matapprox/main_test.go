package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/train"
)

// runCLI runs the command in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// quickTrain trains a tiny seed-preset run into dir.
func quickTrain(t *testing.T, dir string, extra ...string) {
	t.Helper()
	args := append([]string{"train", "-preset", "seed", "-epochs", "2", "-train-size", "300", "-val-size", "50", "-out", dir, "-no-report"}, extra...)
	if code, out, errs := runCLI(t, args...); code != 0 {
		t.Fatalf("train exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

func TestTrainEvalApproxOptimal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	quickTrain(t, dir)
	for _, f := range []string{train.ConfigFile, train.MetricsFile, train.CheckpointFile, "model.safetensors", "config.json", train.SummaryFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("run directory lacks %s", f)
		}
	}
	code, out, errs := runCLI(t, "eval", "-model", dir, "-matrix", "0,0,0,1,2,4,2,1,0,0,0", "-json")
	if code != 0 {
		t.Fatalf("eval: %d %s", code, errs)
	}
	var obj struct {
		N, InBand, OutBand int
		Results            []struct {
			Input          []float64
			Approximations map[string]struct {
				Generator                      []float64
				ProbeLoss, Frobenius, Spectral float64
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("eval -json: %v\n%s", err, out)
	}
	if len(obj.Results) != 1 {
		t.Fatalf("eval -json results: %s", out)
	}
	ap := obj.Results[0].Approximations
	for _, m := range eval.Methods {
		if len(ap[m].Generator) != 7 {
			t.Errorf("%s generator %v", m, ap[m].Generator)
		}
	}
	if ap["optimal"].ProbeLoss > ap["network"].ProbeLoss+1e-9 || ap["optimal"].ProbeLoss > ap["truncation"].ProbeLoss+1e-9 {
		t.Errorf("the optimum is beaten: %+v", ap)
	}
	// Held-out summary.
	if code, out, _ := runCLI(t, "eval", "-model", dir, "-count", "50"); code != 0 || !strings.Contains(out, "gap") {
		t.Errorf("eval summary: %d\n%s", code, out)
	}
	// Batch inference, CSV and .npy.
	in := filepath.Join(t.TempDir(), "in.csv")
	os.WriteFile(in, []byte("0,0,0,1,2,4,2,1,0,0,0\n1,2,3,4,5,6,7,8,9,10,11\n"), 0o644)
	for _, ext := range []string{".csv", ".npy"} {
		outPath := filepath.Join(t.TempDir(), "out"+ext)
		if ext == ".npy" {
			npyIn := filepath.Join(t.TempDir(), "in.npy")
			s, _ := data.ReadFile(in)
			data.WriteFile(npyIn, s)
			in = npyIn
		}
		if code, _, errs := runCLI(t, "approx", "-model", dir, "-input", in, "-output", outPath); code != 0 {
			t.Fatalf("approx %s: %s", ext, errs)
		}
		s, err := data.ReadFile(outPath)
		if err != nil || s.Rows != 2 || s.Dim != 7 {
			t.Fatalf("approx output %s: %v %+v", ext, err, s)
		}
	}
	// optimal without a network.
	for _, l := range []string{"probe", "frobenius", "spectral"} {
		code, out, errs := runCLI(t, "optimal", "-loss", l, "-matrix", "0,0,0,1,2,4,2,1,0,0,0", "-out-band", "3", "-json")
		if code != 0 {
			t.Fatalf("optimal %s: %s", l, errs)
		}
		var o map[string]any
		if err := json.Unmarshal([]byte(out), &o); err != nil || len(o["generator"].([]any)) != 7 {
			t.Fatalf("optimal %s json: %v %s", l, err, out)
		}
	}
}

// TestBadInput checks that every kind of bad input gives a clear error and
// exit code, never a panic.
func TestBadInput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	quickTrain(t, dir)
	tmp := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(tmp, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bogus"}, 2, "unknown command"},
		{[]string{"train", "-batch-size", "-5"}, 2, "batch-size"},
		{[]string{"train", "-out-band", "9", "-in-band", "5"}, 2, "out-band"},
		{[]string{"train", "-epochs", "ten"}, 2, "epochs"},
		{[]string{"train", "-nosuchflag"}, 2, "nosuchflag"},
		{[]string{"train", "-preset", "nope"}, 2, "preset"},
		{[]string{"train", "-config", write("bad.yaml", "epochs: 2\nbatchsize: 3\n")}, 2, "bad.yaml:2"},
		{[]string{"train", "-out", dir}, 2, "already exists"},
		{[]string{"eval", "-model", dir, "-matrix", "1,2,3"}, 2, "2K+1"},
		{[]string{"eval", "-model", dir, "-matrix", "1,2,x,4,5,6,7,8,9,10,11"}, 2, "not a number"},
		{[]string{"eval", "-model", dir, "-matrix", "1,2,NaN,4,5,6,7,8,9,10,11"}, 2, "NaN"},
		{[]string{"eval", "-model", filepath.Join(tmp, "missing")}, 1, "no such file"},
		{[]string{"eval", "-model", write("bad.safetensors", "garbage!")}, 1, "bad.safetensors"},
		{[]string{"eval"}, 2, "-model is required"},
		{[]string{"approx", "-model", dir, "-input", write("ragged.csv", "1,2,3,4,5,6,7,8,9,10,11\n1,2,3\n"), "-output", filepath.Join(tmp, "o.csv")}, 2, "ragged.csv:2"},
		{[]string{"optimal", "-out-band", "0", "-input", write("ragged2.csv", "1,2,3\n1\n"), "-output", filepath.Join(tmp, "o.jsonl")}, 2, "ragged2.csv:2"},
		{[]string{"approx", "-model", dir, "-input", write("in.txt", "1"), "-output", filepath.Join(tmp, "o.csv")}, 2, ".csv or .npy"},
		{[]string{"optimal", "-loss", "l1", "-matrix", "1,2,3", "-out-band", "0"}, 2, "loss"},
		{[]string{"optimal", "-matrix", "1,2,3", "-out-band", "2"}, 2, "out-band"},
	}
	for _, c := range cases {
		code, _, errs := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) || strings.Contains(errs, "goroutine") {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", c.args, code, c.code, errs, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, "o.csv")); err == nil {
		t.Error("a failed approx left an output file behind")
	}
}

// buildBinary builds the command once per test binary for the
// process-level tests.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "matapprox-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "matapprox")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return builtBin
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// TestInterruptResume sends SIGINT to a real training process, resumes it,
// and compares the model file with an uninterrupted run's, byte for byte.
func TestInterruptResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and trains three times")
	}
	bin := buildBinary(t)
	args := []string{"train", "-preset", "seed", "-epochs", "6", "-train-size", "20000", "-val-size", "100", "-no-report"}
	ref := filepath.Join(t.TempDir(), "ref")
	if out, err := exec.Command(bin, append(args, "-out", ref)...).CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	dir := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(bin, append(args, "-out", dir)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the first epoch's checkpoint exists, then interrupt mid-epoch.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, train.MetricsFile)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no epoch finished in 60 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("interrupted run: %v (stderr %s)", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "-resume "+dir) {
		t.Errorf("no resume hint: %s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err == nil {
		t.Error("an interrupted run left a final model")
	}
	if out, err := exec.Command(bin, "train", "-resume", dir, "-no-report").CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	a, _ := os.ReadFile(filepath.Join(ref, "model.safetensors"))
	b, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("the resumed run's model differs from the uninterrupted run's")
	}
}

// TestMain removes the binary built for the process-level tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}
