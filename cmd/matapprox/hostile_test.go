package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/train"
)

// Tests for issue 16: each failure of the adversarial test of the built
// binary, which the earlier tests missed. Each fails without its fix.

// TestSecondWriterRefused: two train runs into the same -out both exited 0
// and left a directory mixing their files.
func TestSecondWriterRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	rd, err := train.CreateRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "train", "-preset", "seed", "-epochs", "1", "-train-size", "100", "-out", dir, "-no-report")
	rd.Close()
	if code == 0 || !strings.Contains(errs, "in use") {
		t.Errorf("second writer: exit %d, %s", code, errs)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("the refused run wrote into the directory: %d entries", len(ents))
	}
}

// TestConcurrentTrainsSameOut starts two training processes into one -out:
// exactly one may succeed.
func TestConcurrentTrainsSameOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "-preset", "seed", "-epochs", "2", "-train-size", "500", "-val-size", "50", "-out", dir, "-no-report"}
	var cmds [2]*exec.Cmd
	var outs [2]bytes.Buffer
	for i := range cmds {
		cmds[i] = exec.Command(bin, args...)
		cmds[i].Stderr = &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	ok := 0
	for i, c := range cmds {
		if c.Wait() == nil {
			ok++
		} else if s := outs[i].String(); !strings.Contains(s, "in use") && !strings.Contains(s, "not empty") {
			t.Errorf("refused run: %s", s)
		}
	}
	if ok != 1 {
		t.Errorf("%d of two concurrent runs into one directory succeeded, want exactly 1", ok)
	}
	if code, _, errs := runCLI(t, "eval", "-model", dir, "-count", "10"); code != 0 {
		t.Errorf("eval of the surviving run: %s", errs)
	}
}

// TestNoCommandOverwritesItsInput: approx -output = -input replaced the
// input; report -out RUN/model.safetensors overwrote the weights with HTML.
func TestNoCommandOverwritesItsInput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	quickTrain(t, dir)
	other := filepath.Join(t.TempDir(), "other")
	quickTrain(t, other)
	tmp := t.TempDir()
	in := filepath.Join(tmp, "in.csv")
	content := "0,0,0,1,2,4,2,1,0,0,0\n1,1,1,1,1,1,1,1,1,1,1\n"
	os.WriteFile(in, []byte(content), 0o644)
	os.Symlink(in, filepath.Join(tmp, "link.csv"))
	os.Mkdir(filepath.Join(tmp, "sub"), 0o755)
	for _, out := range []string{in, filepath.Join(tmp, "sub", "..", "in.csv"), filepath.Join(tmp, "link.csv"), "./" + strings.TrimPrefix(in, "/")} {
		if !filepath.IsAbs(out) && !strings.HasPrefix(out, "./") {
			continue
		}
		if strings.HasPrefix(out, "./") {
			out = in // relative spellings depend on the working directory
		}
		code, _, errs := runCLI(t, "approx", "-model", dir, "-input", in, "-output", out)
		if code != 2 || !strings.Contains(errs, "same file as the input") {
			t.Errorf("approx -output %s: exit %d, %s", out, code, errs)
		}
	}
	os.Symlink(in, filepath.Join(tmp, "link.jsonl"))
	if code, _, errs := runCLI(t, "optimal", "-input", in, "-output", filepath.Join(tmp, "link.jsonl")); code != 2 || !strings.Contains(errs, "same file") {
		t.Errorf("optimal -output through a link to the input: exit %d, %s", code, errs)
	}
	if code, _, errs := runCLI(t, "merge", "-output", filepath.Join(tmp, "link.jsonl"), in); code != 2 || !strings.Contains(errs, "same file") {
		t.Errorf("merge -output through a link to a part: exit %d, %s", code, errs)
	}
	if b, _ := os.ReadFile(in); string(b) != content {
		t.Errorf("a command changed its input: %q", b)
	}
	weights, _ := os.ReadFile(filepath.Join(dir, nn.WeightsFile))
	for _, out := range []string{
		filepath.Join(dir, nn.WeightsFile),
		filepath.Join(dir, train.CheckpointFile),
		filepath.Join(dir, "best", "report.html"),
		filepath.Join(other, "report.html"),
		filepath.Join(tmp, "report.txt"),
		tmp + "/sub.html/",
	} {
		code, _, errs := runCLI(t, "report", "-model", dir, "-out", out)
		if code != 2 || strings.Contains(errs, "goroutine") {
			t.Errorf("report -out %s: exit %d, %s", out, code, errs)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, nn.WeightsFile)); !bytes.Equal(b, weights) {
		t.Error("report overwrote the weights")
	}
	for _, out := range []string{filepath.Join(tmp, "r.html"), filepath.Join(dir, "mine.html")} {
		if code, _, errs := runCLI(t, "report", "-model", dir, "-out", out); code != 0 {
			t.Errorf("report -out %s: %s", out, errs)
		}
	}
}

// TestChangedInputFiles: report and eval re-read data and probe files
// without checking them, so after the data file changed a report claimed
// the network beat the exact optimum by 99.96 %.
func TestChangedInputFiles(t *testing.T) {
	tmp := t.TempDir()
	data, probes := filepath.Join(tmp, "data.csv"), filepath.Join(tmp, "probes.csv")
	var d, p strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&d, "%d,1,2,3,4,5,4,3,2,1,%d\n", i%7, i%5)
	}
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&p, "1,%d,1,1,1,1,1,1,1,1,%d\n", i, i+1)
	}
	os.WriteFile(data, []byte(d.String()), 0o644)
	os.WriteFile(probes, []byte(p.String()), 0o644)
	dir := filepath.Join(tmp, "run")
	if code, _, errs := runCLI(t, "train", "-preset", "seed", "-epochs", "1", "-data", data, "-val-fraction", "0.2", "-probes", probes, "-out", dir, "-no-report"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runCLI(t, "report", "-model", dir); code != 0 {
		t.Fatalf("report before the change: %s", errs)
	}
	os.WriteFile(data, []byte(strings.Replace(d.String(), "0,1,2", "900,1,2", -1)), 0o644)
	if code, _, errs := runCLI(t, "report", "-model", dir); code != 1 || !strings.Contains(errs, data) || !strings.Contains(errs, "changed") {
		t.Errorf("report after the data changed: exit %d, %s", code, errs)
	}
	os.WriteFile(probes, []byte(strings.Replace(p.String(), "1,1,1", "1,2,1", 1)), 0o644)
	if code, _, errs := runCLI(t, "eval", "-model", dir, "-count", "5"); code != 1 || !strings.Contains(errs, probes) {
		t.Errorf("eval after the probes changed: exit %d, %s", code, errs)
	}
}

// TestHostileSizesAndValues covers the smaller failures: unbounded reads,
// sizes that ran out of memory, and -matrix parsing.
func TestHostileSizesAndValues(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	quickTrain(t, dir)
	in := filepath.Join(t.TempDir(), "in.csv")
	os.WriteFile(in, []byte("0,0,0,1,2,4,2,1,0,0,0\n"), 0o644)
	ok := "0,0,0,1,2,4,2,1,0,0,0"
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train", "-config", "/dev/zero"}, 1, "larger than"},
		{[]string{"train", "-preset", "seed", "-hidden", "65536,65536", "-out", filepath.Join(t.TempDir(), "h")}, 2, "memory"},
		{[]string{"train", "-preset", "seed", "-n", "4096", "-num-probes", "1000000", "-out", filepath.Join(t.TempDir(), "p")}, 2, "probes"},
		{[]string{"train", "-preset", "seed", "-train-size", "100000000", "-max-memory", "4GB", "-out", filepath.Join(t.TempDir(), "d")}, 2, "data"},
		{[]string{"train", "-preset", "seed", "-max-memory", "1kB", "-out", filepath.Join(t.TempDir(), "k")}, 2, "-max-memory"},
		{[]string{"train", "-max-memory", "lots"}, 2, "memory size"},
		{[]string{"eval", "-model", dir, "-count", "1000000000000"}, 2, "-count"},
		{[]string{"approx", "-model", dir, "-input", in, "-output", filepath.Join(t.TempDir(), "o.csv"), "-batch", "1000000000"}, 2, "-batch"},
		{[]string{"eval", "-model", dir, "-matrix", "1,,2,3,4,5,6,7,8,9,10,11"}, 2, "empty"},
		{[]string{"eval", "-model", dir, "-matrix", ok + ","}, 2, "empty"},
		{[]string{"eval", "-model", dir, "-matrix", "1e400,0,0,1,2,4,2,1,0,0,0"}, 2, "out of the float64 range"},
		{[]string{"eval", "-model", dir, "-matrix", "1e308,0,0,1,2,4,2,1,0,0,0"}, 2, "2^1023"},
		{[]string{"optimal", "-matrix", "1,2,,3", "-out-band", "0"}, 2, "empty"},
		{[]string{"optimal", "-matrix", "1,2,3,4", "-out-band", "0"}, 2, "odd"},
		{[]string{"eval", "-model", dir, "-matrix", ok}, 0, ""},
		{[]string{"eval", "-model", dir, "-matrix", "[0 0 0 1 2 4 2 1 0 0 0]"}, 0, ""},
		{[]string{"optimal", "-matrix", "1 2 4 2 1", "-out-band", "1"}, 0, ""},
	}
	for _, c := range cases {
		start := time.Now()
		code, _, errs := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) || strings.Contains(errs, "goroutine") {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", c.args, code, c.code, errs, c.want)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%v took %v", c.args, d)
		}
	}
	// Entries within the float64 range whose answer is not: the row is
	// named by its place in the file (not in its batch), nothing is
	// written.
	huge := filepath.Join(t.TempDir(), "huge.csv")
	os.WriteFile(huge, []byte(ok+"\n"+ok+"\n8e307,-8e307,8e307,-8e307,8e307,-8e307,8e307,-8e307,8e307,-8e307,8e307\n"), 0o644)
	hugeOut := filepath.Join(t.TempDir(), "huge.csv")
	sphere := filepath.Join(t.TempDir(), "sphere")
	quickTrain(t, sphere, "-architecture", "sphere")
	if code, _, errs := runCLI(t, "approx", "-model", sphere, "-input", huge, "-output", hugeOut, "-batch", "2"); code != 1 || !strings.Contains(errs, "row 3: the network's answer overflows") {
		t.Errorf("approx on entries near the float64 limit: exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(hugeOut); err == nil {
		t.Errorf("approx left %s after failing", hugeOut)
	}
	// optimal takes K from the parsed entries, not from counting commas.
	code, out, errs := runCLI(t, "optimal", "-matrix", "[1 2 4 2 1]", "-out-band", "1", "-json")
	if code != 0 || !strings.Contains(out, `"in_band": 2`) {
		t.Errorf("optimal with spaces: %d %s %s", code, out, errs)
	}
}

// TestUnfinishedRunRefused: a run directory whose final files were not all
// written (killed while finishing) is refused by eval with the command that
// finishes it, and -resume finishes it.
func TestUnfinishedRunRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	quickTrain(t, dir)
	os.Remove(filepath.Join(dir, train.SummaryFile))
	code, _, errs := runCLI(t, "eval", "-model", dir, "-count", "5")
	if code != 1 || !strings.Contains(errs, "-resume "+dir) {
		t.Fatalf("eval of an unfinished run: exit %d, %s", code, errs)
	}
	if code, _, errs := runCLI(t, "train", "-resume", dir, "-no-report"); code != 0 {
		t.Fatalf("resume to finish: %s", errs)
	}
	// A finished run with nothing to do says so, exits 0 and changes nothing.
	if code, out, errs := runCLI(t, "train", "-resume", dir); code != 0 || !strings.Contains(out, "nothing to do") {
		t.Errorf("resume of a finished run: exit %d, %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "eval", "-model", dir, "-count", "5"); code != 0 {
		t.Errorf("eval after finishing: %s", errs)
	}
}

// TestSignalsInEveryPhase sends SIGINT during setup, while finishing (the
// final evaluation), during optimal, approx and eval -output: each exits
// with 130 within a second, says what was kept, and leaves no temporary
// file. A first version ignored Ctrl-C while finishing and died silently
// during setup.
func TestSignalsInEveryPhase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	interrupt := func(cmd *exec.Cmd, stderr *bytes.Buffer, want string) {
		t.Helper()
		sent := time.Now()
		cmd.Process.Signal(syscall.SIGINT)
		err := cmd.Wait()
		if d := time.Since(sent); d > time.Second {
			t.Errorf("%v: exited %v after the signal", cmd.Args[1:4], d)
		}
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 130 || !strings.Contains(stderr.String(), want) {
			t.Errorf("%v: %v, stderr %q (want %q)", cmd.Args[1:4], err, stderr.String(), want)
		}
	}
	noTemps := func(dir string) {
		t.Helper()
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if strings.HasSuffix(p, ".tmp") {
				t.Errorf("temporary file %s left behind", p)
			}
			return nil
		})
	}
	wait := func(what func() bool) bool {
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			if what() {
				return true
			}
		}
		return false
	}
	exists := func(p string) func() bool {
		return func() bool { _, err := os.Stat(p); return err == nil }
	}

	// Setup: generating 3·10⁷ training rows takes seconds.
	dir := filepath.Join(t.TempDir(), "setup")
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "train", "-preset", "seed", "-train-size", "30000000", "-out", dir)
	cmd.Stderr = &stderr
	cmd.Start()
	if wait(exists(dir)) {
		time.Sleep(100 * time.Millisecond)
		interrupt(cmd, &stderr, "during setup")
		noTemps(dir)
	}

	// Finishing: the spectral loss's final evaluation solves 300 SDPs.
	dir = filepath.Join(t.TempDir(), "final")
	stderr.Reset()
	cmd = exec.Command(bin, "train", "-preset", "spectral", "-epochs", "1", "-train-size", "50", "-val-size", "300", "-hidden", "8", "-out", dir)
	cmd.Stderr = &stderr
	cmd.Start()
	if wait(exists(filepath.Join(dir, nn.WeightsFile))) {
		interrupt(cmd, &stderr, "-resume "+dir)
		noTemps(dir)
		if code, _, errs := runCLI(t, "eval", "-model", dir, "-count", "3"); code != 1 || !strings.Contains(errs, "-resume") {
			t.Errorf("eval of a run interrupted while finishing: %d %s", code, errs)
		}
	} else {
		cmd.Wait()
		t.Log("the run finished before its model appeared")
	}

	// optimal at N = 10⁵ (seconds of solving): interrupted once it has used
	// a tenth of a second of CPU time, so surely inside the solve.
	stderr.Reset()
	cmd = exec.Command(bin, "optimal", "-loss", "spectral", "-out-band", "8", "-n", "100000", "-matrix",
		"5,-3,8,1,9,2,7,4,6,3,8,1,5,9,2,6,4,7,3,8,1,9,5,2,6,3,7,4,8,2,9,1,5")
	cmd.Stderr = &stderr
	cmd.Start()
	if wait(func() bool { return cpuTicks(cmd.Process.Pid) >= 10 }) {
		interrupt(cmd, &stderr, "nothing was written")
	} else {
		cmd.Wait()
	}

	// approx and eval -output, each reading from a FIFO that never ends:
	// interrupted with the temporary output open, they leave neither it
	// nor the output. A first version of eval died by the signal and left
	// its temporary file.
	run := filepath.Join(t.TempDir(), "run")
	quickTrain(t, run)
	var stdout bytes.Buffer
	fromFIFO := func(sub, outName string, extra ...string) {
		t.Helper()
		tmp := t.TempDir()
		fifo := filepath.Join(tmp, "in.csv")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip("no FIFO:", err)
		}
		out := filepath.Join(tmp, outName)
		stderr.Reset()
		args := append([]string{sub, "-model", run, "-input", fifo, "-output", out}, extra...)
		cmd := exec.Command(bin, args...)
		cmd.Stderr, cmd.Stdout = &stderr, &stdout
		cmd.Start()
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		for i := 0; i < 3; i++ {
			fmt.Fprintln(w, "0,0,0,1,2,4,2,1,0,0,0")
		}
		wait(func() bool {
			ents, _ := os.ReadDir(tmp)
			return len(ents) == 2 // the FIFO and the temporary output
		})
		interrupt(cmd, &stderr, "was not written")
		noTemps(tmp)
		if _, err := os.Stat(out); err == nil {
			t.Errorf("an interrupted %s created its output", sub)
		}
	}
	fromFIFO("approx", "out.csv", "-batch", "1")
	fromFIFO("eval", "eval.jsonl")
}

// TestFullDisk trains into a 700 kB file system, which fills up at the
// second checkpoint: the run stops with exit 1 naming the kept checkpoint,
// eval refuses the directory with the command that resumes it, and the
// copy resumes to the end elsewhere. A first version only warned, trained
// on, and failed at the final save with nothing resumable. It needs to
// mount a tmpfs (root); elsewhere train's TestCheckpointFailureStops
// covers the same path with EFBIG.
func TestFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=700k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small file system: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	dir := filepath.Join(mnt, "run")
	cmd := exec.Command(bin, "train", "-preset", "seed", "-epochs", "30", "-train-size", "300", "-val-size", "50", "-out", dir, "-no-report", "-quiet")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "is kept") || !strings.Contains(string(out), "-resume "+dir) {
		t.Fatalf("full disk: %v\n%s", err, out)
	}
	if code, _, errs := runCLI(t, "eval", "-model", dir, "-count", "3"); code != 1 || !strings.Contains(errs, "-resume") {
		t.Errorf("eval of the stopped run: %d %s", code, errs)
	}
	cp := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-r", dir, cp).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if out, err := exec.Command(bin, "train", "-resume", cp, "-no-report", "-quiet").CombinedOutput(); err != nil {
		t.Fatalf("resume of the copy: %v\n%s", err, out)
	}
}

// cpuTicks returns the user plus system CPU time of process pid in clock
// ticks (usually 10 ms), from /proc; 0 if it cannot be read.
func cpuTicks(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return u + s
}
