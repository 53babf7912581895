package shard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestRangePartition checks every split of up to 60 rows into up to 13
// shards against a brute-force deal of rows: contiguous, in order,
// covering, sizes differing by at most one, larger shards first.
func TestRangePartition(t *testing.T) {
	for rows := 0; rows <= 60; rows++ {
		for n := 1; n <= 13; n++ {
			// Brute force: deal the rows one at a time to the shards, the
			// first rows%n shards getting one extra.
			sizes := make([]int, n)
			for r := 0; r < rows; r++ {
				sizes[r%n]++
			}
			next := 0
			for i := 0; i < n; i++ {
				lo, hi := Spec{i, n}.Range(rows)
				if lo != next || hi-lo != sizes[i] {
					t.Fatalf("rows %d, shard %d/%d: [%d, %d), want [%d, %d)", rows, i, n, lo, hi, next, next+sizes[i])
				}
				next = hi
			}
			if next != rows {
				t.Fatalf("rows %d, %d shards cover %d rows", rows, n, next)
			}
		}
	}
}

// TestRangeLarge checks that huge row counts do not overflow.
func TestRangeLarge(t *testing.T) {
	const rows = 1<<62 + 12345
	prev := 0
	for i := 0; i < 7; i++ {
		lo, hi := Spec{i, 7}.Range(rows)
		if lo != prev || hi < lo || hi-lo > rows/7+1 {
			t.Fatalf("shard %d/7 of %d: [%d, %d)", i, rows, lo, hi)
		}
		prev = hi
	}
	if prev != rows {
		t.Fatalf("covered %d of %d", prev, rows)
	}
}

func TestParse(t *testing.T) {
	good := []struct {
		in   string
		want Spec
	}{
		{"0/1", Spec{0, 1}}, {"3/64", Spec{3, 64}}, {" 63 / 64 ", Spec{63, 64}}, {"007/8", Spec{7, 8}},
		{"0/1000000", Spec{0, 1000000}},
	}
	for _, c := range good {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	bad := []struct{ in, want string }{
		{"", "INDEX/COUNT"},
		{"3", "INDEX/COUNT"},
		{"/64", "index is empty"},
		{"3/", "count is empty"},
		{"$(JOB_COMPLETION_INDEX)/64", "unexpanded variable"},
		{"${SLURM_ARRAY_TASK_ID}/64", "unexpanded variable"},
		{"-1/4", "not a non-negative"},
		{"+1/4", "not a non-negative"},
		{"1.5/4", "not a non-negative"},
		{"a/4", "not a non-negative"},
		{"1/b", "not a positive"},
		{"0/0", "between 1 and"},
		{"0/1000001", "between 1 and"},
		{"0/99999999999999999999", "not a positive"},
		{"4/4", "numbered from 1?"},
		{"5/4", "numbered from 0 to 3"},
		{"1/2/3", "not a positive"},
	}
	for _, c := range bad {
		_, err := Parse(c.in)
		if err == nil || !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v; want an ErrSpec containing %q", c.in, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0/1", "3/64", " 1 / 2", "/", "$(X)/3", "4/4", "-0/1", "999999999/1000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrSpec) {
				t.Fatalf("Parse(%q): error %v does not wrap ErrSpec", s, err)
			}
			return
		}
		if sp.Validate() != nil {
			t.Fatalf("Parse(%q) = %v, invalid", s, sp)
		}
		if again, err := Parse(sp.String()); err != nil || again != sp {
			t.Fatalf("Parse(%q) = %v does not round-trip: %v %v", s, sp, again, err)
		}
		lo, hi := sp.Range(1000)
		if lo < 0 || hi < lo || hi > 1000 {
			t.Fatalf("%v.Range(1000) = %d, %d", sp, lo, hi)
		}
	})
}

// header returns a valid header of shard i of n over rows rows.
func header(i, n, rows int) Header {
	lo, hi := Spec{i, n}.Range(rows)
	return Header{Command: "test", Build: "b1", Settings: map[string]string{"loss": "probe", "out-band": "3"},
		Input: "in.csv", InputSHA256: strings.Repeat("ab", 32), InputRows: rows, Shard: Spec{i, n}, Begin: lo, End: hi}
}

func record(row int) string { return fmt.Sprintf(`{"row":%d,"v":%g}`, row, float64(row)/7) }

// writeParts returns the plain output of rows records and its n parts.
func writeParts(t *testing.T, rows, n int) ([]byte, map[string][]byte) {
	t.Helper()
	var plain bytes.Buffer
	w := NewWriter(&plain)
	for r := 0; r < rows; r++ {
		if err := w.Write([]byte(record(r))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	parts := map[string][]byte{}
	for i := 0; i < n; i++ {
		var b bytes.Buffer
		h := header(i, n, rows)
		pw, err := NewPartWriter(&b, h)
		if err != nil {
			t.Fatal(err)
		}
		for r := h.Begin; r < h.End; r++ {
			if err := pw.Write([]byte(record(r))); err != nil {
				t.Fatal(err)
			}
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		parts[fmt.Sprintf("part-%d", i)] = b.Bytes()
	}
	return plain.Bytes(), parts
}

func sources(parts map[string][]byte, names ...string) []Source {
	var s []Source
	for _, n := range names {
		b := parts[n]
		s = append(s, Source{Name: n, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }})
	}
	return s
}

// TestMergeEqualsPlain merges parts in every rotation order, including
// splits with empty shards, and compares with the plain output.
func TestMergeEqualsPlain(t *testing.T) {
	for _, c := range []struct{ rows, n int }{{0, 1}, {1, 1}, {10, 3}, {3, 5}, {37, 8}} {
		plain, parts := writeParts(t, c.rows, c.n)
		rng := rand.New(rand.NewPCG(uint64(c.rows), uint64(c.n)))
		names := make([]string, c.n)
		for i := range names {
			names[i] = fmt.Sprintf("part-%d", i)
		}
		rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		var out bytes.Buffer
		if err := Merge(&out, sources(parts, names...)); err != nil {
			t.Fatalf("%d rows, %d shards: %v", c.rows, c.n, err)
		}
		if !bytes.Equal(out.Bytes(), plain) {
			t.Fatalf("%d rows, %d shards: merged output differs from the plain one:\n%s\nvs\n%s", c.rows, c.n, out.Bytes(), plain)
		}
	}
}

func TestMergeRefuses(t *testing.T) {
	_, parts := writeParts(t, 20, 4)
	other := func(mod func(*Header)) []byte {
		h := header(1, 4, 20)
		mod(&h)
		var b bytes.Buffer
		pw, err := NewPartWriter(&b, h)
		if err != nil {
			t.Fatal(err)
		}
		for r := h.Begin; r < h.End; r++ {
			pw.Write([]byte(record(r)))
		}
		pw.Close()
		return b.Bytes()
	}
	parts["foreign-input"] = other(func(h *Header) { h.InputSHA256 = strings.Repeat("cd", 32) })
	parts["foreign-settings"] = other(func(h *Header) { h.Settings = map[string]string{"loss": "probe", "out-band": "2"} })
	parts["foreign-extra"] = other(func(h *Header) { h.Settings = map[string]string{"loss": "probe", "out-band": "3", "tol": "1e-6"} })
	parts["foreign-command"] = other(func(h *Header) { h.Command = "eval" })
	parts["foreign-build"] = other(func(h *Header) { h.Build = "b2" })
	parts["foreign-count"] = func() []byte {
		h := header(1, 5, 20)
		var b bytes.Buffer
		pw, _ := NewPartWriter(&b, h)
		for r := h.Begin; r < h.End; r++ {
			pw.Write([]byte(record(r)))
		}
		pw.Close()
		return b.Bytes()
	}()
	p2 := parts["part-2"]
	parts["truncated"] = p2[:len(p2)-30]
	parts["no-trailer"] = p2[:bytes.LastIndexByte(p2[:len(p2)-1], '\n')+1]
	parts["edited"] = bytes.Replace(p2, []byte(`"row":11`), []byte(`"row":12`), 1)
	parts["garbage"] = []byte("hello\n")
	parts["empty"] = nil
	parts["extra"] = append(append([]byte(nil), p2...), "more\n"...)
	cases := []struct {
		names []string
		is    error
		want  string
	}{
		{nil, ErrMissing, "no parts"},
		{[]string{"part-0", "part-1", "part-3"}, ErrMissing, "shard 2 is missing"},
		{[]string{"part-3", "part-0"}, ErrMissing, "shards 1-2 are missing (run them with -shard 1/4"},
		{[]string{"part-0", "part-1", "part-1", "part-2", "part-3"}, ErrDuplicate, "both hold shard 1/4"},
		{[]string{"part-0", "foreign-input", "part-2", "part-3"}, ErrForeign, "SHA-256 cdcd"},
		{[]string{"part-0", "foreign-settings", "part-2", "part-3"}, ErrForeign, `out-band "2", not "3"`},
		{[]string{"part-0", "foreign-extra", "part-2", "part-3"}, ErrForeign, "setting tol present in only one"},
		{[]string{"part-0", "foreign-command", "part-2", "part-3"}, ErrForeign, `command "eval"`},
		{[]string{"part-0", "foreign-build", "part-2", "part-3"}, ErrForeign, `build "b2"`},
		{[]string{"part-0", "foreign-count"}, ErrForeign, "split into 5, not 4"},
		{[]string{"part-0", "part-1", "truncated", "part-3"}, ErrCorrupt, "truncated"},
		{[]string{"part-0", "part-1", "no-trailer", "part-3"}, ErrCorrupt, "trailer"},
		{[]string{"part-0", "part-1", "edited", "part-3"}, ErrCorrupt, "the file was changed"},
		{[]string{"part-0", "part-1", "extra", "part-3"}, ErrCorrupt, "after the trailer"},
		{[]string{"garbage"}, ErrPartFormat, "garbage"},
		{[]string{"empty"}, ErrPartFormat, "empty file"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		err := Merge(&out, sources(parts, c.names...))
		if err == nil || !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Merge(%v) = %v; want %v containing %q", c.names, err, c.is, c.want)
		}
	}
}

func TestWriterRefuses(t *testing.T) {
	var b bytes.Buffer
	h := header(0, 2, 5) // 3 records
	if _, err := NewPartWriter(&b, Header{}); err == nil {
		t.Error("an empty header was accepted")
	}
	bad := h
	bad.End++
	if _, err := NewPartWriter(&b, bad); err == nil || !strings.Contains(err.Error(), "are not shard 0/2") {
		t.Errorf("a header with a wrong block: %v", err)
	}
	pw, err := NewPartWriter(&b, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := pw.Write([]byte("a\nb")); err == nil {
		t.Error("a record with a newline was accepted")
	}
	pw, _ = NewPartWriter(&b, h)
	pw.Write([]byte("1"))
	if err := pw.Close(); err == nil {
		t.Error("a part with too few records was closed without error")
	}
	pw, _ = NewPartWriter(&b, h)
	for i := 0; i < 3; i++ {
		pw.Write([]byte("1"))
	}
	if err := pw.Write([]byte("1")); err == nil {
		t.Error("a fourth record was accepted in a part of three")
	}
}

func FuzzParseHeader(f *testing.F) {
	var b bytes.Buffer
	pw, _ := NewPartWriter(&b, header(2, 5, 17))
	pw.Write([]byte("x"))
	pw.Write([]byte("y"))
	pw.Write([]byte("z"))
	pw.Close()
	line, _, _ := bytes.Cut(b.Bytes(), []byte{'\n'})
	f.Add(line)
	f.Add([]byte(`{"format":"matapprox-part/1"}`))
	f.Add([]byte(`{"shard":"1/0"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, line []byte) {
		h, err := ParseHeader(line)
		if err != nil {
			if !errors.Is(err, ErrPartFormat) && !errors.Is(err, ErrSpec) {
				t.Fatalf("error %v wraps neither ErrPartFormat nor ErrSpec", err)
			}
			return
		}
		// A valid header writes a part that reads back the same header.
		var b bytes.Buffer
		pw, err := NewPartWriter(&b, h)
		if err != nil {
			t.Fatalf("accepted header %+v is not writable: %v", h, err)
		}
		if h.End-h.Begin > 1000 {
			return
		}
		for r := h.Begin; r < h.End; r++ {
			pw.Write([]byte("r"))
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		h2, err := ReadHeader(bytes.NewReader(b.Bytes()), "again")
		if err != nil || h2.Shard != h.Shard || h2.InputSHA256 != h.InputSHA256 || h2.Begin != h.Begin || len(h2.Settings) != len(h.Settings) {
			t.Fatalf("round trip: %+v vs %+v (%v)", h2, h, err)
		}
	})
}

// TestMergeData checks that trailer data travels with its part, comes back
// from MergeData in shard order whatever the order of the parts, leaves the
// merged records unchanged, and is refused on plain records.
func TestMergeData(t *testing.T) {
	plain, _ := writeParts(t, 10, 3)
	parts := map[string][]byte{}
	for i := 0; i < 3; i++ {
		var b bytes.Buffer
		h := header(i, 3, 10)
		pw, _ := NewPartWriter(&b, h)
		for r := h.Begin; r < h.End; r++ {
			pw.Write([]byte(record(r)))
		}
		if i != 1 { // part 1 carries no data
			if err := pw.SetData(json.RawMessage(fmt.Sprintf("{\n \"shard\": %d}", i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		parts[fmt.Sprintf("part-%d", i)] = b.Bytes()
	}
	var out bytes.Buffer
	data, err := MergeData(&out, sources(parts, "part-2", "part-0", "part-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), plain) {
		t.Errorf("merged records differ from the plain ones")
	}
	want := []string{`{"shard":0}`, ``, `{"shard":2}`}
	for i, d := range data {
		if string(d) != want[i] {
			t.Errorf("data of shard %d: %s, want %s", i, d, want[i])
		}
	}
	var pw bytes.Buffer
	h := header(0, 1, 0)
	w, _ := NewPartWriter(&pw, h)
	if err := w.SetData(json.RawMessage(`{not json`)); err == nil {
		t.Error("SetData accepted invalid JSON")
	}
	if err := NewWriter(&pw).SetData(json.RawMessage(`1`)); err == nil {
		t.Error("SetData accepted on plain records")
	}
}
