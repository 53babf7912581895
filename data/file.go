package data

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/matapprox/matapprox/internal/atomicfile"
)

// FormatOf returns the format of path from its extension: "csv" for .csv,
// "npy" for .npy (case-insensitive), or an error naming the supported ones.
func FormatOf(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv":
		return "csv", nil
	case ".npy":
		return "npy", nil
	default:
		return "", fmt.Errorf("%s: unsupported file extension %q: data files must end in .csv or .npy", path, ext)
	}
}

// ReadCSV reads a whole CSV data file (see Reader for the syntax) into a
// Set. name prefixes error messages, which give file:line:column. A file
// without data rows is an error.
func ReadCSV(r io.Reader, name string) (*Set, error) { return readSet(r, name, "csv") }

// ReadNPY reads a whole .npy data file (see Reader) into a Set. A file
// without data rows is an error.
func ReadNPY(r io.Reader, name string) (*Set, error) { return readSet(r, name, "npy") }

func readSet(r io.Reader, name, format string) (*Set, error) {
	rd, err := NewReader(r, name, format)
	if err != nil {
		return nil, err
	}
	s := &Set{Dim: rd.Dim()}
	if rd.Rows() > 0 {
		// Trust the header only as far as a modest preallocation (at most
		// 1 MiB of values): a short file claiming many rows must not
		// allocate much.
		s.X = make([]float64, 0, min(rd.Rows(), max(1, (1<<17)/s.Dim))*s.Dim)
	}
	for {
		s.X = slices.Grow(s.X, s.Dim)[:len(s.X)+s.Dim]
		err := rd.Next(s.X[len(s.X)-s.Dim:])
		if err == io.EOF {
			s.X = s.X[:len(s.X)-s.Dim]
			break
		}
		if err != nil {
			return nil, err
		}
		s.Rows++
	}
	if s.Rows == 0 {
		hint := "write one line of comma-separated numbers per generator"
		if format == "npy" {
			hint = "the array has no rows"
		}
		return nil, fmt.Errorf("%s: no data rows: %s: %w", name, hint, ErrFormat)
	}
	return s, nil
}

// WriteCSV writes s as CSV, one row per line, each value formatted by
// strconv.FormatFloat(v, 'g', -1, 64), so that ReadCSV restores it exactly.
func WriteCSV(w io.Writer, s *Set) error {
	wr, err := NewWriter(w, "csv", s.Dim)
	if err != nil {
		return err
	}
	return writeRows(wr, s)
}

// WriteNPY writes s as a .npy file (format 1.0, '<f8', shape (Rows, Dim)),
// byte-for-byte what numpy.save writes for a float64 array of that shape.
func WriteNPY(w io.Writer, s *Set) error {
	wr, err := NewNPYWriter(w, s.Rows, s.Dim)
	if err != nil {
		return err
	}
	return writeRows(wr, s)
}

func writeRows(wr *Writer, s *Set) error {
	for i := range s.Rows {
		if err := wr.Write(s.Row(i)); err != nil {
			return err
		}
	}
	return wr.Close()
}

// ReadFile reads the data file at path, choosing the format by extension
// (.csv or .npy).
func ReadFile(path string) (*Set, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if format == "npy" {
		if err := checkNPYSize(f, path); err != nil {
			return nil, err
		}
	}
	return readSet(f, path, format)
}

// checkNPYSize compares the size of a .npy file with what its header
// declares, so that a file claiming more rows than it holds fails before
// any row is read, and rewinds it.
func checkNPYSize(f *os.File, path string) error {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil // not a regular file: the reader finds the truncation
	}
	h, err := readNPYHeader(f, path)
	if err != nil {
		return err
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil
	}
	want := float64(off) + float64(h.rows)*float64(h.dim)*float64(h.itemsize)
	if float64(st.Size()) < want {
		return fmt.Errorf("%s: truncated: the header declares %d×%d values (%.0f bytes with the header), the file has %d bytes: %w", path, h.rows, h.dim, want, st.Size(), ErrFormat)
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}

// WriteFile writes s to path atomically (see internal/atomicfile), choosing
// the format by extension (.csv or .npy).
func WriteFile(path string, s *Set) error {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		if format == "npy" {
			return WriteNPY(w, s)
		}
		return WriteCSV(w, s)
	})
}

// MaxRows returns an upper bound on the number of rows of width dim in the
// data file at path, from its header (.npy: the declared row count, if the
// file is large enough to hold it) or its size (CSV: every value takes at
// least two bytes), so that callers can check the memory a file implies
// before reading it. It returns 0 for a file that cannot be opened.
func MaxRows(path string, dim int) int {
	f, err := os.Open(path)
	if err != nil || dim < 1 {
		return 0
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	if format, _ := FormatOf(path); format == "npy" {
		if h, err := readNPYHeader(f, path); err == nil && h.rows <= int(st.Size()/int64(h.itemsize*h.dim)) {
			return h.rows
		}
		return int(st.Size() / int64(4*dim))
	}
	return int(st.Size()/int64(2*dim)) + 1
}
