package data

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestNPYHugeShapes reads small .npy files whose headers claim huge
// arrays. A first version panicked on (1, 10¹⁴) (a row buffer of 800 TB)
// and allocated 8 GB for (3, 10⁹); now each is refused from the header,
// with memory bounded by the file.
func TestNPYHugeShapes(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ shape, want string }{
		{"(1, 100000000000000)", "exceed the limit"},
		{"(3, 1000000000)", "exceed the limit"},
		{"(100000000000000,)", "exceed the limit"},
		{"(1000000000000, 11)", "truncated"},
		{"(9223372036854775807, 11)", "too large"},
	} {
		b := npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': "+c.shape+", }\n", make([]byte, 300))
		p := filepath.Join(dir, "huge.npy")
		os.WriteFile(p, b, 0o644)
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := ReadFile(p)
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("shape %s: %v, want ErrFormat with %q", c.shape, err, c.want)
		}
		if grown := after.TotalAlloc - before.TotalAlloc; grown > 8<<20 {
			t.Errorf("shape %s: reading a %d-byte file allocated %d bytes", c.shape, len(b), grown)
		}
		if got := MaxRows(p, 11); got > len(b) {
			t.Errorf("shape %s: MaxRows %d for a %d-byte file", c.shape, got, len(b))
		}
	}
}

// TestReaderHugeRow checks the streaming reader refuses a header row
// larger than MaxRowBytes before allocating it (approx reads this way).
func TestReaderHugeRow(t *testing.T) {
	b := npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 100000000000000), }\n", nil)
	if _, err := NewReader(strings.NewReader(string(b)), "f.npy", "npy"); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("got %v", err)
	}
}
