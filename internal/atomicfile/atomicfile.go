// Package atomicfile writes files so that readers see either the old content
// or the complete new content, never a partial write: the data goes to a
// temporary file in the same directory, is synced to disk, and is renamed
// over the destination (rename is atomic on POSIX file systems). A crash or
// kill -9 at any point leaves at most a stray temporary file whose name
// starts with "." and ends in ".tmp", which readers ignore; an orderly exit
// after a signal removes the temporary files of the writes in progress
// (RemoveTemps).
//
// A new file gets the permission bits perm less the process umask, as
// os.WriteFile gives; a replaced file keeps its own permission bits.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// Write creates or replaces path with what fn writes, atomically. If fn
// returns an error nothing is replaced and the temporary file is removed.
func Write(path string, perm os.FileMode, fn func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	mode := perm.Perm() &^ umask()
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		mode = st.Mode().Perm()
	}
	tempMu.Lock()
	if stopped {
		tempMu.Unlock()
		return fmt.Errorf("write %s: %w", path, ErrStopped)
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		tempMu.Unlock()
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	temps[tmp] = true
	tempMu.Unlock()
	defer untrack(tmp)
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err = fn(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// WriteFile is like os.WriteFile but atomic.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Append appends data to path (created with perm less the umask if absent)
// and syncs it. It is not atomic: a crash can leave a prefix of data at the
// end of the file, which is why append-only logs end every record with a
// newline and readers ignore an unterminated last record.
func Append(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, perm.Perm())
	if err != nil {
		return fmt.Errorf("append %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("append %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("append %s: sync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("append %s: %w", path, err)
	}
	return nil
}

// SyncDir makes renames and creations in dir durable; errors are ignored
// because some file systems do not support syncing directories.
func SyncDir(dir string) { syncDir(dir) }

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// ErrStopped is returned by writes started after RemoveTemps.
var ErrStopped = errors.New("the process is exiting")

var (
	tempMu  sync.Mutex
	temps   = map[string]bool{}
	stopped bool
)

func untrack(p string) { tempMu.Lock(); delete(temps, p); tempMu.Unlock() }

// RemoveTemps removes the temporary files of every write in progress,
// makes every later Write fail with ErrStopped, and returns how many files
// it removed. A signal handler calls it before exiting, so that an
// interrupted command leaves no temporary file behind; the destinations are
// untouched (the writes in progress never complete).
func RemoveTemps() int {
	tempMu.Lock()
	defer tempMu.Unlock()
	stopped = true
	n := 0
	for p := range temps {
		if os.Remove(p) == nil {
			n++
		}
		delete(temps, p)
	}
	return n
}

var (
	umaskOnce sync.Once
	umaskBits os.FileMode
)

// umask returns the process umask. syscall.Umask both sets and returns it,
// so it is read once (before any file is written) and restored at once.
func umask() os.FileMode {
	umaskOnce.Do(func() {
		m := syscall.Umask(0o022)
		syscall.Umask(m)
		umaskBits = os.FileMode(m).Perm()
	})
	return umaskBits
}
