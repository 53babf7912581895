package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestModes checks that a new file honours the umask and a replaced file
// keeps its permission bits (a first version always wrote 0644).
func TestModes(t *testing.T) {
	dir := t.TempDir()
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	umaskOnce = sync.Once{} // re-read the umask set above
	p := filepath.Join(dir, "new")
	if err := WriteFile(p, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("new file with umask 077: mode %v, want 0600", st.Mode().Perm())
	}
	q := filepath.Join(dir, "kept")
	os.WriteFile(q, []byte("x"), 0o640)
	os.Chmod(q, 0o640)
	if err := WriteFile(q, []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(q); st.Mode().Perm() != 0o640 {
		t.Errorf("replaced file: mode %v, want its own 0640", st.Mode().Perm())
	}
}

// TestFailedWriteLeavesOld checks that an error from fn keeps the old file
// and removes the temporary one.
func TestFailedWriteLeavesOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("old"), 0o644)
	err := Write(p, 0o644, func(w io.Writer) error { io.WriteString(w, "half"); return errors.New("boom") })
	if err == nil {
		t.Fatal("no error")
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("content %q, want old", b)
	}
	assertNoTemps(t, dir)
}

// TestRemoveTemps checks that the temporary file of a write in progress is
// removed by RemoveTemps (what a signal handler calls) and the destination
// is not created.
func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.csv")
	Write(p, 0o644, func(w io.Writer) error {
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Errorf("want one temporary file during the write, have %d", len(ents))
		}
		if n := RemoveTemps(); n != 1 {
			t.Errorf("RemoveTemps removed %d files, want 1", n)
		}
		return nil
	})
	assertNoTemps(t, dir)
	if _, err := os.Stat(p); err == nil {
		t.Error("the interrupted write created its destination")
	}
	if err := WriteFile(p, nil, 0o644); !errors.Is(err, ErrStopped) {
		t.Errorf("a write after RemoveTemps: %v, want ErrStopped", err)
	}
	tempMu.Lock()
	stopped = false
	tempMu.Unlock()
}

func TestAppend(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	for _, s := range []string{"a\n", "b\n"} {
		if err := Append(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(p); string(b) != "a\nb\n" {
		t.Errorf("%q", b)
	}
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}
