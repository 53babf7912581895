package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	in := "\xef\xbb\xbf# generators, N=3 K=1\n" +
		"1, 2.5 ,-3e-2\r\n" +
		"\n" +
		"  \t\n" +
		"4,5,6   # trailing comment\n" +
		"0x1p-2,  -0, 7" // no final newline
	s, err := ReadCSV(strings.NewReader(in), "in.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 2.5, -3e-2, 4, 5, 6, 0.25, 0, 7}
	if s.Dim != 3 || s.Rows != 3 || !slices.Equal(s.X, want) {
		t.Errorf("ReadCSV = %+v, want Dim 3, Rows 3, X %v", s, want)
	}
	if !math.Signbit(s.X[7]) {
		t.Error("-0 lost its sign")
	}
}

func TestReadCSVErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "f.csv: no data rows: write one line"},
		{"# only a comment\n\n", "f.csv: no data rows"},
		{"1,2\n3,x\n", `f.csv:2:3: "x" is not a number`},
		{"1,2\n3,,4\n", "f.csv:2:3: empty value: remove the extra comma"},
		{"1,2,\n", "f.csv:1:5: empty value"},
		{"1, NaN\n", `f.csv:1:4: "NaN" is not finite`},
		{"1,2\n-Inf,2\n", `f.csv:2:1: "-Inf" is not finite`},
		{"1e400\n", `f.csv:1:1: "1e400" is out of the float64 range`},
		{"1,2\n\n3,4,5\n", "f.csv:3:5: line has more than 2 values but the first data row has 2"},
		{"1,2,3\n4,5\n", "f.csv:2:4: line has 2 values but the first data row has 3"},
		{"1;2\n", `f.csv:1:1: "1;2" is not a number`},
	}
	for _, tc := range tests {
		_, err := ReadCSV(strings.NewReader(tc.in), "f.csv")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrFormat) {
			t.Errorf("ReadCSV(%q): error %v, want ErrFormat containing %q", tc.in, err, tc.want)
		}
	}
}

func randomSet(rng *rand.Rand, rows, dim int) *Set {
	s := &Set{Dim: dim, Rows: rows, X: make([]float64, rows*dim)}
	for i := range s.X {
		s.X[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
	}
	s.X[0] = math.SmallestNonzeroFloat64
	s.X[len(s.X)-1] = -math.MaxFloat64
	return s
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := randomSet(rng, 50, 7)
	for _, format := range Formats {
		var buf bytes.Buffer
		write, read := WriteCSV, ReadCSV
		if format == "npy" {
			write, read = WriteNPY, ReadNPY
		}
		if err := write(&buf, s); err != nil {
			t.Fatal(err)
		}
		got, err := read(&buf, "x."+format)
		if err != nil {
			t.Fatal(err)
		}
		if got.Dim != s.Dim || got.Rows != s.Rows || !slices.Equal(got.X, s.X) {
			t.Errorf("%s round trip changed the data", format)
		}
	}
}

// numpy23 is a 2×3 float64 array as numpy.save writes it (NumPy ≥ 1.24),
// assembled by hand from the format description: magic, version 1.0,
// header length 118, the dictionary, 20 spaces of growth padding and 38 of
// alignment padding, a newline, then the data at byte 128.
func numpy23(vals []float64) []byte {
	b := []byte("\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }" + strings.Repeat(" ", 58) + "\n")
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

func TestWriteNPYMatchesNumPy(t *testing.T) {
	s := &Set{Dim: 3, Rows: 2, X: []float64{1, 2, 3, 4.5, -5, 6e-7}}
	var buf bytes.Buffer
	if err := WriteNPY(&buf, s); err != nil {
		t.Fatal(err)
	}
	if want := numpy23(s.X); !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("WriteNPY:\n got %q\nwant %q", buf.Bytes(), want)
	}
	// The header length does not depend on the row count (growth padding).
	for _, rows := range []int{0, 1, 99999, 1 << 40} {
		if n := len(appendNPYHeader(nil, rows, 3)); n != 128 {
			t.Errorf("header for %d rows has %d bytes, want 128", rows, n)
		}
	}
}

// npyFile assembles a .npy file with the given version and header text.
func npyFile(major byte, header string, data []byte) []byte {
	b := []byte(npyMagic)
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(header)))
	}
	return append(append(b, header...), data...)
}

func f64s(order binary.AppendByteOrder, vs ...float64) []byte {
	var b []byte
	for _, v := range vs {
		b = order.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

func f32s(order binary.AppendByteOrder, vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = order.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func TestReadNPYVariants(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	tests := []struct {
		name string
		file []byte
		dim  int
		want []float64
	}{
		{"numpy", numpy23([]float64{1, 2, 3, 4, 5, 6}), 3, []float64{1, 2, 3, 4, 5, 6}},
		{"v2 f4", npyFile(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", f32s(le, 1.5, 2, 3, 4)), 2, []float64{1.5, 2, 3, 4}},
		{"v3 big-endian f8", npyFile(3, "{'descr': '>f8', 'fortran_order': False, 'shape': (1, 2), }\n", f64s(be, 0.1, -7)), 2, []float64{0.1, -7}},
		{"big-endian f4", npyFile(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1, 1), }\n", f32s(be, 0.5)), 1, []float64{0.5}},
		{"one row (dim,)", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n", f64s(le, 1, 2, 3)), 3, []float64{1, 2, 3}},
		{"python 2 longs", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1L, 2L), }\n", f64s(le, 1, 2)), 2, []float64{1, 2}},
		{"key order, quotes, no trailing comma", npyFile(1, `{"shape": (1, 1), "fortran_order": False, "descr": "<f8"}`, f64s(le, 9)), 1, []float64{9}},
		{"fortran 1-row", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }", f64s(le, 1, 2)), 1, []float64{1, 2}},
	}
	for _, tc := range tests {
		s, err := ReadNPY(bytes.NewReader(tc.file), tc.name)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if s.Dim != tc.dim || s.Rows*s.Dim != len(tc.want) || !slices.Equal(s.X, tc.want) {
			t.Errorf("%s: got %+v, want Dim %d, X %v", tc.name, s, tc.dim, tc.want)
		}
	}
}

func TestReadNPYErrors(t *testing.T) {
	le := binary.LittleEndian
	hdr := func(descr, fortran, shape string) string {
		return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }\n"
	}
	ok := hdr("<f8", "False", "(1, 2)")
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"short", []byte("\x93NUM"), "too short"},
		{"magic", []byte("PK\x03\x04 a zip file!"), "missing the \\x93NUMPY magic"},
		{"version", npyFile(1, ok, nil)[:6:6], "too short"},
		{"version 4", append([]byte(npyMagic), 4, 0, 0, 0, 0, 0), "unsupported .npy format version 4.0"},
		{"header length", append([]byte(npyMagic), 2, 0, 0xff, 0xff, 0xff, 0x7f), "exceeds"},
		{"truncated header", npyFile(1, ok, nil)[:30], "ends inside the"},
		{"fortran", npyFile(1, hdr("<f8", "True", "(2, 3)"), nil), "Fortran (column-major) order"},
		{"int dtype", npyFile(1, hdr("<i8", "False", "(1, 2)"), nil), `unsupported dtype "<i8"`},
		{"float16", npyFile(1, hdr("<f2", "False", "(1, 2)"), nil), `unsupported dtype "<f2"`},
		{"3-D", npyFile(1, hdr("<f8", "False", "(1, 2, 3)"), nil), "want (rows, dim) or (dim,)"},
		{"scalar", npyFile(1, hdr("<f8", "False", "()"), nil), "want (rows, dim) or (dim,)"},
		{"not tuple", npyFile(1, hdr("<f8", "False", "(2)"), nil), "(2) is an integer, not a tuple"},
		{"zero dim", npyFile(1, hdr("<f8", "False", "(2, 0)"), nil), "at least one value"},
		{"no rows", npyFile(1, hdr("<f8", "False", "(0, 2)"), nil), "no data rows"},
		{"huge", npyFile(1, hdr("<f8", "False", "(9223372036854775807, 2)"), nil), "too large"},
		{"overflow int", npyFile(1, hdr("<f8", "False", "(99999999999999999999, 2)"), nil), "out of range"},
		{"truncated data", npyFile(1, ok, f64s(le, 1)), "truncated: the file ends in row 1 of 1 (8 of 16 bytes"},
		{"truncated rows", npyFile(1, hdr("<f8", "False", "(1000000, 2)"), f64s(le, 1, 2, 3)), "row 2 of 1000000"},
		{"trailing data", npyFile(1, ok, f64s(le, 1, 2, 3)), "data continues after the 1×2 array"},
		{"nan", npyFile(1, ok, f64s(le, 1, math.NaN())), "row 1, column 2: value NaN is not finite"},
		{"missing key", npyFile(1, "{'descr': '<f8', 'shape': (1, 2)}", nil), `lacks the "fortran_order" key`},
		{"extra key", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), 'x': True}", nil), `unexpected header key "x"`},
		{"duplicate key", npyFile(1, "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1, 2)}", nil), "duplicate key"},
		{"structured", npyFile(1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,)}", nil), "unsupported value"},
		{"garbage", npyFile(1, "{'descr': '<f8'} x", nil), "unexpected text"},
		{"not dict", npyFile(1, "[1, 2]", nil), "want '{'"},
		{"fortran type", npyFile(1, "{'descr': '<f8', 'fortran_order': 'no', 'shape': (1, 2)}", nil), "want True or False"},
		{"shape type", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': '(1, 2)'}", nil), "want a tuple"},
		{"descr type", npyFile(1, "{'descr': (1,), 'fortran_order': False, 'shape': (1, 2)}", nil), "want a dtype string"},
	}
	for _, tc := range tests {
		_, err := ReadNPY(bytes.NewReader(tc.file), "f.npy")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "f.npy: ") {
			t.Errorf("%s: error %v, want ErrFormat naming f.npy containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := ReadNPY(bytes.NewReader(npyFile(1, ok, f64s(le, 1, 2))), "f.npy"); err != nil {
		t.Errorf("the well-formed base case fails: %v", err)
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	s := randomSet(rand.New(rand.NewPCG(3, 3)), 5, 3)
	for _, name := range []string{"a.csv", "b.npy", "C.NPY"} {
		path := filepath.Join(dir, name)
		if err := WriteFile(path, s); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.X, s.X) {
			t.Errorf("%s: round trip changed the data", name)
		}
	}
	if err := WriteFile(filepath.Join(dir, "x.txt"), s); err == nil || !strings.Contains(err.Error(), ".csv or .npy") {
		t.Errorf("WriteFile(.txt): error %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "x.json")); err == nil || !strings.Contains(err.Error(), "x.json") || !strings.Contains(err.Error(), ".csv or .npy") {
		t.Errorf("ReadFile(.json): error %v", err)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("1,2\nx,3\n"), 0o644)
	if _, err := ReadFile(bad); err == nil || !strings.Contains(err.Error(), bad+":2:1:") {
		t.Errorf("ReadFile(bad): error %v, want one naming %s:2:1", err, bad)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.csv")); err == nil {
		t.Error("ReadFile(missing): no error")
	}
}

func TestReader(t *testing.T) {
	s := randomSet(rand.New(rand.NewPCG(4, 4)), 20, 5)
	for _, format := range Formats {
		var buf bytes.Buffer
		if format == "csv" {
			WriteCSV(&buf, s)
		} else {
			WriteNPY(&buf, s)
		}
		r, err := NewReader(&buf, "x", format)
		if err != nil {
			t.Fatal(err)
		}
		wantRows := -1
		if format == "npy" {
			wantRows = 20
		}
		if r.Dim() != 5 || r.Rows() != wantRows {
			t.Errorf("%s: Dim %d, Rows %d", format, r.Dim(), r.Rows())
		}
		row := make([]float64, 5)
		for i := range 20 {
			if err := r.Next(row); err != nil {
				t.Fatalf("%s row %d: %v", format, i, err)
			}
			if !slices.Equal(row, s.Row(i)) {
				t.Errorf("%s row %d = %v, want %v", format, i, row, s.Row(i))
			}
		}
		for range 2 {
			if err := r.Next(row); err != io.EOF {
				t.Errorf("%s: after the last row Next = %v, want io.EOF", format, err)
			}
		}
	}
	// Errors are sticky.
	r, _ := NewReader(strings.NewReader("1\nx\n2\n"), "s.csv", "csv")
	row := make([]float64, 1)
	r.Next(row)
	e1, e2 := r.Next(row), r.Next(row)
	if e1 == nil || e1 != e2 {
		t.Errorf("errors %v then %v, want the same error twice", e1, e2)
	}
	// An empty CSV file is not an error for the streaming reader.
	r, err := NewReader(strings.NewReader("# nothing\n"), "e.csv", "csv")
	if err != nil || r.Dim() != 0 || r.Next(nil) != io.EOF {
		t.Errorf("empty CSV: %v, Dim %d", err, r.Dim())
	}
	if _, err := NewReader(strings.NewReader(""), "x", "json"); err == nil || !strings.Contains(err.Error(), "want csv or npy") {
		t.Errorf("unknown format: error %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Next with a short buffer did not panic")
		}
	}()
	r, _ = NewReader(strings.NewReader("1,2\n"), "x", "csv")
	r.Next(make([]float64, 1))
}

// TestReaderLongLine reads a line longer than the bufio buffer.
func TestReaderLongLine(t *testing.T) {
	const dim = 20000
	var b strings.Builder
	for j := range dim {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString("1.25")
	}
	b.WriteString("\n")
	line := b.String()
	s, err := ReadCSV(strings.NewReader(line+line), "long.csv")
	if err != nil {
		t.Fatal(err)
	}
	if s.Dim != dim || s.Rows != 2 || s.X[2*dim-1] != 1.25 {
		t.Errorf("Dim %d, Rows %d", s.Dim, s.Rows)
	}
	_, err = ReadCSV(strings.NewReader(line+"1,"+line), "long.csv")
	if err == nil || !strings.Contains(err.Error(), "long.csv:2:") {
		t.Errorf("error %v, want one on line 2", err)
	}
}

// TestReaderAllocs checks that streaming a row allocates nothing, so that
// memory stays bounded however long the file.
func TestReaderAllocs(t *testing.T) {
	s := randomSet(rand.New(rand.NewPCG(5, 5)), 2000, 11)
	for _, format := range Formats {
		var buf bytes.Buffer
		if format == "csv" {
			WriteCSV(&buf, s)
		} else {
			WriteNPY(&buf, s)
		}
		r, err := NewReader(&buf, "x", format)
		if err != nil {
			t.Fatal(err)
		}
		row := make([]float64, 11)
		r.Next(row)
		allocs := testing.AllocsPerRun(1000, func() {
			if err := r.Next(row); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per row, want 0", format, allocs)
		}
	}
}

func TestWriter(t *testing.T) {
	if _, err := NewWriter(io.Discard, "npy", 3); err == nil || !strings.Contains(err.Error(), "NewNPYWriter") {
		t.Errorf("NewWriter(npy): error %v, want one pointing to NewNPYWriter", err)
	}
	if _, err := NewWriter(io.Discard, "tsv", 3); err == nil {
		t.Error("NewWriter(tsv): no error")
	}
	if _, err := NewWriter(io.Discard, "csv", 0); err == nil {
		t.Error("NewWriter(dim 0): no error")
	}
	w, _ := NewWriter(io.Discard, "csv", 2)
	if err := w.Write([]float64{1}); err == nil || !strings.Contains(err.Error(), "row 1 has 1 values, want 2") {
		t.Errorf("short row: error %v", err)
	}
	if err := w.Write([]float64{1, math.Inf(1)}); err == nil || !strings.Contains(err.Error(), "row 1, column 2") {
		t.Errorf("infinite value: error %v", err)
	}
	w, _ = NewNPYWriter(io.Discard, 1, 2)
	if err := w.Write([]float64{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]float64{1, 2}); err == nil || !strings.Contains(err.Error(), "declared 1 rows") {
		t.Errorf("extra row: error %v", err)
	}
	w, _ = NewNPYWriter(io.Discard, 3, 2)
	w.Write([]float64{1, 2})
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "declared 3 rows but 1 were written") {
		t.Errorf("missing rows: error %v", err)
	}
	if _, err := NewNPYWriter(&bytes.Buffer{}, -1, 2); err == nil || !strings.Contains(err.Error(), "io.WriteSeeker") {
		t.Errorf("unknown rows without seeker: error %v", err)
	}
}

// TestNPYWriterUnknownRows writes a .npy file whose row count is known only
// at Close, seeking back to rewrite the header.
func TestNPYWriterUnknownRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.npy")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	s := randomSet(rand.New(rand.NewPCG(6, 6)), 1234, 3)
	w, err := NewNPYWriter(f, -1, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.Rows {
		if err := w.Write(s.Row(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rows != 1234 || !slices.Equal(got.X, s.X) {
		t.Errorf("read back %d rows, want 1234 equal rows", got.Rows)
	}
	var want bytes.Buffer
	WriteNPY(&want, s)
	if b, _ := os.ReadFile(path); !bytes.Equal(b, want.Bytes()) {
		t.Error("file differs from WriteNPY's output")
	}
}

// FuzzReadCSV checks that ReadCSV never panics, that what it accepts is
// valid (finite, rectangular), and that it survives a WriteCSV round trip.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{"1,2,3\n4,5,6\n", "# c\n\n 1 , 2 \r\n", "1,x\n", "1,,2", "NaN", "\xef\xbb\xbf0x1p3\n", "1,2\n3\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := ReadCSV(bytes.NewReader(in), "f.csv")
		if err != nil {
			if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "f.csv:") {
				t.Fatalf("error %v: want ErrFormat naming the file", err)
			}
			return
		}
		checkRoundTrip(t, s, "csv")
	})
}

// FuzzReadNPY is FuzzReadCSV for .npy input.
func FuzzReadNPY(f *testing.F) {
	f.Add(numpy23([]float64{1, 2, 3, 4, 5, 6}))
	f.Add(npyFile(3, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n", f32s(binary.BigEndian, 1, 2)))
	f.Add(npyFile(2, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }\n", f32s(binary.LittleEndian, 1)))
	f.Add(npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000, 1), }\n", nil))
	// Crashes found by the adversarial test (issue 16): a row of 10¹⁴
	// values panicked, (3, 10⁹) allocated 8 GB.
	f.Add(npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 100000000000000), }\n", nil))
	f.Add(npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 1000000000), }\n", nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := ReadNPY(bytes.NewReader(in), "f.npy")
		if err != nil {
			if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "f.npy:") {
				t.Fatalf("error %v: want ErrFormat naming the file", err)
			}
			return
		}
		if len(s.X) > len(in) {
			t.Fatalf("%d values from %d bytes", len(s.X), len(in))
		}
		checkRoundTrip(t, s, "npy")
	})
}

// FuzzReader checks that the streaming Reader agrees with the whole-file
// readers on arbitrary CSV input and on .npy input behind a valid header.
func FuzzReader(f *testing.F) {
	f.Add([]byte("1,2\n3,4\n"), false)
	f.Add([]byte("1,2\n3\n"), false)
	f.Add(f64s(binary.LittleEndian, 1, 2, 3, 4, 5, 6), true)
	f.Add(f64s(binary.LittleEndian, 1, 2, 3, math.NaN()), true)
	f.Fuzz(func(t *testing.T, in []byte, npy bool) {
		format := "csv"
		if npy {
			format = "npy"
			in = append(appendNPYHeader(nil, len(in)/24, 3), in...)
		}
		whole, werr := readSet(bytes.NewReader(in), "f", format)
		r, err := NewReader(bytes.NewReader(in), "f", format)
		if err != nil {
			if werr == nil || werr.Error() != err.Error() {
				t.Fatalf("NewReader error %v, whole-file error %v", err, werr)
			}
			return
		}
		var rows []float64
		row := make([]float64, r.Dim())
		for {
			err = r.Next(row)
			if err != nil {
				break
			}
			rows = append(rows, row...)
		}
		switch {
		case err == io.EOF && werr == nil:
			if !slices.Equal(rows, whole.X) {
				t.Fatal("streamed rows differ from ReadCSV/ReadNPY")
			}
		case err == io.EOF:
			if !strings.Contains(werr.Error(), "no data rows") || len(rows) != 0 {
				t.Fatalf("stream ended cleanly after %d values but whole-file read failed: %v", len(rows), werr)
			}
		case werr == nil || werr.Error() != err.Error():
			t.Fatalf("stream error %v, whole-file error %v", err, werr)
		}
	})
}

func checkRoundTrip(t *testing.T, s *Set, format string) {
	t.Helper()
	if s.Rows < 1 || s.Dim < 1 || len(s.X) != s.Rows*s.Dim {
		t.Fatalf("accepted a malformed set: Dim %d, Rows %d, len(X) %d", s.Dim, s.Rows, len(s.X))
	}
	for _, v := range s.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("accepted non-finite value %v", v)
		}
	}
	var buf bytes.Buffer
	write, read := WriteCSV, ReadCSV
	if format == "npy" {
		write, read = WriteNPY, ReadNPY
	}
	if err := write(&buf, s); err != nil {
		t.Fatalf("write: %v", err)
	}
	again, err := read(&buf, "again")
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if again.Dim != s.Dim || again.Rows != s.Rows || !slices.Equal(again.X, s.X) {
		t.Fatal("round trip changed the data")
	}
}

// BenchmarkReader streams 100000 rows of 11 values; allocs/op stays at the
// per-file constant, independent of the number of rows.
func BenchmarkReader(b *testing.B) {
	s := Generate(Notebook{Scale: 11}, band11, 100000, rand.New(rand.NewPCG(1, 1)))
	for _, format := range Formats {
		var buf bytes.Buffer
		if format == "csv" {
			WriteCSV(&buf, s)
		} else {
			WriteNPY(&buf, s)
		}
		in := buf.Bytes()
		b.Run(format, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			row := make([]float64, 11)
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(in), "x", format)
				if err != nil {
					b.Fatal(err)
				}
				for r.Next(row) == nil {
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(s.Rows), "ns/row")
		})
	}
}

// BenchmarkWriter writes 100000 rows of 11 values.
func BenchmarkWriter(b *testing.B) {
	s := Generate(Notebook{Scale: 11}, band11, 100000, rand.New(rand.NewPCG(1, 1)))
	for _, format := range Formats {
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				write := WriteCSV
				if format == "npy" {
					write = WriteNPY
				}
				if err := write(io.Discard, s); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(s.Rows), "ns/row")
		})
	}
}
