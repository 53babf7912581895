package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/train"
)

// TestSigtermResume is TestInterruptResume with SIGTERM at a random point.
func TestSigtermResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and trains")
	}
	bin := buildBinary(t)
	args := []string{"train", "-preset", "default", "-epochs", "4", "-train-size", "6000", "-val-size", "100", "-no-report"}
	ref := filepath.Join(t.TempDir(), "ref")
	if out, err := exec.Command(bin, append(args, "-out", ref)...).CombinedOutput(); err != nil {
		t.Fatalf("reference: %v\n%s", err, out)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	dir := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(bin, append(args, "-out", dir)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	delay := time.Duration(50+rng.IntN(400)) * time.Millisecond
	time.Sleep(delay)
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if err == nil {
		t.Skipf("training finished in under %v before the signal; nothing to resume", delay)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("SIGTERM after %v: %v", delay, err)
	}
	if out, err := exec.Command(bin, "train", "-resume", dir, "-no-report").CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	a, _ := os.ReadFile(filepath.Join(ref, nn.WeightsFile))
	b, _ := os.ReadFile(filepath.Join(dir, nn.WeightsFile))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("SIGTERM after %v: resumed model differs from the uninterrupted one", delay)
	}
}

// TestKill9NeverLeavesPartialFiles kills training with SIGKILL at random
// moments, many times, and checks that every file a later eval or -resume
// reads is either absent or whole.
func TestKill9NeverLeavesPartialFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it repeatedly")
	}
	bin := buildBinary(t)
	rng := rand.New(rand.NewPCG(7, 7))
	// Tiny epochs: a checkpoint, a metrics log and often a best model are
	// written several hundred times a second.
	args := []string{"train", "-preset", "seed", "-epochs", "100000", "-train-size", "100", "-val-size", "20", "-no-report"}
	cfgPath := ""
	for i := 0; i < 12; i++ {
		dir := filepath.Join(t.TempDir(), "run")
		cmd := exec.Command(bin, append(args, "-out", dir)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(30+rng.IntN(300)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		cfgPath = filepath.Join(dir, train.ConfigFile)
		cfg, err := train.LoadConfig(cfgPath, train.Config{})
		if os.IsNotExist(err) || (err != nil && strings.Contains(err.Error(), "no such file")) {
			continue // killed before the run started
		}
		if err != nil {
			t.Fatalf("kill %d: config.yaml is not whole: %v", i, err)
		}
		if _, err := os.Stat(filepath.Join(dir, train.CheckpointFile)); err == nil {
			tr, err := train.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.Resume(filepath.Join(dir, train.CheckpointFile)); err != nil {
				t.Fatalf("kill %d: checkpoint is not whole: %v", i, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, train.MetricsFile)); err == nil {
			if _, err := train.ReadMetrics(filepath.Join(dir, train.MetricsFile)); err != nil {
				t.Fatalf("kill %d: metrics log is not whole: %v", i, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, train.BestFile, nn.WeightsFile)); err == nil {
			if _, err := nn.Load(filepath.Join(dir, train.BestFile)); err != nil {
				t.Fatalf("kill %d: best model is not whole: %v", i, err)
			}
		}
		// A killed run has no final model, and eval says how to finish it.
		if _, err := os.Stat(filepath.Join(dir, nn.WeightsFile)); err == nil {
			t.Fatalf("kill %d: a final model exists for a killed run", i)
		}
		code, _, errs := runCLI(t, "eval", "-model", dir)
		if code == 0 || !strings.Contains(errs, "-resume") && !strings.Contains(errs, "-config") {
			t.Fatalf("kill %d: eval of the killed run: exit %d, %s", i, code, errs)
		}
	}
}

// TestDeterministicAcrossThreads trains the same configuration with 1 and
// 2 threads and compares the model files byte for byte.
func TestDeterministicAcrossThreads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and trains twice")
	}
	bin := buildBinary(t)
	var files [][]byte
	for _, procs := range []string{"1", "2"} {
		dir := filepath.Join(t.TempDir(), "run")
		cmd := exec.Command(bin, "train", "-preset", "default", "-epochs", "2", "-train-size", "3000", "-hidden", "300,300", "-out", dir, "-no-report", "-quiet")
		cmd.Env = append(os.Environ(), "GOMAXPROCS="+procs)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("GOMAXPROCS=%s: %v\n%s", procs, err, out)
		}
		b, err := os.ReadFile(filepath.Join(dir, nn.WeightsFile))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("GOMAXPROCS=1 and GOMAXPROCS=2 give different model files")
	}
}

// TestDivergenceAndBadData checks the messages for a diverging run and for
// non-finite training data, and that neither leaves a model.
func TestDivergenceAndBadData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, _, errs := runCLI(t, "train", "-preset", "seed", "-epochs", "2", "-train-size", "300", "-optimizer", "sgd", "-lr", "1e6", "-out", dir, "-no-report")
	if code != 1 || !strings.Contains(errs, "diverged") || !strings.Contains(errs, "learning rate") {
		t.Errorf("lr 1e6: exit %d, %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, nn.WeightsFile)); err == nil {
		t.Error("a diverged run saved a model")
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("1,2,3,4,5,6,7,8,9,10,11\n1,2,3,4,NaN,6,7,8,9,10,11\n"), 0o644)
	code, _, errs = runCLI(t, "train", "-preset", "seed", "-data", bad, "-val-fraction", "0", "-out", filepath.Join(t.TempDir(), "r2"), "-no-report")
	if code == 0 || !strings.Contains(errs, "bad.csv") || !strings.Contains(errs, "2") {
		t.Errorf("NaN in data: exit %d, %s", code, errs)
	}
}

func FuzzParseMatrix(f *testing.F) {
	f.Add("0,0,0,1,2,4,2,1,0,0,0", 11, 5)
	f.Add("1,NaN,3", 3, 1)
	f.Add("[1 2 3]", 3, 1)
	f.Add("", 1, 0)
	f.Add("1,,2", 3, 1) // issue 16: the empty entry was dropped
	f.Add("1e400,1,2", 3, 1)
	f.Fuzz(func(t *testing.T, s string, n, k int) {
		b := train.Config{N: n, InBand: k}
		in, _ := b.Bands()
		if in.Check() != nil || n > 1000 {
			return
		}
		x, err := parseMatrix(s, in)
		if err == nil && len(x) != in.Len() {
			t.Fatalf("accepted %q with %d entries for %v", s, len(x), in)
		}
		if err == nil && strings.Contains(s, ",") && strings.Count(s, ",")+1 != len(x) {
			t.Fatalf("accepted %q as %d entries: an entry was dropped or split", s, len(x))
		}
	})
}
