package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// maxNPYHeader bounds the header length read from a file, so that a corrupt
// length field cannot make the reader allocate gigabytes. NumPy itself
// refuses headers over 10000 bytes by default.
const maxNPYHeader = 1 << 20

// npyHeader is the parsed header of a .npy file holding a C-order float
// array of shape (rows, dim), or (dim,) read as one row.
type npyHeader struct {
	order    binary.ByteOrder
	itemsize int // 4 or 8
	rows     int
	dim      int
}

// readNPYHeader reads the magic string, version, header length and header
// dictionary from r.
func readNPYHeader(r io.Reader, name string) (npyHeader, error) {
	var h npyHeader
	fail := func(format string, args ...any) (npyHeader, error) {
		return h, fmt.Errorf("%s: "+format+": %w", append(append([]any{name}, args...), ErrFormat)...)
	}
	var pre [8]byte
	if n, err := io.ReadFull(r, pre[:]); err != nil {
		if n == 0 && err == io.EOF {
			return fail("empty file: not a .npy file")
		}
		return fail("file too short (%d bytes) for a .npy file", n)
	}
	if string(pre[:6]) != npyMagic {
		return fail("not a .npy file: missing the \\x93NUMPY magic string (was it written with np.save?)")
	}
	major, minor := pre[6], pre[7]
	var hlen int
	switch {
	case major == 1 && minor == 0:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return fail("truncated header length")
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case (major == 2 || major == 3) && minor == 0:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return fail("truncated header length")
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
	default:
		return fail("unsupported .npy format version %d.%d: want 1.0, 2.0 or 3.0", major, minor)
	}
	if hlen > maxNPYHeader {
		return fail("header length %d exceeds %d bytes", hlen, maxNPYHeader)
	}
	text := make([]byte, hlen)
	if _, err := io.ReadFull(r, text); err != nil {
		return fail("file ends inside the %d-byte header", hlen)
	}
	d, err := parsePyDict(text)
	if err != nil {
		return fail("malformed header %q: %v", text, err)
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if _, ok := d[k]; !ok {
			return fail("header lacks the %q key", k)
		}
	}
	if len(d) != 3 {
		for k := range d {
			if k != "descr" && k != "fortran_order" && k != "shape" {
				return fail("unexpected header key %q: want only descr, fortran_order and shape", k)
			}
		}
	}
	descr, ok := d["descr"].(string)
	if !ok {
		return fail("descr is %v, want a dtype string such as '<f8'", d["descr"])
	}
	switch descr {
	case "<f8", "<f4":
		h.order = binary.LittleEndian
	case ">f8", ">f4":
		h.order = binary.BigEndian
	default:
		return fail("unsupported dtype %q: want float64 '<f8' or float32 '<f4'; convert with np.save(path, x.astype('<f8'))", descr)
	}
	h.itemsize = int(descr[2] - '0')
	fortran, ok := d["fortran_order"].(bool)
	if !ok {
		return fail("fortran_order is %v, want True or False", d["fortran_order"])
	}
	if fortran {
		return fail("array is in Fortran (column-major) order: save it with np.save(path, np.ascontiguousarray(x))")
	}
	shape, ok := d["shape"].([]int)
	if !ok {
		return fail("shape is %v, want a tuple of integers", d["shape"])
	}
	switch len(shape) {
	case 1:
		h.rows, h.dim = 1, shape[0]
	case 2:
		h.rows, h.dim = shape[0], shape[1]
	default:
		return fail("array has shape %v: want (rows, dim) or (dim,)", shape)
	}
	if h.dim < 1 {
		return fail("array has shape %v: rows must have at least one value", shape)
	}
	if h.dim > MaxRowBytes/h.itemsize {
		return fail("array shape %v: rows of %d values (%d bytes) exceed the limit of %d bytes per row", shape, h.dim, h.dim*h.itemsize, MaxRowBytes)
	}
	if h.rows > math.MaxInt/h.dim/h.itemsize {
		return fail("array shape %v is too large", shape)
	}
	return h, nil
}

// growthDigits is NumPy's GROWTH_AXIS_MAX_DIGITS: numpy.save pads the
// header with 21 − len(str(rows)) spaces so that the row count can later be
// rewritten in place. The header length therefore does not depend on rows.
const growthDigits = 21

// appendNPYHeader appends a version 1.0 header for a C-order little-endian
// float64 array of shape (rows, dim), byte-for-byte as numpy.save (NumPy ≥
// 1.24) writes it: the dictionary with sorted keys, growth padding, then
// spaces and a newline so that the data starts at a multiple of 64 bytes.
func appendNPYHeader(b []byte, rows, dim int) []byte {
	r := strconv.Itoa(rows)
	dict := "{'descr': '<f8', 'fortran_order': False, 'shape': (" + r + ", " + strconv.Itoa(dim) + "), }" +
		strings.Repeat(" ", max(0, growthDigits-len(r)))
	hlen := len(dict) + 1
	pad := 64 - (len(npyMagic)+2+2+hlen)%64 // NumPy pads a full 64 when already aligned
	b = append(b, npyMagic...)
	b = append(b, 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(hlen+pad))
	b = append(b, dict...)
	b = append(b, strings.Repeat(" ", pad)...)
	return append(b, '\n')
}

// parsePyDict parses the Python literal of a .npy header: a dict with
// string keys whose values are strings, True/False or tuples of
// non-negative integers. Values come back as string, bool and []int.
func parsePyDict(s []byte) (map[string]any, error) {
	p := &pyParser{s: s}
	p.skip()
	if !p.eat('{') {
		return nil, p.errorf("want '{'")
	}
	d := make(map[string]any)
	for {
		p.skip()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if _, dup := d[key]; dup {
			return nil, p.errorf("duplicate key %q", key)
		}
		p.skip()
		if !p.eat(':') {
			return nil, p.errorf("want ':' after key %q", key)
		}
		p.skip()
		if d[key], err = p.value(); err != nil {
			return nil, err
		}
		p.skip()
		if p.eat('}') {
			break
		}
		if !p.eat(',') {
			return nil, p.errorf("want ',' or '}'")
		}
	}
	p.skip()
	if p.i != len(p.s) {
		return nil, p.errorf("unexpected text after the dictionary")
	}
	return d, nil
}

type pyParser struct {
	s []byte
	i int
}

func (p *pyParser) errorf(format string, args ...any) error {
	return fmt.Errorf("byte %d: "+format, append([]any{p.i}, args...)...)
}

func (p *pyParser) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *pyParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str parses a quoted string without escapes (none occur in valid headers).
func (p *pyParser) str() (string, error) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", p.errorf("want a quoted string")
	}
	q := p.s[p.i]
	end := bytes.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", p.errorf("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	if bytes.IndexByte(v, '\\') >= 0 {
		return "", p.errorf("escape sequences are not supported")
	}
	p.i += end + 2
	return string(v), nil
}

func (p *pyParser) value() (any, error) {
	if p.i >= len(p.s) {
		return nil, p.errorf("missing value")
	}
	switch c := p.s[p.i]; {
	case c == '\'' || c == '"':
		return p.str()
	case c == '(':
		return p.tuple()
	case bytes.HasPrefix(p.s[p.i:], []byte("True")):
		p.i += 4
		return true, nil
	case bytes.HasPrefix(p.s[p.i:], []byte("False")):
		p.i += 5
		return false, nil
	}
	return nil, p.errorf("unsupported value (want a string, True, False or a tuple)")
}

// tuple parses (), (n,) or (n, m, ...) with an optional trailing comma;
// "(n)" is an integer in Python, not a tuple, and is rejected.
func (p *pyParser) tuple() ([]int, error) {
	p.i++ // '('
	t := []int{}
	commas := 0
	for {
		p.skip()
		if p.eat(')') {
			break
		}
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if p.i == start {
			return nil, p.errorf("want a non-negative integer in the tuple")
		}
		n, err := strconv.Atoi(string(p.s[start:p.i]))
		if err != nil {
			return nil, p.errorf("integer %s out of range", p.s[start:p.i])
		}
		p.eat('L') // Python 2 long suffix, as old NumPy wrote
		t = append(t, n)
		p.skip()
		if p.eat(')') {
			break
		}
		if !p.eat(',') {
			return nil, p.errorf("want ',' or ')' in the tuple")
		}
		commas++
	}
	if len(t) == 1 && commas == 0 {
		return nil, p.errorf("(%d) is an integer, not a tuple: write (%d,)", t[0], t[0])
	}
	return t, nil
}
