package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/matapprox/matapprox/sweep"
)

// runProcs starts every command at once, as a scheduler would, and waits
// for all of them.
func runProcs(t *testing.T, bin string, cmds [][]string) {
	t.Helper()
	procs := make([]*exec.Cmd, len(cmds))
	outs := make([]*bytes.Buffer, len(cmds))
	for i, args := range cmds {
		procs[i] = exec.Command(bin, args...)
		outs[i] = &bytes.Buffer{}
		procs[i].Stdout, procs[i].Stderr = outs[i], outs[i]
		if err := procs[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range procs {
		if err := p.Wait(); err != nil {
			t.Fatalf("%v: %v\n%s", cmds[i], err, outs[i])
		}
	}
}

// TestDistributedSimulation runs shards as separate processes of the
// built binary, merges their parts and compares the bytes with the
// unsharded run's; a retried shard reproduces its bytes and an incomplete
// set is refused. It also runs a tiny sweep in two shard processes and
// summarises it, and merges a sharded eval.
func TestDistributedSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a dozen processes")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	for _, c := range []struct {
		name, loss string
		rows, n    int
	}{{"probe.npy", "probe", 41, 4}, {"spectral.csv", "spectral", 5, 2}} {
		in, _ := writeInput(t, dir, c.name, c.rows, 5, 11)
		args := []string{"optimal", "-loss", c.loss, "-out-band", "3", "-input", in}
		plain := filepath.Join(dir, c.name+".jsonl")
		var cmds [][]string
		var parts []string
		for i := 0; i < c.n; i++ {
			p := filepath.Join(dir, fmt.Sprintf("%s-%d.part", c.name, i))
			parts = append(parts, p)
			cmds = append(cmds, append(append([]string(nil), args...), "-output", p, "-shard", fmt.Sprintf("%d/%d", i, c.n)))
		}
		cmds = append(cmds, append(append([]string(nil), args...), "-output", plain))
		runProcs(t, bin, cmds)
		first := readFile(t, parts[1])
		runProcs(t, bin, cmds[1:2]) // a retry of shard 1
		if !bytes.Equal(first, readFile(t, parts[1])) {
			t.Errorf("%s: the retried shard wrote other bytes", c.name)
		}
		merged := filepath.Join(dir, c.name+".merged")
		rev := append([]string{"merge", "-output", merged}, parts[1:]...)
		runProcs(t, bin, [][]string{append(rev, parts[0])})
		if !bytes.Equal(readFile(t, merged), readFile(t, plain)) {
			t.Errorf("%s: the merge of %d shard processes differs from the unsharded run", c.name, c.n)
		}
		cmd := exec.Command(bin, append([]string{"merge", "-output", merged + "2"}, parts[1:]...)...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "shard 0 is missing") {
			t.Errorf("%s: an incomplete set: %v\n%s", c.name, err, out)
		}
		if _, err := os.Stat(merged + "2"); err == nil {
			t.Errorf("%s: a refused merge left a file", c.name)
		}
	}

	// A sweep of 4 trials in 2 shard processes, one retried, summarised.
	grid := filepath.Join(dir, "grid.yaml")
	os.WriteFile(grid, []byte("preset: seed\nconfig: {epochs: 2, train-size: 200, val-size: 40}\ngrid:\n  lr: [0.25, 0.05]\n  hidden: [[8], [16, 16]]\n"), 0o644)
	sw := filepath.Join(dir, "sweep")
	shardCmd := func(i int) []string {
		return []string{"sweep", "-grid", grid, "-out", sw, "-no-report", "-shard", fmt.Sprintf("%d/2", i)}
	}
	runProcs(t, bin, [][]string{shardCmd(0), shardCmd(1)})
	model := filepath.Join(sw, "001-lr_0.25-hidden_16x16", "model.safetensors")
	before := readFile(t, model)
	out, err := exec.Command(bin, shardCmd(0)...).CombinedOutput()
	if err != nil || strings.Count(string(out), "done before, skipped") != 2 {
		t.Errorf("retried sweep shard: %v\n%s", err, out)
	}
	if !bytes.Equal(before, readFile(t, model)) {
		t.Error("a retried sweep shard rewrote a finished trial")
	}
	out, err = exec.Command(bin, "sweep", "-summarize", sw).CombinedOutput()
	if err != nil {
		t.Fatalf("summarize: %v\n%s", err, out)
	}
	csvB := string(readFile(t, filepath.Join(sw, "summary.csv")))
	if strings.Count(csvB, ",done,") != 4 || !strings.HasPrefix(csvB, "trial,lr,hidden,status,epochs") {
		t.Errorf("summary.csv:\n%s", csvB)
	}
	katib := regexp.MustCompile(`([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)`) // Katib's default filter
	var gaps int
	for _, m := range katib.FindAllStringSubmatch(string(out), -1) {
		if m[1] == "gap_mean" {
			gaps++
			if m[4] != "" || m[2] == "" {
				t.Errorf("gap_mean %q is not fixed-point", m[2])
			}
		}
	}
	if gaps != 4 {
		t.Errorf("%d gap_mean metric lines, want 4:\n%s", gaps, out)
	}
	if md := string(readFile(t, filepath.Join(sw, "summary.md"))); strings.Count(md, "| done |") != 4 {
		t.Errorf("summary.md:\n%s", md)
	}

	// A sharded eval of a trained trial merges like optimal.
	run := filepath.Join(sw, "000-lr_0.25-hidden_8")
	in := filepath.Join(dir, "probe.npy")
	ev := []string{"eval", "-model", run, "-input", in}
	runProcs(t, bin, [][]string{
		append(append([]string(nil), ev...), "-output", filepath.Join(dir, "eval.jsonl")),
		append(append([]string(nil), ev...), "-output", filepath.Join(dir, "eval-0.part"), "-shard", "0/2"),
		append(append([]string(nil), ev...), "-output", filepath.Join(dir, "eval-1.part"), "-shard", "1/2"),
	})
	runProcs(t, bin, [][]string{{"merge", "-output", filepath.Join(dir, "eval.merged"), filepath.Join(dir, "eval-1.part"), filepath.Join(dir, "eval-0.part")}})
	if !bytes.Equal(readFile(t, filepath.Join(dir, "eval.merged")), readFile(t, filepath.Join(dir, "eval.jsonl"))) {
		t.Error("the merge of a sharded eval differs from the unsharded one")
	}
	tab, err := sweep.Summarize(sw)
	if err != nil || len(tab.Rows) != 4 {
		t.Fatalf("Summarize: %v", err)
	}
}

// k8sJob is the part of a Kubernetes Job the documentation's manifests use.
type k8sJob struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Spec       struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		Template       struct {
			Spec struct {
				RestartPolicy string `yaml:"restartPolicy"`
				Containers    []struct {
					Command []string `yaml:"command"`
					Args    []string `yaml:"args"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// flagValue returns the value after -name in args.
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == "-"+name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// runShards runs the command of a scheduler's task for every index, in
// process, with expand giving the task's arguments, then merges the parts
// and compares them with the same command run unsharded.
func runShards(t *testing.T, what string, n int, expand func(i int) []string) {
	t.Helper()
	var parts []string
	var args []string
	for i := 0; i < n; i++ {
		args = expand(i)
		if code, out, errs := runCLI(t, args...); code != 0 {
			t.Fatalf("%s task %d: %v: exit %d\n%s%s", what, i, args, code, out, errs)
		}
		parts = append(parts, flagValue(args, "output"))
	}
	plain := parts[0] + ".plain"
	var unsharded []string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-shard":
			i++
		case "-output":
			unsharded = append(unsharded, "-output", plain)
			i++
		default:
			unsharded = append(unsharded, args[i])
		}
	}
	mustRun(t, unsharded...)
	merged := plain + ".merged"
	mustRun(t, append([]string{"merge", "-output", merged}, parts...)...)
	if !bytes.Equal(readFile(t, merged), readFile(t, plain)) {
		t.Errorf("%s: the merge of the %d tasks' parts differs from the unsharded output", what, n)
	}
}

// TestKubernetesManifest parses the Indexed Jobs of docs/distributed, checks
// the commands they run and runs every pod's command (JOB_COMPLETION_INDEX
// expanded as Kubernetes does, /data a temporary directory).
func TestKubernetesManifest(t *testing.T) {
	f, err := os.Open("../../docs/distributed/optimal-indexed-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var jobs []k8sJob
	for {
		var j k8sJob
		if err := dec.Decode(&j); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("manifest: %v", err)
		}
		jobs = append(jobs, j)
	}
	if len(jobs) != 2 {
		t.Fatalf("%d jobs in the manifest, want 2 (optimal, sweep)", len(jobs))
	}
	data := t.TempDir()
	os.MkdirAll(filepath.Join(data, "parts"), 0o755)
	writeInput(t, data, "inputs.npy", 9, 5, 5)
	for k, j := range jobs {
		s := j.Spec
		if j.APIVersion != "batch/v1" || j.Kind != "Job" || s.CompletionMode != "Indexed" || s.Template.Spec.RestartPolicy != "Never" ||
			len(s.Template.Spec.Containers) != 1 || s.Parallelism < 1 || s.Parallelism > s.Completions {
			t.Fatalf("job %d is not an Indexed Job with one container: %+v", k, j)
		}
		c := s.Template.Spec.Containers[0]
		if len(c.Command) != 1 || filepath.Base(c.Command[0]) != "matapprox" {
			t.Errorf("job %d runs %v, not the matapprox binary", k, c.Command)
		}
		if want := "$(JOB_COMPLETION_INDEX)/" + strconv.Itoa(s.Completions); flagValue(c.Args, "shard") != want {
			t.Errorf("job %d: -shard %q, want %q (completions = the shard count)", k, flagValue(c.Args, "shard"), want)
		}
		if k == 1 {
			if c.Args[0] != "sweep" || flagValue(c.Args, "grid") == "" || flagValue(c.Args, "out") == "" {
				t.Errorf("the sweep job runs %v", c.Args)
			}
			_, err := parseSweepArgs(c.Args[1:])
			if err != nil {
				t.Errorf("the sweep job's flags: %v", err)
			}
			continue
		}
		if c.Args[0] != "optimal" || !strings.Contains(flagValue(c.Args, "output"), "$(JOB_COMPLETION_INDEX)") {
			t.Errorf("the optimal job runs %v: each pod must write its own part", c.Args)
		}
		runShards(t, "Kubernetes", s.Completions, func(i int) []string {
			var args []string
			for _, a := range c.Args {
				a = strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(i))
				if strings.HasPrefix(a, "/data/") {
					a = filepath.Join(data, strings.TrimPrefix(a, "/data/"))
				}
				args = append(args, a)
			}
			return args
		})
	}
}

// parseSweepArgs checks that args parse as sweep flags.
func parseSweepArgs(args []string) (string, error) {
	fs := newFlagSet("sweep-check", "", io.Discard)
	grid := fs.String("grid", "", "")
	fs.String("out", "", "")
	fs.String("shard", "", "")
	fs.Bool("no-report", false, "")
	return *grid, fs.Parse(args)
}

// TestSlurmScript checks the sbatch array script of docs/distributed:
// its syntax (bash -n, where bash exists), that the array covers the shard
// count, and runs every task's command with SLURM_ARRAY_TASK_ID expanded.
func TestSlurmScript(t *testing.T) {
	const path = "../../docs/distributed/optimal-array.sbatch"
	src := string(readFile(t, path))
	if bash, err := exec.LookPath("bash"); err == nil {
		if out, err := exec.Command(bash, "-n", path).CombinedOutput(); err != nil {
			t.Fatalf("bash -n: %v\n%s", err, out)
		}
	}
	m := regexp.MustCompile(`(?m)^#SBATCH --array=0-(\d+)$`).FindStringSubmatch(src)
	if m == nil {
		t.Fatal("no #SBATCH --array=0-N line")
	}
	last, _ := strconv.Atoi(m[1])
	// The srun command, continuation lines joined, split into words.
	joined := strings.ReplaceAll(src, "\\\n", " ")
	var line string
	for _, l := range strings.Split(joined, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "srun matapprox ") {
			line = strings.TrimSpace(l)
		}
	}
	words := strings.Fields(strings.ReplaceAll(line, `"`, ""))
	if len(words) < 3 || words[2] != "optimal" {
		t.Fatalf("srun line %q", line)
	}
	if want := "${SLURM_ARRAY_TASK_ID}/" + strconv.Itoa(last+1); flagValue(words, "shard") != want {
		t.Fatalf("-shard %q, want %q for --array=0-%d", flagValue(words, "shard"), want, last)
	}
	work := t.TempDir()
	os.MkdirAll(filepath.Join(work, "parts"), 0o755)
	writeInput(t, work, "inputs.npy", 70, 5, 9)
	runShards(t, "Slurm", last+1, func(i int) []string {
		var args []string
		for _, w := range words[2:] {
			w = strings.ReplaceAll(w, "${SLURM_ARRAY_TASK_ID}", strconv.Itoa(i))
			if strings.HasSuffix(w, ".npy") || strings.HasSuffix(w, ".jsonl") {
				w = filepath.Join(work, w)
			}
			args = append(args, w)
		}
		return args
	})
}
