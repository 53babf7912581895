package train

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func tiny(t *testing.T) Config {
	t.Helper()
	c, err := Preset("seed")
	if err != nil {
		t.Fatal(err)
	}
	c.TrainSize, c.ValSize, c.Epochs = 200, 50, 3
	return c
}

// TestRunDirLock checks that a second writer is refused while the first
// holds the directory, and that a used directory is not reused.
func TestRunDirLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	a, err := CreateRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CreateRunDir(dir); !errors.Is(err, ErrRunInUse) || !strings.Contains(err.Error(), fmt.Sprint(os.Getpid())) {
		t.Errorf("second writer: %v, want ErrRunInUse naming the pid", err)
	}
	if _, err := OpenRunDir(dir); err == nil {
		t.Error("resume of a directory that is not a run yet was accepted")
	}
	c := tiny(t)
	if err := a.Start(&c); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenRunDir(dir); !errors.Is(err, ErrRunInUse) {
		t.Errorf("resume while the run is written: %v, want ErrRunInUse", err)
	}
	a.Close()
	if _, err := CreateRunDir(dir); !errors.Is(err, ErrRunExists) {
		t.Errorf("new run in a used directory: %v, want ErrRunExists", err)
	}
	if StatusOf(dir) != RunStarted {
		t.Errorf("status %v, want RunStarted", StatusOf(dir))
	}
	b, err := OpenRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tr, _ := New(c)
	if ok, err := b.Resume(tr); ok || err != nil {
		t.Errorf("resume without a checkpoint: %v %v, want a fresh start", ok, err)
	}
	if err := tr.Run(context.Background(), b.Callbacks(tr, Callbacks{})); err != nil {
		t.Fatal(err)
	}
	if StatusOf(dir) != RunUnfinished {
		t.Errorf("status %v after training, want RunUnfinished", StatusOf(dir))
	}
	b.Finish([]byte("{}\n"))
	b.Close()
	if _, err := OpenRunDir(dir); !errors.Is(err, ErrRunState) {
		t.Errorf("resume of a finished run: %v, want ErrRunState", err)
	}
}

// LoadRun returns what a run directory holds: its configuration and its
// model, the same weights; a directory without them is an error.
func TestLoadRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if _, _, err := LoadRun(dir); err == nil {
		t.Error("a missing run directory was loaded")
	}
	d, err := CreateRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c := tiny(t)
	if err := d.Start(&c); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadRun(dir); err == nil {
		t.Error("a run without its model was loaded")
	}
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SaveModel(tr.Model); err != nil {
		t.Fatal(err)
	}
	net, cfg, err := LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.N != c.N || cfg.InBand != c.InBand || cfg.OutBand != c.OutBand || !slices.Equal(net.Params(), tr.Model.Params()) {
		t.Errorf("loaded N=%d K=%d→%d, want %d %d→%d, or other weights", cfg.N, cfg.InBand, cfg.OutBand, c.N, c.InBand, c.OutBand)
	}
}

// TestCheckpointFailureStops makes the second checkpoint fail with a real
// write error (EFBIG from RLIMIT_FSIZE, as a full disk gives ENOSPC) and
// checks that training stops with ErrCheckpointWrite and that the first
// checkpoint is kept and resumes. A first version printed a warning and
// trained on, and the run was not resumable.
func TestCheckpointFailureStops(t *testing.T) {
	signal.Ignore(syscall.SIGXFSZ)
	defer signal.Reset(syscall.SIGXFSZ)
	dir := filepath.Join(t.TempDir(), "run")
	rd, err := CreateRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	c := tiny(t)
	tr, _ := New(c)
	rd.Start(&c)
	var old syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old)
	defer syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
	cb := rd.Callbacks(tr, Callbacks{Epoch: func(s EpochStats) error {
		if s.Epoch == 2 {
			st, err := os.Stat(rd.File(CheckpointFile))
			if err != nil {
				return err
			}
			lim := syscall.Rlimit{Cur: uint64(st.Size() / 2), Max: old.Max}
			return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim)
		}
		return nil
	}})
	err = tr.Run(context.Background(), cb)
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
	if !errors.Is(err, ErrCheckpointWrite) || !strings.Contains(err.Error(), "after epoch 1) is kept") {
		t.Fatalf("Run: %v, want ErrCheckpointWrite keeping epoch 1", err)
	}
	if tr.Epoch() != 2 {
		t.Errorf("training went on to epoch %d", tr.Epoch())
	}
	rd.Close()
	again, err := OpenRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	tr2, _ := New(c)
	if ok, err := again.Resume(tr2); !ok || err != nil || tr2.Epoch() != 1 || len(tr2.History) != 1 {
		t.Fatalf("resume after the failure: %v %v at epoch %d with %d epochs of history", ok, err, tr2.Epoch(), len(tr2.History))
	}
}

// TestEpochCostBounded checks that an epoch's files do not grow with the
// number of epochs: the metrics log is appended to (same inode, earlier
// bytes unchanged) and the checkpoint's size stays bounded, and that a
// history longer than the checkpoint holds resumes exactly from the log.
// A first version rewrote both whole every epoch (8000 epochs cost 25× what
// 1000 did).
func TestEpochCostBounded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	rd, _ := CreateRunDir(dir)
	defer rd.Close()
	c := tiny(t)
	c.TrainSize, c.ValSize, c.Epochs, c.BatchSize = 20, 5, 60, 20
	tr, _ := New(c)
	rd.Start(&c)
	var ino uint64
	var size20 int64
	ctx, cancel := context.WithCancel(context.Background())
	cb := rd.Callbacks(tr, Callbacks{Epoch: func(s EpochStats) error {
		st, err := os.Stat(rd.File(MetricsFile))
		if err == nil && s.Epoch > 1 {
			if i := st.Sys().(*syscall.Stat_t).Ino; ino != 0 && i != ino {
				t.Errorf("epoch %d: the metrics log was replaced, not appended to", s.Epoch)
			}
			ino = st.Sys().(*syscall.Stat_t).Ino
		}
		if s.Epoch == 41 {
			cancel()
		}
		return nil
	}})
	cbEpoch := cb.Epoch
	cb.Epoch = func(s EpochStats) error {
		err := cbEpoch(s)
		if st, e := os.Stat(rd.File(CheckpointFile)); e == nil {
			switch s.Epoch {
			case 20:
				size20 = st.Size()
			case 40:
				if d := st.Size() - size20; d > 64 || d < -64 {
					t.Errorf("checkpoint grew by %d bytes between epochs 20 and 40", d)
				}
			}
		}
		return err
	}
	if err := tr.Run(ctx, cb); !errors.Is(err, ErrInterrupted) {
		t.Fatal(err)
	}
	rd.Checkpoint(tr)
	rd.Close()
	// Simulate a kill in the middle of an append: a partial record.
	f, _ := os.OpenFile(rd.File(MetricsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"epoch":42,"train_lo`)
	f.Close()
	want := append([]EpochStats(nil), tr.History...)
	rd2, _ := OpenRunDir(dir)
	defer rd2.Close()
	tr2, _ := New(c)
	if ok, err := rd2.Resume(tr2); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if len(tr2.History) != len(want) || len(want) != 41 {
		t.Fatalf("resumed history has %d epochs, want %d (41)", len(tr2.History), len(want))
	}
	for i := range want {
		if !sameStats(want[i], tr2.History[i]) {
			t.Fatalf("epoch %d: %+v, want %+v", i+1, tr2.History[i], want[i])
		}
	}
	logged, err := ReadMetrics(rd.File(MetricsFile))
	if err != nil || len(logged) != 41 {
		t.Errorf("metrics log after resume: %d records, %v", len(logged), err)
	}
}

// TestCheckInputs checks that a data or probe file changed after training
// is named by CheckInputs (report, eval and -resume call it): a first
// version re-read the changed file and reported a network 99.96 % better
// than the exact optimum.
func TestCheckInputs(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "d.csv")
	var b strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&b, "%d,1,2,3,4,5,6,7,8,9,10\n", i)
	}
	os.WriteFile(data, []byte(b.String()), 0o644)
	c := tiny(t)
	c.Data, c.ValFraction = data, 0.2
	dir := filepath.Join(tmp, "run")
	rd, err := CreateRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := rd.Start(&c); err != nil {
		t.Fatal(err)
	}
	rd.Close()
	if err := CheckInputs(dir, "data", "probes"); err != nil {
		t.Fatalf("unchanged: %v", err)
	}
	os.WriteFile(data, []byte(strings.Replace(b.String(), "0,1,2", "0,1,3", 1)), 0o644)
	if err := CheckInputs(dir, "data"); !errors.Is(err, ErrInputChanged) || !strings.Contains(err.Error(), data) {
		t.Errorf("changed data file: %v, want ErrInputChanged naming %s", err, data)
	}
	if err := CheckInputs(dir, "probes"); err != nil {
		t.Errorf("only probes checked: %v", err)
	}
	rd2, _ := OpenRunDir(dir)
	defer rd2.Close()
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd2.Resume(tr); !errors.Is(err, ErrInputChanged) {
		t.Errorf("resume with changed data: %v", err)
	}
}
