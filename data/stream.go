package data

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Formats lists the file formats of Reader, Writer, ReadFile and WriteFile.
var Formats = []string{"csv", "npy"}

// maxLine bounds the length of one CSV line so that reading a corrupt file
// (say, a binary file without newlines) uses bounded memory.
const maxLine = 64 << 20

// MaxRowBytes bounds the size of one row of a .npy file (its header's
// shape), so that a header claiming rows of 10¹⁴ values is refused before
// anything is allocated. It allows generators of 8 million float64 values.
const MaxRowBytes = 64 << 20

// Reader reads a data file one row at a time in memory proportional to one
// row, validating as it goes: every value must be a finite number and every
// row must have the same length. Errors wrap ErrFormat and locate the
// problem as file:line:column (CSV) or by row and column (.npy), counting
// from 1.
//
// CSV files hold one row per line, values separated by commas. Blank lines
// and text from '#' to the end of a line are ignored, and spaces and tabs
// around values, a final line without newline, CRLF line ends and a UTF-8
// byte order mark are tolerated. Values are parsed by strconv.ParseFloat.
//
// .npy files must hold a C-order float64 or float32 array (either byte
// order) of shape (rows, dim), or (dim,) for a single row; format versions
// 1.0, 2.0 and 3.0 are read.
type Reader struct {
	name string
	npy  bool
	dim  int
	rows int // total rows (.npy) or -1 (CSV)
	n    int // rows returned so far
	err  error

	// CSV
	br    *bufio.Reader
	line  int       // number of the last line read
	buf   []byte    // accumulates lines longer than the bufio buffer
	first []float64 // the first row, read by NewReader to learn Dim
	held  bool      // first has not been returned yet

	// .npy
	r    io.Reader
	h    npyHeader
	data []byte // one row of raw data
}

// NewReader returns a Reader for r in format "csv" or "npy"; name (usually
// the path) prefixes error messages. It reads the .npy header, or the first
// data row of a CSV file, so that Dim is known. A file without data rows is
// not an error here: Dim is then 0 for CSV, and Next returns io.EOF.
func NewReader(r io.Reader, name, format string) (*Reader, error) {
	switch format {
	case "csv":
		rd := &Reader{name: name, rows: -1, br: bufio.NewReaderSize(r, 1<<16)}
		err := rd.csvRow(nil)
		switch {
		case err == io.EOF:
			rd.err = io.EOF
		case err != nil:
			return nil, err
		default:
			rd.dim, rd.held = len(rd.first), true
		}
		return rd, nil
	case "npy":
		br := bufio.NewReaderSize(r, 1<<16)
		h, err := readNPYHeader(br, name)
		if err != nil {
			return nil, err
		}
		return &Reader{name: name, npy: true, dim: h.dim, rows: h.rows, r: br, h: h, data: make([]byte, h.dim*h.itemsize)}, nil
	}
	return nil, fmt.Errorf("%s: unknown data format %q: want csv or npy", name, format)
}

// Dim returns the number of values per row (0 for a CSV file without rows).
func (r *Reader) Dim() int { return r.dim }

// Rows returns the number of rows a .npy file declares, or -1 for CSV,
// whose length is known only at the end.
func (r *Reader) Rows() int { return r.rows }

// Next reads the next row into dst and returns nil, or io.EOF after the last
// row, or an error wrapping ErrFormat. Errors are sticky: once Next fails it
// returns the same error again. It panics if len(dst) != Dim().
func (r *Reader) Next(dst []float64) error {
	if r.err != nil {
		return r.err
	}
	if len(dst) != r.dim {
		panic(fmt.Sprintf("data: Reader.Next: row buffer of length %d, want Dim = %d", len(dst), r.dim))
	}
	var err error
	switch {
	case r.held:
		copy(dst, r.first)
		r.held = false
	case r.npy:
		err = r.npyRow(dst)
	default:
		err = r.csvRow(dst)
	}
	if err != nil {
		r.err = err
		return err
	}
	r.n++
	return nil
}

// npyRow decodes the next row of a .npy file into dst.
func (r *Reader) npyRow(dst []float64) error {
	if r.n == r.rows {
		// The declared array is complete; anything more is corruption.
		var b [1]byte
		if k, _ := io.ReadFull(r.r, b[:]); k > 0 {
			return fmt.Errorf("%s: data continues after the %d×%d array the header declares: %w", r.name, r.rows, r.dim, ErrFormat)
		}
		return io.EOF
	}
	if k, err := io.ReadFull(r.r, r.data); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("%s: truncated: the file ends in row %d of %d (%d of %d bytes of that row present): %w", r.name, r.n+1, r.rows, k, len(r.data), ErrFormat)
		}
		return fmt.Errorf("%s: %w", r.name, err)
	}
	for j := range dst {
		var v float64
		if r.h.itemsize == 8 {
			v = math.Float64frombits(r.h.order.Uint64(r.data[8*j:]))
		} else {
			v = float64(math.Float32frombits(r.h.order.Uint32(r.data[4*j:])))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: row %d, column %d: value %v is not finite: replace it with a finite number: %w", r.name, r.n+1, j+1, v, ErrFormat)
		}
		dst[j] = v
	}
	return nil
}

// readLine returns the next line without its line end, or io.EOF.
func (r *Reader) readLine() ([]byte, error) {
	r.buf = r.buf[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(r.buf)+len(chunk) > maxLine {
				return nil, fmt.Errorf("%s:%d: line longer than %d bytes: is this a CSV file? %w", r.name, r.line+1, maxLine, ErrFormat)
			}
			r.buf = append(r.buf, chunk...)
			continue
		}
		if len(r.buf) > 0 {
			r.buf = append(r.buf, chunk...)
			chunk = r.buf
		}
		if err != nil && (err != io.EOF || len(chunk) == 0) {
			if err != io.EOF {
				err = fmt.Errorf("%s:%d: %w", r.name, r.line+1, err)
			}
			return nil, err
		}
		r.line++
		chunk = bytes.TrimSuffix(chunk, []byte{'\n'})
		chunk = bytes.TrimSuffix(chunk, []byte{'\r'})
		if r.line == 1 {
			chunk = bytes.TrimPrefix(chunk, []byte("\xef\xbb\xbf"))
		}
		return chunk, nil
	}
}

// csvRow parses the next data line into dst, or, if dst is nil, into
// r.first, taking its length as the row length.
func (r *Reader) csvRow(dst []float64) error {
	for {
		line, err := r.readLine()
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if len(bytes.Trim(line, " \t")) == 0 {
			continue
		}
		return r.parseCSVLine(line, dst)
	}
}

// parseCSVLine parses the comma-separated values of one line.
func (r *Reader) parseCSVLine(line []byte, dst []float64) error {
	fail := func(col int, format string, args ...any) error {
		return fmt.Errorf("%s:%d:%d: "+format+": %w", append(append([]any{r.name, r.line, col}, args...), ErrFormat)...)
	}
	n := 0
	pos := 0 // byte offset of the current field in line
	for {
		end := bytes.IndexByte(line[pos:], ',')
		if end < 0 {
			end = len(line)
		} else {
			end += pos
		}
		field := line[pos:end]
		lead := len(field) - len(bytes.TrimLeft(field, " \t"))
		field = bytes.Trim(field, " \t")
		col := pos + lead + 1
		if len(field) == 0 {
			return fail(col, "empty value: remove the extra comma or write a number")
		}
		v, err := strconv.ParseFloat(string(field), 64)
		if err != nil {
			var ne *strconv.NumError
			if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
				return fail(col, "%q is out of the float64 range", field)
			}
			return fail(col, "%q is not a number: write decimal numbers such as 0.5, -3 or 1e-4 separated by commas", field)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fail(col, "%q is not finite: every value must be a finite number", field)
		}
		if dst == nil {
			r.first = append(r.first, v)
		} else {
			if n == len(dst) {
				return fail(col, "line has more than %d values but the first data row has %d: every row must have the same number of values", n, len(dst))
			}
			dst[n] = v
		}
		n++
		if end == len(line) {
			break
		}
		pos = end + 1
	}
	if dst != nil && n != len(dst) {
		return fail(len(line)+1, "line has %d values but the first data row has %d: every row must have the same number of values", n, len(dst))
	}
	return nil
}

// Writer writes a data file one row at a time. Create one with NewWriter
// (CSV) or NewNPYWriter (.npy, whose header states the row count); call
// Close at the end to flush it. Writer buffers its output and does not
// close the underlying io.Writer.
type Writer struct {
	bw   *bufio.Writer
	npy  bool
	dim  int
	rows int // declared rows (.npy), or -1 (CSV, or .npy with rows unknown)
	n    int
	buf  []byte
	err  error

	seeker io.WriteSeeker // rewrites the .npy header at Close when rows was unknown
}

// NewWriter returns a Writer of rows of dim values in format "csv". For
// .npy, whose header needs the number of rows before the data, use
// NewNPYWriter.
func NewWriter(w io.Writer, format string, dim int) (*Writer, error) {
	switch format {
	case "csv":
	case "npy":
		return nil, errors.New("data: a .npy writer needs the row count up front: use NewNPYWriter")
	default:
		return nil, fmt.Errorf("data: unknown data format %q: want csv or npy", format)
	}
	if dim < 1 {
		return nil, fmt.Errorf("data: row length %d: must be at least 1", dim)
	}
	return &Writer{bw: bufio.NewWriterSize(w, 1<<16), dim: dim, rows: -1}, nil
}

// NewNPYWriter returns a Writer of a .npy file (format 1.0, little-endian
// float64, shape (rows, dim), byte-for-byte as numpy.save writes it) and
// writes its header. Exactly rows rows must then be written before Close.
//
// If the row count is not known in advance, pass rows < 0 and an
// io.WriteSeeker positioned at the start of the file (such as an *os.File):
// Close then seeks back and rewrites the header with the number of rows
// written. This works because NumPy's header layout reserves room for a row
// count of up to 21 digits, so the header length does not change.
func NewNPYWriter(w io.Writer, rows, dim int) (*Writer, error) {
	if dim < 1 || rows > math.MaxInt/8/dim {
		return nil, fmt.Errorf("data: invalid .npy shape (%d, %d)", rows, dim)
	}
	wr := &Writer{bw: bufio.NewWriterSize(w, 1<<16), npy: true, dim: dim, rows: rows}
	if rows < 0 {
		ws, ok := w.(io.WriteSeeker)
		if !ok {
			return nil, errors.New("data: a .npy writer with an unknown row count needs an io.WriteSeeker")
		}
		wr.seeker, wr.rows = ws, -1
		rows = 0
	}
	if _, err := wr.bw.Write(appendNPYHeader(nil, rows, dim)); err != nil {
		return nil, err
	}
	return wr, nil
}

// Write appends one row. It returns an error if len(row) differs from the
// row length, if a value is not finite (it could not be read back), if a
// .npy file already has its declared rows, or if writing fails; errors are
// sticky.
func (w *Writer) Write(row []float64) error {
	if w.err != nil {
		return w.err
	}
	if len(row) != w.dim {
		return fmt.Errorf("data: row %d has %d values, want %d", w.n+1, len(row), w.dim)
	}
	if w.npy && w.n == w.rows && w.seeker == nil {
		w.err = fmt.Errorf("data: .npy file declared %d rows: cannot write row %d", w.rows, w.n+1)
		return w.err
	}
	w.buf = w.buf[:0]
	for j, v := range row {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("data: row %d, column %d: value %v is not finite", w.n+1, j+1, v)
		}
		if w.npy {
			w.buf = append(w.buf, 0, 0, 0, 0, 0, 0, 0, 0)
			putFloat64(w.buf[len(w.buf)-8:], v)
			continue
		}
		if j > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = strconv.AppendFloat(w.buf, v, 'g', -1, 64)
	}
	if !w.npy {
		w.buf = append(w.buf, '\n')
	}
	if _, err := w.bw.Write(w.buf); err != nil {
		w.err = err
		return err
	}
	w.n++
	return nil
}

func putFloat64(b []byte, v float64) {
	u := math.Float64bits(v)
	for i := range 8 {
		b[i] = byte(u >> (8 * i))
	}
}

// Close flushes the buffered output. For .npy it returns an error if fewer
// rows were written than declared (the file is then truncated), or, for an
// unknown row count, rewrites the header with the count of rows written.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = err
		return err
	}
	switch {
	case w.seeker != nil:
		if _, err := w.seeker.Seek(0, io.SeekStart); err != nil {
			w.err = err
			return err
		}
		if _, err := w.seeker.Write(appendNPYHeader(nil, w.n, w.dim)); err != nil {
			w.err = err
			return err
		}
		if _, err := w.seeker.Seek(0, io.SeekEnd); err != nil {
			w.err = err
			return err
		}
	case w.npy && w.n != w.rows:
		w.err = fmt.Errorf("data: .npy file declared %d rows but %d were written", w.rows, w.n)
		return w.err
	}
	w.err = errors.New("data: Writer is closed")
	return nil
}
