package shard

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// Format identifies the part-file layout in Header.Format.
const Format = "matapprox-part/1"

// TrailerFormat identifies the trailer line in Trailer.Format.
const TrailerFormat = "matapprox-part-end/1"

// MaxHeader is the longest header or trailer line accepted, in bytes.
const MaxHeader = 1 << 20

// Errors that Merge and ReadPart wrap, for callers that handle them.
var (
	// ErrPartFormat: a file is not a well-formed part file.
	ErrPartFormat = errors.New("not a valid part file")
	// ErrMissing: a shard of the set has no part.
	ErrMissing = errors.New("missing part")
	// ErrDuplicate: two parts hold the same shard.
	ErrDuplicate = errors.New("duplicated part")
	// ErrForeign: a part comes from another command, input or settings.
	ErrForeign = errors.New("foreign part")
	// ErrCorrupt: a part's records do not match its header and trailer.
	ErrCorrupt = errors.New("corrupt part")
)

// MarshalText implements encoding.TextMarshaler ("Index/Count").
func (s Spec) MarshalText() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with Parse.
func (s *Spec) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Header is the first line of a part file. Two parts belong to one set when
// their Format, Command, Build, Settings, InputSHA256, InputRows and shard
// Count are equal; Input (the path, which differs between machines) is
// informational.
type Header struct {
	Format string `json:"format"`
	// Command is the subcommand that wrote the part, e.g. "optimal".
	Command string `json:"command"`
	// Build identifies the program that wrote the part (its version and
	// VCS revision, when known); parts of different builds do not merge.
	Build string `json:"build"`
	// Settings are every option that affects the records, as text.
	Settings map[string]string `json:"settings"`
	// Input is the input file as given on the command line.
	Input string `json:"input"`
	// InputSHA256 is the hex SHA-256 of the whole input file.
	InputSHA256 string `json:"input_sha256"`
	// InputRows is the number of rows of the whole input.
	InputRows int `json:"input_rows"`
	// Shard is the block this part holds: rows [Begin, End) of the input.
	Shard Spec `json:"shard"`
	Begin int  `json:"begin"`
	End   int  `json:"end"`
}

// Validate checks the header's consistency: the format, a command, a
// SHA-256, and a block equal to Shard.Range(InputRows).
func (h *Header) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf(format+": %w", append(args, ErrPartFormat)...)
	}
	switch {
	case h.Format != Format:
		return bad("format %q, want %q", h.Format, Format)
	case h.Command == "":
		return bad("no command")
	case !isSHA256(h.InputSHA256):
		return bad("input_sha256 %q is not a hex SHA-256", h.InputSHA256)
	case h.InputRows < 0:
		return bad("input_rows %d is negative", h.InputRows)
	}
	if err := h.Shard.Validate(); err != nil {
		return bad("%v", err)
	}
	if lo, hi := h.Shard.Range(h.InputRows); h.Begin != lo || h.End != hi {
		return bad("rows [%d, %d) are not shard %s of %d rows, which is [%d, %d)", h.Begin, h.End, h.Shard, h.InputRows, lo, hi)
	}
	return nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// Trailer is the last line of a part file.
type Trailer struct {
	Format string `json:"format"`
	// Records is the number of record lines.
	Records int `json:"records"`
	// SHA256 is the hex SHA-256 of the record lines, newlines included.
	SHA256 string `json:"sha256"`
	// Data is what the command computed over the part's records besides
	// them, as one JSON value (for eval, its summary accumulator), or
	// empty; it is not written by Merge, which returns it to the caller.
	Data json.RawMessage `json:"data,omitempty"`
}

// ParseHeader decodes and validates a header line (without its newline).
func ParseHeader(line []byte) (Header, error) {
	var h Header
	if err := decodeStrict(line, &h); err != nil {
		return Header{}, fmt.Errorf("header: %w", err)
	}
	if err := h.Validate(); err != nil {
		return Header{}, fmt.Errorf("header: %w", err)
	}
	return h, nil
}

func parseTrailer(line []byte) (Trailer, error) {
	var t Trailer
	if err := decodeStrict(line, &t); err != nil {
		return Trailer{}, err
	}
	if t.Format != TrailerFormat || t.Records < 0 || !isSHA256(t.SHA256) {
		return Trailer{}, fmt.Errorf("trailer %.200q is not a %s line: %w", line, TrailerFormat, ErrPartFormat)
	}
	return t, nil
}

func decodeStrict(line []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%.200q is not a part-file line (%v): %w", line, err, ErrPartFormat)
	}
	if dec.More() {
		return fmt.Errorf("%.200q: text after the JSON object: %w", line, ErrPartFormat)
	}
	return nil
}

// Writer writes records, one line each: either plainly (the output of an
// unsharded command) or as a part file with a header and a trailer. The
// record bytes are the same either way, so that merging parts reproduces
// the plain output. A Writer buffers; Close flushes it but does not close
// the underlying io.Writer.
type Writer struct {
	bw   *bufio.Writer
	part bool
	want int // records a part must hold
	n    int
	sum  hash.Hash
	data json.RawMessage
	err  error
}

// NewWriter returns a Writer of plain records.
func NewWriter(w io.Writer) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, 1<<16)}
}

// NewPartWriter validates h, writes it as the header line and returns a
// Writer of the part's h.End-h.Begin records.
func NewPartWriter(w io.Writer, h Header) (*Writer, error) {
	h.Format = Format
	if err := h.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(&h)
	if err != nil {
		return nil, err
	}
	pw := &Writer{bw: bufio.NewWriterSize(w, 1<<16), part: true, want: h.End - h.Begin, sum: sha256.New()}
	if _, err := pw.bw.Write(append(b, '\n')); err != nil {
		return nil, err
	}
	return pw, nil
}

// Write writes one record and a newline. A record must not contain a
// newline; a part accepts only as many records as its block has rows.
// Errors are sticky.
func (w *Writer) Write(record []byte) error {
	if w.err != nil {
		return w.err
	}
	if bytes.IndexByte(record, '\n') >= 0 {
		w.err = errors.New("shard: a record must not contain a newline")
		return w.err
	}
	if w.part && w.n == w.want {
		w.err = fmt.Errorf("shard: the part holds %d records; cannot write another", w.want)
		return w.err
	}
	if _, err := w.bw.Write(record); err != nil {
		w.err = err
		return err
	}
	if err := w.bw.WriteByte('\n'); err != nil {
		w.err = err
		return err
	}
	if w.part {
		w.sum.Write(record)
		w.sum.Write([]byte{'\n'})
	}
	w.n++
	return nil
}

// SetData sets the Data of a part's trailer, written by Close: one JSON
// value, compacted to one line. It is an error on a Writer of plain
// records, which has no trailer.
func (w *Writer) SetData(v json.RawMessage) error {
	if !w.part {
		return errors.New("shard: plain records have no trailer to carry data")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return fmt.Errorf("shard: trailer data: %w", err)
	}
	w.data = buf.Bytes()
	return nil
}

// Close writes a part's trailer (an error if fewer records were written
// than its block has rows) and flushes.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.part {
		if w.n != w.want {
			w.err = fmt.Errorf("shard: the part holds %d records but %d were written", w.want, w.n)
			return w.err
		}
		b, err := json.Marshal(Trailer{Format: TrailerFormat, Records: w.n, SHA256: hex.EncodeToString(w.sum.Sum(nil)), Data: w.data})
		if err != nil {
			w.err = err
			return err
		}
		if len(b) > MaxHeader {
			w.err = fmt.Errorf("shard: trailer of %d bytes is longer than %d", len(b), MaxHeader)
			return w.err
		}
		if _, err := w.bw.Write(append(b, '\n')); err != nil {
			w.err = err
			return err
		}
	}
	if err := w.bw.Flush(); err != nil {
		w.err = err
		return err
	}
	w.err = errors.New("shard: Writer is closed")
	return nil
}

// readLine returns the next line without its newline; a final line must
// end in a newline too (part files are written whole). max bounds its
// length.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > max {
			return nil, fmt.Errorf("line longer than %d bytes: %w", max, ErrPartFormat)
		}
		switch err {
		case nil:
			return line[:len(line)-1], nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(line) == 0 {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("the last line has no newline (truncated file?): %w", ErrCorrupt)
		default:
			return nil, err
		}
	}
}

// ReadHeader reads the header line of a part file; name prefixes errors.
func ReadHeader(r io.Reader, name string) (Header, error) {
	line, err := readLine(bufio.NewReader(r), MaxHeader)
	if err == io.EOF {
		return Header{}, fmt.Errorf("%s: empty file: %w", name, ErrPartFormat)
	}
	if err != nil {
		return Header{}, fmt.Errorf("%s: %w", name, err)
	}
	h, err := ParseHeader(line)
	if err != nil {
		return Header{}, fmt.Errorf("%s: %w", name, err)
	}
	return h, nil
}

// Source is one part given to Merge: a name for messages and a way to open
// it (twice: once for its header, once for its records).
type Source struct {
	Name string
	Open func() (io.ReadCloser, error)
}

// Merge checks that parts form one complete set (see Header) and writes
// their records in shard order to dst: the bytes the unsharded command
// writes. It refuses, before writing anything, a malformed part
// (ErrPartFormat), a foreign one (ErrForeign), two parts of one shard
// (ErrDuplicate) and an incomplete set (ErrMissing), naming the parts and
// shards; a body that does not match its header and trailer (ErrCorrupt) is
// found while copying, so dst must be discarded on error.
func Merge(dst io.Writer, parts []Source) error {
	_, err := MergeData(dst, parts)
	return err
}

// MergeData is Merge that also returns the trailer Data of every part, in
// shard order (nil entries for parts without data).
func MergeData(dst io.Writer, parts []Source) ([]json.RawMessage, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("merge: no parts given: %w", ErrMissing)
	}
	heads := make([]Header, len(parts))
	for i, p := range parts {
		rc, err := p.Open()
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		heads[i], err = ReadHeader(rc, p.Name)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
	}
	ref := heads[0]
	byIndex := make([]int, ref.Shard.Count)
	for i := range byIndex {
		byIndex[i] = -1
	}
	for i, h := range heads {
		if why := foreign(&ref, &h); why != "" {
			return nil, fmt.Errorf("merge: %s is not part of the set of %s: %s: %w", parts[i].Name, parts[0].Name, why, ErrForeign)
		}
		if j := byIndex[h.Shard.Index]; j >= 0 {
			return nil, fmt.Errorf("merge: %s and %s both hold shard %s: give each shard once: %w", parts[j].Name, parts[i].Name, h.Shard, ErrDuplicate)
		}
		byIndex[h.Shard.Index] = i
	}
	var missing []int
	for idx, j := range byIndex {
		if j < 0 {
			missing = append(missing, idx)
		}
	}
	if len(missing) > 0 {
		which := "shards " + ranges(missing) + " are"
		if len(missing) == 1 {
			which = fmt.Sprintf("shard %d is", missing[0])
		}
		return nil, fmt.Errorf("merge: %d of %d shards have no part: %s missing (run them with -shard %d/%d …): %w",
			len(missing), ref.Shard.Count, which, missing[0], ref.Shard.Count, ErrMissing)
	}
	data := make([]json.RawMessage, len(byIndex))
	for i, j := range byIndex {
		t, err := copyBody(dst, parts[j], heads[j])
		if err != nil {
			return nil, fmt.Errorf("merge: %s: %w", parts[j].Name, err)
		}
		data[i] = t.Data
	}
	return data, nil
}

// foreign returns why h does not belong with ref, or "".
func foreign(ref, h *Header) string {
	short := func(s string) string { return s[:min(len(s), 12)] + "…" }
	switch {
	case h.Command != ref.Command:
		return fmt.Sprintf("command %q, not %q", h.Command, ref.Command)
	case h.Build != ref.Build:
		return fmt.Sprintf("written by build %q, not %q", h.Build, ref.Build)
	case h.InputSHA256 != ref.InputSHA256:
		return fmt.Sprintf("input %s has SHA-256 %s, not %s (%s)", h.Input, short(h.InputSHA256), short(ref.InputSHA256), ref.Input)
	case h.InputRows != ref.InputRows:
		return fmt.Sprintf("input of %d rows, not %d", h.InputRows, ref.InputRows)
	case h.Shard.Count != ref.Shard.Count:
		return fmt.Sprintf("shard %s of a split into %d, not %d", h.Shard, h.Shard.Count, ref.Shard.Count)
	}
	keys := slices.Sorted(maps.Keys(h.Settings))
	for k := range ref.Settings {
		if _, ok := h.Settings[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var diffs []string
	for _, k := range slices.Compact(keys) {
		a, inA := h.Settings[k]
		b, inB := ref.Settings[k]
		switch {
		case inA && inB && a != b:
			diffs = append(diffs, fmt.Sprintf("%s %q, not %q", k, a, b))
		case inA != inB:
			diffs = append(diffs, fmt.Sprintf("setting %s present in only one", k))
		}
	}
	if len(diffs) > 0 {
		return "different settings: " + strings.Join(diffs, "; ")
	}
	return ""
}

// ranges formats sorted integers as "1, 3-5, 9".
func ranges(v []int) string {
	var parts []string
	for i := 0; i < len(v); {
		j := i
		for j+1 < len(v) && v[j+1] == v[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", v[i], v[j]))
		} else {
			parts = append(parts, fmt.Sprint(v[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// copyBody copies the records of one part to dst, checking their count and
// checksum against the header and trailer.
func copyBody(dst io.Writer, p Source, h Header) (Trailer, error) {
	rc, err := p.Open()
	if err != nil {
		return Trailer{}, err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 1<<16)
	if _, err := readLine(br, MaxHeader); err != nil {
		return Trailer{}, err
	}
	sum := sha256.New()
	out := io.MultiWriter(dst, sum)
	want := h.End - h.Begin
	for i := 0; i < want; i++ {
		line, err := br.ReadSlice('\n')
		for err == bufio.ErrBufferFull {
			if _, werr := out.Write(line); werr != nil {
				return Trailer{}, werr
			}
			line, err = br.ReadSlice('\n')
		}
		if err == io.EOF {
			return Trailer{}, fmt.Errorf("the file ends after %d of its %d records (truncated): %w", i, want, ErrCorrupt)
		}
		if err != nil {
			return Trailer{}, err
		}
		if _, err := out.Write(line); err != nil {
			return Trailer{}, err
		}
	}
	line, err := readLine(br, MaxHeader)
	if err == io.EOF {
		return Trailer{}, fmt.Errorf("no trailer after its %d records (truncated): %w", want, ErrCorrupt)
	}
	if err != nil {
		return Trailer{}, err
	}
	t, err := parseTrailer(line)
	if err != nil {
		return Trailer{}, fmt.Errorf("after its %d records: %w: %w", want, err, ErrCorrupt)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); t.Records != want || t.SHA256 != got {
		return Trailer{}, fmt.Errorf("the records do not match the trailer (%d records, SHA-256 %s…; trailer says %d, %s…): the file was changed: %w",
			want, got[:12], t.Records, t.SHA256[:12], ErrCorrupt)
	}
	if _, err := readLine(br, MaxHeader); err != io.EOF {
		return Trailer{}, fmt.Errorf("data after the trailer: %w", ErrCorrupt)
	}
	return t, nil
}

// FileSource returns the Source of the part file at path.
func FileSource(path string) Source {
	return Source{Name: path, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}
