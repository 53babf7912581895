package train

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/matapprox/matapprox/internal/atomicfile"
	"github.com/matapprox/matapprox/nn"
)

// More files of a run directory.
const (
	LockFile   = ".lock"       // held (flock) by the process that writes the run
	InputsFile = "inputs.json" // the data and probe files the run read, with their SHA-256
)

// Errors of run directories; callers test them with errors.Is.
var (
	// ErrRunInUse reports a run directory locked by another process.
	ErrRunInUse = errors.New("run directory in use")
	// ErrRunExists reports a directory that cannot become a new run
	// because it already holds files.
	ErrRunExists = errors.New("run directory not empty")
	// ErrRunState reports a run directory in a state that does not allow
	// the operation: resuming a finished run, evaluating an unfinished one.
	ErrRunState = errors.New("run directory state")
	// ErrInputChanged reports a data or probe file whose content differs
	// from what the run was trained on.
	ErrInputChanged = errors.New("input file changed")
)

// RunDir owns a run directory for the lifetime of the process that trains
// into it. It holds an exclusive lock (flock on LockFile, released by the
// kernel even after kill -9), so a second writer is refused with
// ErrRunInUse, and it writes every file atomically, in an order that keeps
// the directory in one of four states whatever the point at which the
// process dies, the disk fills or a write fails:
//
//   - empty (or holding only LockFile): not a run; a new run may start in it;
//   - InputsFile and ConfigFile, no CheckpointFile: started, nothing trained;
//     -resume starts it from the beginning;
//   - CheckpointFile, no SummaryFile: unfinished; -resume continues from the
//     last checkpoint (which is only ever replaced by a complete newer one)
//     and, once all epochs are done, writes the final files again;
//   - SummaryFile: finished; it is written last, after the final model.
//
// Each epoch appends to MetricsFile, saves the best model when it improved,
// then replaces the checkpoint; a checkpoint that cannot be written is an
// error that stops training (the previous one is kept).
type RunDir struct {
	path string
	lock *os.File
}

// CreateRunDir creates the directory path (if needed), locks it and checks
// that it is empty, for a new run.
func CreateRunDir(path string) (*RunDir, error) {
	if err := os.MkdirAll(path, 0o777); err != nil {
		return nil, fmt.Errorf("create run directory: %w", err)
	}
	d, err := lockRunDir(path)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("run directory: %w", err)
	}
	for _, e := range ents {
		if e.Name() != LockFile {
			d.Close()
			return nil, fmt.Errorf("run directory %s already exists and is not empty; choose another -out, or continue it with -resume %s: %w", path, path, ErrRunExists)
		}
	}
	return d, nil
}

// OpenRunDir locks the existing run directory path to continue it; a
// finished run, or a directory that is not a run, is refused.
func OpenRunDir(path string) (*RunDir, error) {
	if _, err := os.Stat(filepath.Join(path, ConfigFile)); err != nil {
		return nil, fmt.Errorf("resume: %s is not a run directory (no %s): %w", path, ConfigFile, ErrRunState)
	}
	d, err := lockRunDir(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(path, SummaryFile)); err == nil {
		d.Close()
		return nil, fmt.Errorf("resume: the run in %s is finished (it has %s); evaluate it with matapprox eval -model %s: %w", path, SummaryFile, path, ErrRunState)
	}
	return d, nil
}

func lockRunDir(path string) (*RunDir, error) {
	f, err := os.OpenFile(filepath.Join(path, LockFile), os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock run directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := io.ReadAll(io.LimitReader(f, 32))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another process"
			if pid := strings.TrimSpace(string(b)); pid != "" {
				who = "another matapprox process (pid " + pid + ")"
			}
			return nil, fmt.Errorf("run directory %s is in use by %s; wait for it to finish or choose another -out: %w", path, who, ErrRunInUse)
		}
		return nil, fmt.Errorf("lock run directory %s: %w", path, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &RunDir{path: path, lock: f}, nil
}

// Path returns the directory.
func (d *RunDir) Path() string { return d.path }

// File returns the path of a file of the run.
func (d *RunDir) File(name string) string { return filepath.Join(d.path, name) }

// Close releases the lock. The lock file stays (removing it would race
// with a process that just opened it).
func (d *RunDir) Close() error {
	if d.lock == nil {
		return nil
	}
	err := d.lock.Close()
	d.lock = nil
	return err
}

// Start records a new run: the hashes of its input files, then its
// configuration (whose presence makes the directory a run).
func (d *RunDir) Start(cfg *Config) error {
	in, err := hashInputs(cfg)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(in, "", "  ")
	if err := atomicfile.WriteFile(d.File(InputsFile), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return WriteConfig(d.File(ConfigFile), cfg)
}

// Resume restores t from the run's checkpoint and returns true, or, when
// the run stopped before its first checkpoint, prepares it to start from
// the beginning and returns false. The run's input files must be unchanged
// (ErrInputChanged), and the metrics log is cut back to the checkpoint's
// epochs.
func (d *RunDir) Resume(t *Trainer) (bool, error) {
	if err := CheckInputs(d.path, "data", "probes"); err != nil {
		return false, fmt.Errorf("resume: %w", err)
	}
	ckpt := d.File(CheckpointFile)
	if _, err := os.Stat(ckpt); errors.Is(err, os.ErrNotExist) {
		os.RemoveAll(d.File(BestFile))
		return false, WriteMetrics(d.File(MetricsFile), nil)
	}
	if err := t.Resume(ckpt); err != nil {
		return false, err
	}
	if err := WriteMetrics(d.File(MetricsFile), t.History); err != nil {
		return false, err
	}
	if t.best != nil {
		// best/ may be newer than the checkpoint; the epoch that wrote it
		// will be trained again, identically.
		if err := d.saveBest(t); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Callbacks returns the callbacks that record each epoch of t: append the
// metrics, save the best model when it improved, replace the checkpoint.
// extra's callbacks run first.
func (d *RunDir) Callbacks(t *Trainer, extra Callbacks) Callbacks {
	cb := extra
	cb.Improved = func(s EpochStats) error {
		if extra.Improved != nil {
			if err := extra.Improved(s); err != nil {
				return err
			}
		}
		if err := d.saveBest(t); err != nil {
			return d.checkpointFailed(t, err)
		}
		return nil
	}
	cb.Epoch = func(s EpochStats) error {
		if extra.Epoch != nil {
			if err := extra.Epoch(s); err != nil {
				return err
			}
		}
		if err := AppendMetrics(d.File(MetricsFile), s); err != nil {
			return d.checkpointFailed(t, err)
		}
		if err := d.Checkpoint(t); err != nil {
			return d.checkpointFailed(t, err)
		}
		return nil
	}
	return cb
}

// ErrCheckpointWrite reports a checkpoint (or metrics record) that could
// not be written; the run stops, keeping the previous checkpoint.
var ErrCheckpointWrite = errors.New("checkpoint not written")

func (d *RunDir) checkpointFailed(t *Trainer, err error) error {
	kept := "no checkpoint was kept: start again with -resume " + d.path
	if ck, e := readCheckpointEpoch(d.File(CheckpointFile)); e == nil {
		kept = fmt.Sprintf("the last good checkpoint (after epoch %d) is kept: free space and continue with matapprox train -resume %s", ck, d.path)
	}
	return fmt.Errorf("%w after epoch %d: %v; training stopped; %s", ErrCheckpointWrite, t.Epoch(), err, kept)
}

// Checkpoint replaces the run's checkpoint with t's state.
func (d *RunDir) Checkpoint(t *Trainer) error { return t.WriteCheckpoint(d.File(CheckpointFile)) }

func (d *RunDir) saveBest(t *Trainer) error {
	m, net := *t.Model, *t.Model.Net
	net.Params = t.best
	m.Net = &net
	if err := m.Save(d.File(BestFile)); err != nil {
		return fmt.Errorf("saving the best model: %w", err)
	}
	return nil
}

// SaveModel writes the final model (model.safetensors and config.json).
func (d *RunDir) SaveModel(m *nn.Approximator) error { return m.Save(d.path) }

// Finish writes the summary, the last file of a run: the run is finished.
func (d *RunDir) Finish(summary []byte) error {
	return atomicfile.WriteFile(d.File(SummaryFile), summary, 0o644)
}

// readCheckpointEpoch returns the epoch count of a valid checkpoint file.
func readCheckpointEpoch(path string) (int, error) {
	ck, err := readCheckpoint(path)
	if err != nil {
		return 0, err
	}
	return ck.Epoch, nil
}

// RunStatus describes the state of a run directory for a reader.
type RunStatus int

// The states of a run directory (see RunDir).
const (
	RunNone       RunStatus = iota // not a run directory
	RunStarted                     // configuration, no checkpoint
	RunUnfinished                  // checkpoint, no summary
	RunFinished                    // summary (or a final model without checkpoint: written by hand or an older version)
)

// StatusOf returns the state of the run directory dir.
func StatusOf(dir string) RunStatus {
	has := func(name string) bool { _, err := os.Stat(filepath.Join(dir, name)); return err == nil }
	switch {
	case has(SummaryFile):
		return RunFinished
	case has(CheckpointFile):
		return RunUnfinished
	case has(ModelFile):
		return RunFinished
	case has(ConfigFile):
		return RunStarted
	}
	return RunNone
}

// inputFile records one file a run read.
type inputFile struct {
	Role   string `json:"role"` // "data" or "probes"
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

type inputs struct {
	Files []inputFile `json:"files"`
}

func hashInputs(cfg *Config) (inputs, error) {
	in := inputs{Files: []inputFile{}}
	add := func(role, path string) error {
		size, sum, err := hashFile(path)
		if err != nil {
			return fmt.Errorf("%s file: %w", role, err)
		}
		in.Files = append(in.Files, inputFile{Role: role, Path: path, Size: size, SHA256: sum})
		return nil
	}
	if !isGenerator(cfg.Data) {
		if err := add("data", cfg.Data); err != nil {
			return in, err
		}
	}
	if cfg.Loss == "probe" && !isDistribution(cfg.Probes) {
		if err := add("probes", cfg.Probes); err != nil {
			return in, err
		}
	}
	return in, nil
}

func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// CheckInputs checks that the input files of the given roles ("data",
// "probes") that the run in dir recorded still have the content it was
// trained on; a changed or missing file is an error wrapping
// ErrInputChanged that names it. A run without InputsFile (written by an
// older version) passes.
func CheckInputs(dir string, roles ...string) error {
	b, err := readBounded(filepath.Join(dir, InputsFile), 1<<20)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var in inputs
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, InputsFile), err)
	}
	for _, f := range in.Files {
		want := false
		for _, r := range roles {
			want = want || r == f.Role
		}
		if !want {
			continue
		}
		size, sum, err := hashFile(f.Path)
		if err != nil {
			return fmt.Errorf("the run's %s file %s cannot be read (%v): %w", f.Role, f.Path, err, ErrInputChanged)
		}
		if size != f.Size || sum != f.SHA256 {
			return fmt.Errorf("the run's %s file %s has changed since it was trained (SHA-256 %.12s…, %d bytes, was %.12s…, %d bytes): results against it would not be the run's; restore the file or train a new run: %w",
				f.Role, f.Path, sum, size, f.SHA256, f.Size, ErrInputChanged)
		}
	}
	return nil
}

// LoadRun reads the final network and the configuration of the finished
// run directory dir (ModelFile and ConfigFile), as a benchmark or a tool
// that applies a trained run needs them.
func LoadRun(dir string) (*nn.Approximator, Config, error) {
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFile), Config{})
	if err != nil {
		return nil, cfg, err
	}
	net, err := nn.LoadApproximator(filepath.Join(dir, nn.WeightsFile))
	return net, cfg, err
}
