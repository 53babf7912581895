package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// torchResult is the JSON line printed by scripts/bench_torch.py.
type torchResult struct {
	Size         string    `json:"size"`
	N            int       `json:"n"`
	K            int       `json:"k"`
	Ko           int       `json:"ko"`
	Hidden       []int     `json:"hidden"`
	Batch        int       `json:"batch"`
	Threads      int       `json:"threads"`
	Variant      string    `json:"variant"`
	DType        string    `json:"dtype"`
	SamplesPerS  float64   `json:"samples_per_s"`
	BestStepS    float64   `json:"best_step_s"` // fastest training step (training variants)
	Rates        []float64 `json:"rates"`
	Torch        string    `json:"torch"`
	TorchThreads int       `json:"torch_threads"`
	BLAS         []string  `json:"blas"`
}

// torchRunner runs scripts/bench_torch.py.
type torchRunner struct {
	python  string // the interpreter
	script  string // path of bench_torch.py
	libPath string // prepended to LD_LIBRARY_PATH (another BLAS), if set
}

// available reports why PyTorch cannot be run, or nil.
func (r torchRunner) available() error {
	if _, err := os.Stat(r.script); err != nil {
		return fmt.Errorf("script: %w", err)
	}
	cmd := exec.Command(r.python, "-c", "import torch")
	cmd.Env = r.env()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return fmt.Errorf("%s -c 'import torch': %v: %s", r.python, err, msg)
	}
	return nil
}

func (r torchRunner) env() []string {
	env := os.Environ()
	if r.libPath != "" {
		lp := r.libPath
		if old := os.Getenv("LD_LIBRARY_PATH"); old != "" {
			lp += ":" + old
		}
		env = append(env, "LD_LIBRARY_PATH="+lp)
	}
	return env
}

// run measures one variant and checks that the script's size is the
// harness's.
func (r torchRunner) run(s size, threads int, variant, dtype string, d time.Duration, reps int) (torchResult, error) {
	args := []string{r.script, s.Name, strconv.Itoa(threads), variant, strconv.FormatFloat(d.Seconds(), 'f', -1, 64),
		"--dtype", dtype, "--reps", strconv.Itoa(reps)}
	res, err := r.exec(args)
	if err != nil {
		return res, err
	}
	if res.N != s.N || res.K != s.K || res.Ko != s.Ko || res.Batch != s.Batch || !equalInts(res.Hidden, s.Hidden) {
		return torchResult{}, errors.New("bench_torch.py and bench/sizes.go disagree on size " + s.Name)
	}
	return res, nil
}

// runInference measures PyTorch's forward pass (torch.no_grad) on total
// rows of the inference size s and checks that the script's size is the
// harness's.
func (r torchRunner) runInference(s inferSize, threads int, dtype string, total, reps int) (torchResult, error) {
	args := []string{r.script, s.Name, strconv.Itoa(threads), "inference", strconv.Itoa(total),
		"--dtype", dtype, "--reps", strconv.Itoa(reps)}
	res, err := r.exec(args)
	if err != nil {
		return res, err
	}
	if res.N != s.N || res.K != s.K || res.Ko != s.Ko || res.Batch != s.BatchSize || !equalInts(res.Hidden, s.Hidden) {
		return torchResult{}, errors.New("bench_torch.py and bench/inference.go disagree on size " + s.Name)
	}
	return res, nil
}

// exec runs the script with args and decodes its JSON line.
func (r torchRunner) exec(args []string) (torchResult, error) {
	cmd := exec.Command(r.python, args...)
	cmd.Env = r.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return torchResult{}, fmt.Errorf("%s %s: %w: %s", r.python, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	var res torchResult
	line := bytes.TrimSpace(stdout.Bytes())
	if i := bytes.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	if err := json.Unmarshal(line, &res); err != nil {
		return torchResult{}, fmt.Errorf("bench_torch.py output %q: %w", line, err)
	}
	if !(res.SamplesPerS > 0) {
		return torchResult{}, fmt.Errorf("bench_torch.py reported %v samples/s", res.SamplesPerS)
	}
	return res, nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
