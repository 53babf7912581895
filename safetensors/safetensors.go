// Package safetensors reads and writes the Hugging Face safetensors format,
// the tensor file format of PyTorch's safetensors library.
//
// A file is laid out as
//
//	[8 bytes]  n, the header length, unsigned 64-bit little-endian
//	[n bytes]  a UTF-8 JSON object (the header), padded with spaces
//	[rest]     the data section: raw little-endian, C-order tensor data
//
// The header maps each tensor name to
//
//	{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
//
// where begin and end are byte offsets relative to the data section, plus an
// optional "__metadata__" entry mapping strings to strings. The tensors'
// byte ranges must tile the data section exactly: sorted by offset, each
// begins where the previous ends, the first at 0, the last at the end of the
// file, and end-begin equals the product of the shape times the dtype's
// size.
//
// Encode writes exactly the bytes the reference implementation
// (https://github.com/huggingface/safetensors, safetensors/src/tensor.rs)
// writes: tensors sorted by descending dtype alignment and then by name
// (hence by name when all tensors share a dtype), compact JSON with keys in
// the order "__metadata__" (metadata keys sorted), then the tensors, each
// with fields dtype, shape, data_offsets, and the header padded with spaces
// to a multiple of 8 bytes so that the data section is 8-byte aligned.
//
// Decode accepts F64, F32, F16 and BF16 tensors, converting every value to
// float64 exactly, and rejects malformed input with an error wrapping
// ErrFormat. It never allocates more than a small multiple of the input
// size, whatever the header claims.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/matapprox/matapprox/internal/atomicfile"
)

// ErrFormat is wrapped by every error Decode and ReadFile return for input
// that is not a valid safetensors file with supported dtypes.
var ErrFormat = errors.New("invalid safetensors data")

// MaxHeaderSize is the largest header accepted, as in the reference
// implementation (100 MB).
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key holding the string metadata.
const metadataKey = "__metadata__"

// Tensor is a named tensor. Data holds the values in C (row-major) order as
// float64 whatever the stored dtype; len(Data) is the product of Shape (1
// for a scalar with empty Shape).
type Tensor struct {
	Name  string
	DType string // "F64", "F32", "F16" or "BF16"; Encode writes F64 or F32
	Shape []int
	Data  []float64
}

// dtypeInfo gives the element size and the reference implementation's
// alignment rank (the position in its Dtype enum, which is sorted by
// alignment) of each floating-point dtype.
var dtypeInfo = map[string]struct{ size, rank int }{
	"F16":  {2, 7},
	"BF16": {2, 8},
	"F32":  {4, 11},
	"F64":  {8, 12},
}

// otherDtypes are valid safetensors dtypes that this package does not
// convert to float64.
var otherDtypes = map[string]bool{
	"BOOL": true, "U8": true, "I8": true, "F8_E5M2": true, "F8_E4M3": true,
	"I16": true, "U16": true, "I32": true, "U32": true, "I64": true, "U64": true,
}

// numElements returns the product of shape, or an error if a dimension is
// negative or the product exceeds limit.
func numElements(shape []int, limit int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %v", d, shape)
		}
	}
	if slices.Contains(shape, 0) {
		return 0, nil
	}
	for _, d := range shape {
		if n > limit/d {
			return 0, fmt.Errorf("shape %v has more than %d elements", shape, limit)
		}
		n *= d
	}
	return n, nil
}

// Encode writes ts and the optional metadata meta (nil or empty for none)
// to w in safetensors format. Each tensor's DType must be "F64" or "F32";
// names must be distinct, valid UTF-8 and not "__metadata__" (the empty
// name is allowed, as Decode allows it, so that whatever Decode returns
// re-encodes);
// len(Data) must equal the product of Shape. Values too large for float32
// are an error for F32 tensors (NaN and infinities are stored as such).
// The output depends only on the arguments (see the package documentation
// for the byte layout).
func Encode(w io.Writer, ts []Tensor, meta map[string]string) error {
	order := make([]int, len(ts))
	seen := make(map[string]bool, len(ts))
	for i, t := range ts {
		order[i] = i
		if t.Name == metadataKey || !utf8.ValidString(t.Name) {
			return fmt.Errorf("safetensors: encode: invalid tensor name %q", t.Name)
		}
		if seen[t.Name] {
			return fmt.Errorf("safetensors: encode: duplicate tensor name %q", t.Name)
		}
		seen[t.Name] = true
		if t.DType != "F64" && t.DType != "F32" {
			return fmt.Errorf("safetensors: encode: tensor %q: dtype %q: want F64 or F32", t.Name, t.DType)
		}
		n, err := numElements(t.Shape, math.MaxInt/8)
		if err != nil {
			return fmt.Errorf("safetensors: encode: tensor %q: %v", t.Name, err)
		}
		if n != len(t.Data) {
			return fmt.Errorf("safetensors: encode: tensor %q: shape %v has %d elements but Data has %d", t.Name, t.Shape, n, len(t.Data))
		}
		if t.DType == "F32" {
			for j, v := range t.Data {
				if !math.IsInf(v, 0) && math.IsInf(float64(float32(v)), 0) {
					return fmt.Errorf("safetensors: encode: tensor %q: element %d = %v overflows float32", t.Name, j, v)
				}
			}
		}
	}
	for k, v := range meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("safetensors: encode: metadata %q: %q is not valid UTF-8", k, v)
		}
	}
	slices.SortFunc(order, func(i, j int) int {
		a, b := ts[i], ts[j]
		if ra, rb := dtypeInfo[a.DType].rank, dtypeInfo[b.DType].rank; ra != rb {
			return rb - ra // descending alignment
		}
		return bytes.Compare([]byte(a.Name), []byte(b.Name))
	})

	var h bytes.Buffer
	h.WriteByte('{')
	if len(meta) > 0 {
		writeString(&h, metadataKey)
		h.WriteString(":{")
		keys := make([]string, 0, len(meta))
		for k := range meta {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			writeString(&h, k)
			h.WriteByte(':')
			writeString(&h, meta[k])
		}
		h.WriteByte('}')
	}
	offset := 0
	for i, idx := range order {
		t := ts[idx]
		if i > 0 || len(meta) > 0 {
			h.WriteByte(',')
		}
		writeString(&h, t.Name)
		h.WriteString(`:{"dtype":`)
		writeString(&h, t.DType)
		h.WriteString(`,"shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		end := offset + len(t.Data)*dtypeInfo[t.DType].size
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, offset, end)
		offset = end
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}

	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(h.Len()))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return fmt.Errorf("safetensors: encode: %w", err)
	}
	if _, err := w.Write(h.Bytes()); err != nil {
		return fmt.Errorf("safetensors: encode: %w", err)
	}
	buf := make([]byte, 0, 1<<14)
	for _, idx := range order {
		t := ts[idx]
		for _, v := range t.Data {
			if t.DType == "F64" {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
			} else {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(v)))
			}
			if len(buf) > cap(buf)-8 {
				if _, err := w.Write(buf); err != nil {
					return fmt.Errorf("safetensors: encode: %w", err)
				}
				buf = buf[:0]
			}
		}
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("safetensors: encode: %w", err)
	}
	return nil
}

// writeString writes s as a JSON string escaped as serde_json escapes it:
// quote and backslash, control characters as \b \t \n \f \r or \u00xx, and
// nothing else.
func writeString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\f':
			b.WriteString(`\f`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// entry is a tensor's header record.
type entry struct {
	name       string
	dtype      string
	shape      []int
	begin, end uint64
}

// formatErr returns an error wrapping ErrFormat.
func formatErr(format string, args ...any) error {
	return fmt.Errorf("safetensors: "+format+": %w", append(args, ErrFormat)...)
}

// Decode parses a complete safetensors file held in data and returns its
// tensors sorted by name, with values converted to float64, and its
// metadata (nil if the header has none). Every error wraps ErrFormat.
func Decode(data []byte) ([]Tensor, map[string]string, error) {
	if len(data) < 8 {
		return nil, nil, formatErr("file has %d bytes, want at least 8 for the header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderSize {
		return nil, nil, formatErr("header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return nil, nil, formatErr("header length %d exceeds the %d bytes after the length field", n, len(data)-8)
	}
	header, body := data[8:8+n], data[8+n:]
	entries, meta, err := parseHeader(header)
	if err != nil {
		return nil, nil, err
	}

	slices.SortFunc(entries, func(a, b entry) int {
		if a.begin != b.begin {
			return cmpU64(a.begin, b.begin)
		}
		if a.end != b.end {
			return cmpU64(a.end, b.end)
		}
		return bytes.Compare([]byte(a.name), []byte(b.name))
	})
	size := uint64(len(body))
	var pos uint64
	for _, e := range entries {
		switch {
		case e.end < e.begin:
			return nil, nil, formatErr("tensor %q: data_offsets [%d, %d] end before they begin", e.name, e.begin, e.end)
		case e.end > size:
			return nil, nil, formatErr("tensor %q: data_offsets [%d, %d] extend beyond the %d-byte data section", e.name, e.begin, e.end, size)
		case e.begin > pos:
			return nil, nil, formatErr("tensor %q begins at byte %d but the previous tensor ends at %d: gap in the data section", e.name, e.begin, pos)
		case e.begin < pos:
			return nil, nil, formatErr("tensor %q begins at byte %d but the previous tensor ends at %d: overlapping data", e.name, e.begin, pos)
		}
		pos = e.end
		esize := dtypeInfo[e.dtype].size
		count, err := numElements(e.shape, math.MaxInt/esize)
		if err != nil {
			return nil, nil, formatErr("tensor %q: %v", e.name, err)
		}
		if uint64(count*esize) != e.end-e.begin {
			return nil, nil, formatErr("tensor %q: data_offsets [%d, %d] span %d bytes but %s shape %v needs %d", e.name, e.begin, e.end, e.end-e.begin, e.dtype, e.shape, count*esize)
		}
	}
	if pos != size {
		return nil, nil, formatErr("tensors cover %d bytes but the data section has %d: trailing bytes", pos, size)
	}

	slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare([]byte(a.name), []byte(b.name)) })
	ts := make([]Tensor, len(entries))
	for i, e := range entries {
		ts[i] = Tensor{Name: e.name, DType: e.dtype, Shape: e.shape, Data: convert(e.dtype, body[e.begin:e.end])}
	}
	return ts, meta, nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parseHeader parses the JSON header, rejecting duplicate and unknown keys,
// unsupported dtypes and malformed shapes and offsets.
func parseHeader(header []byte) ([]entry, map[string]string, error) {
	if !utf8.Valid(header) {
		return nil, nil, formatErr("header is not valid UTF-8")
	}
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, formatErr("header does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	if _, err := dec.Token(); err != nil {
		return nil, nil, formatErr("header: %v", err)
	}
	var (
		entries []entry
		meta    map[string]string
		seen    = make(map[string]bool)
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, formatErr("header: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, nil, formatErr("header: unexpected %v", tok)
		}
		if seen[name] {
			return nil, nil, formatErr("header: duplicate key %q", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, formatErr("header: value of %q: %v", name, err)
		}
		if name == metadataKey {
			if err := json.Unmarshal(raw, &meta); err != nil {
				return nil, nil, formatErr("header: __metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		e, err := parseEntry(name, raw)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, formatErr("header: %v", err)
	}
	for _, c := range header[dec.InputOffset():] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return nil, nil, formatErr("header: unexpected %q after the JSON object", c)
		}
	}
	return entries, meta, nil
}

// parseEntry parses one tensor record.
func parseEntry(name string, raw json.RawMessage) (entry, error) {
	e := entry{name: name}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return e, formatErr("tensor %q: want an object with dtype, shape and data_offsets, got %.40s", name, raw)
	}
	for k := range fields {
		if k != "dtype" && k != "shape" && k != "data_offsets" {
			return e, formatErr("tensor %q: unknown field %q", name, k)
		}
	}
	get := func(field string, dst any) error {
		v, ok := fields[field]
		if !ok || string(v) == "null" {
			return formatErr("tensor %q: missing %s", name, field)
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return formatErr("tensor %q: %s: %v", name, field, err)
		}
		return nil
	}
	var shape []int64
	var offsets []uint64
	if err := get("dtype", &e.dtype); err != nil {
		return e, err
	}
	if err := get("shape", &shape); err != nil {
		return e, err
	}
	if err := get("data_offsets", &offsets); err != nil {
		return e, err
	}
	if _, ok := dtypeInfo[e.dtype]; !ok {
		if otherDtypes[e.dtype] {
			return e, formatErr("tensor %q: unsupported dtype %s: want F64, F32, F16 or BF16", name, e.dtype)
		}
		return e, formatErr("tensor %q: unknown dtype %q", name, e.dtype)
	}
	e.shape = make([]int, len(shape))
	for i, d := range shape {
		if d < 0 {
			return e, formatErr("tensor %q: negative dimension %d in shape %v", name, d, shape)
		}
		if d > math.MaxInt {
			return e, formatErr("tensor %q: dimension %d too large", name, d)
		}
		e.shape[i] = int(d)
	}
	if len(offsets) != 2 {
		return e, formatErr("tensor %q: data_offsets has %d entries, want [begin, end]", name, len(offsets))
	}
	e.begin, e.end = offsets[0], offsets[1]
	return e, nil
}

// convert decodes little-endian values of dtype from b.
func convert(dtype string, b []byte) []float64 {
	size := dtypeInfo[dtype].size
	out := make([]float64, len(b)/size)
	for i := range out {
		p := b[i*size:]
		switch dtype {
		case "F64":
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(p))
		case "F32":
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(p)))
		case "BF16":
			out[i] = float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(p)) << 16))
		case "F16":
			out[i] = halfToFloat(binary.LittleEndian.Uint16(p))
		}
	}
	return out
}

// halfToFloat converts an IEEE 754 binary16 value to float64 exactly.
func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0: // zero or subnormal: frac·2⁻²⁴
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1024+frac, exp-25)
}

// ReadFile reads and decodes the safetensors file at path. Errors name the
// file.
func ReadFile(path string) ([]Tensor, map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	ts, meta, err := Decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return ts, meta, nil
}

// WriteFile encodes ts and meta to path atomically (see internal/atomicfile):
// readers see the old file or the complete new one.
func WriteFile(path string, ts []Tensor, meta map[string]string) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		return Encode(w, ts, meta)
	})
}
