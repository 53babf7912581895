package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// f32le returns the little-endian bytes of float32 values.
func f32le(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// file assembles a safetensors file from a header string and data bytes,
// without padding, so tests control every byte.
func file(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// TestEncodeReference checks Encode against the byte vectors of the
// reference implementation's own tests (safetensors/src/tensor.rs:
// test_serialization, test_serialization_forced_alignement, test_empty).
func TestEncodeReference(t *testing.T) {
	six := []float64{0, 1, 2, 3, 4, 5}
	tests := []struct {
		name string
		ts   []Tensor
		meta map[string]string
		want []byte
	}{
		{
			name: "attn.0",
			ts:   []Tensor{{Name: "attn.0", DType: "F32", Shape: []int{1, 2, 3}, Data: six}},
			want: append([]byte{
				64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
				116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
				58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
				101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125},
				f32le(0, 1, 2, 3, 4, 5)...),
		},
		{
			name: "forced alignment",
			ts:   []Tensor{{Name: "attn0", DType: "F32", Shape: []int{1, 1, 2, 3}, Data: six}},
			want: append([]byte{
				72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
				121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
				91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
				115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
				32, 32},
				f32le(0, 1, 2, 3, 4, 5)...),
		},
		{
			name: "empty",
			want: []byte{8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32},
		},
		{
			name: "empty with metadata",
			meta: map[string]string{"framework": "pt"},
			want: []byte{
				40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
				95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
				116, 34, 125, 125, 32, 32, 32, 32, 32},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, tc.ts, tc.meta); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), tc.want) {
				t.Errorf("Encode:\n got %q\nwant %q", buf.Bytes(), tc.want)
			}
			ts, meta, err := Decode(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if len(ts) != len(tc.ts) || len(meta) != len(tc.meta) {
				t.Fatalf("Decode: %d tensors, %d metadata, want %d, %d", len(ts), len(meta), len(tc.ts), len(tc.meta))
			}
			for i := range ts {
				if !reflect.DeepEqual(ts[i], tc.ts[i]) {
					t.Errorf("Decode tensor %d = %+v, want %+v", i, ts[i], tc.ts[i])
				}
			}
			for k, v := range tc.meta {
				if meta[k] != v {
					t.Errorf("metadata %q = %q, want %q", k, meta[k], v)
				}
			}
		})
	}
}

// TestEncodeLayout checks the ordering rules on a mixed file: F64 tensors
// before F32 ones (descending alignment), names sorted within a dtype,
// metadata first with sorted keys, serde_json string escaping, offsets
// contiguous and the data section 8-byte aligned.
func TestEncodeLayout(t *testing.T) {
	ts := []Tensor{
		{Name: "b", DType: "F32", Shape: []int{2}, Data: []float64{1, 2}},
		{Name: "z", DType: "F64", Shape: []int{}, Data: []float64{3}},
		{Name: "a", DType: "F32", Shape: []int{1}, Data: []float64{4}},
		{Name: "c\"<\n\x01é", DType: "F64", Shape: []int{0, 3}, Data: nil},
	}
	meta := map[string]string{"z": "1", "a": "2"}
	var buf bytes.Buffer
	if err := Encode(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	n := binary.LittleEndian.Uint64(b)
	header := string(b[8 : 8+n])
	want := `{"__metadata__":{"a":"2","z":"1"},` +
		`"c\"<\n\u0001é":{"dtype":"F64","shape":[0,3],"data_offsets":[0,0]},` +
		`"z":{"dtype":"F64","shape":[],"data_offsets":[0,8]},` +
		`"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},` +
		`"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}`
	if strings.TrimRight(header, " ") != want {
		t.Errorf("header\n got %s\nwant %s", header, want)
	}
	if n%8 != 0 || len(header)-len(want) >= 8 {
		t.Errorf("header length %d for %d bytes of JSON: want the next multiple of 8", n, len(want))
	}
	if got := len(b) - 8 - int(n); got != 20 {
		t.Errorf("data section has %d bytes, want 20", got)
	}
	var again bytes.Buffer
	if err := Encode(&again, []Tensor{ts[3], ts[1], ts[0], ts[2]}, meta); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), b) {
		t.Error("output depends on the order of the tensors")
	}
}

// TestDecodeHalf decodes a hand-assembled file with F16 and BF16 tensors.
func TestDecodeHalf(t *testing.T) {
	f16 := []uint16{0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x3555, 0x8000, 0x0400}
	f16want := []float64{1, -2, 65504, 0x1p-24, math.Inf(1), 0x1.554p-2, math.Copysign(0, -1), 0x1p-14}
	bf16 := []uint16{0x3f80, 0x4049, 0xc2f7, 0xff80}
	bf16want := []float64{1, 3.140625, -123.5, math.Inf(-1)}
	var data []byte
	for _, h := range append(f16, bf16...) {
		data = binary.LittleEndian.AppendUint16(data, h)
	}
	header := `{"h":{"dtype":"F16","shape":[2,4],"data_offsets":[0,16]},` +
		`"bf":{"dtype":"BF16","shape":[4],"data_offsets":[16,24]}}`
	ts, meta, err := Decode(file(header, data))
	if err != nil {
		t.Fatal(err)
	}
	if meta != nil {
		t.Errorf("metadata = %v, want nil", meta)
	}
	want := []Tensor{
		{Name: "bf", DType: "BF16", Shape: []int{4}, Data: bf16want},
		{Name: "h", DType: "F16", Shape: []int{2, 4}, Data: f16want},
	}
	if !reflect.DeepEqual(ts, want) {
		t.Errorf("Decode = %+v\nwant %+v", ts, want)
	}
	if math.Signbit(ts[1].Data[6]) != true {
		t.Error("F16 0x8000 did not decode to -0")
	}
}

// TestHalfToFloat compares halfToFloat with the textbook formula on all
// 65536 bit patterns.
func TestHalfToFloat(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		s, e, f := h>>15, (h>>10)&31, h&1023
		var want float64
		switch {
		case e == 31 && f != 0:
			want = math.NaN()
		case e == 31:
			want = math.Inf(1)
		case e == 0:
			want = float64(f) / 1024 * math.Pow(2, -14)
		default:
			want = (1 + float64(f)/1024) * math.Pow(2, float64(e-15))
		}
		if s == 1 {
			want = -want
		}
		got := halfToFloat(uint16(h))
		if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("halfToFloat(%#04x) = %v, want %v", h, got, want)
		}
	}
}

// TestRoundTrip encodes random tensors and decodes them back.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 50; trial++ {
		var ts []Tensor
		for i := range rng.IntN(5) {
			shape := make([]int, rng.IntN(4))
			n := 1
			for j := range shape {
				shape[j] = rng.IntN(4)
				n *= shape[j]
			}
			dtype := []string{"F32", "F64"}[rng.IntN(2)]
			data := make([]float64, n)
			for j := range data {
				data[j] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(20)-10))
				if dtype == "F32" {
					data[j] = float64(float32(data[j]))
				}
			}
			ts = append(ts, Tensor{Name: string(rune('a'+i)) + "/w", DType: dtype, Shape: shape, Data: data})
		}
		meta := map[string]string{"trial": string(rune('0' + trial%10)), "ünï": "\x00\"\\"}
		var buf bytes.Buffer
		if err := Encode(&buf, ts, meta); err != nil {
			t.Fatal(err)
		}
		got, gotMeta, err := Decode(buf.Bytes())
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if !reflect.DeepEqual(gotMeta, meta) {
			t.Errorf("trial %d: metadata %v, want %v", trial, gotMeta, meta)
		}
		if len(got) != len(ts) {
			t.Fatalf("trial %d: %d tensors, want %d", trial, len(got), len(ts))
		}
		for i := range ts {
			g, w := got[i], ts[i]
			if g.Name != w.Name || g.DType != w.DType || !reflect.DeepEqual(g.Shape, w.Shape) || len(g.Data) != len(w.Data) {
				t.Fatalf("trial %d: tensor %d = %+v, want %+v", trial, i, g, w)
			}
			for j := range w.Data {
				if g.Data[j] != w.Data[j] {
					t.Fatalf("trial %d: %s[%d] = %v, want %v", trial, w.Name, j, g.Data[j], w.Data[j])
				}
			}
		}
		var again bytes.Buffer
		if err := Encode(&again, got, gotMeta); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Bytes(), buf.Bytes()) {
			t.Fatalf("trial %d: re-encoding changed the bytes", trial)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		ts   []Tensor
		meta map[string]string
		want string
	}{
		{"reserved name", []Tensor{{Name: "__metadata__", DType: "F64", Data: []float64{1}}}, nil, "invalid tensor name"},
		{"duplicate", []Tensor{{Name: "a", DType: "F64", Data: []float64{1}}, {Name: "a", DType: "F32", Data: []float64{1}}}, nil, "duplicate"},
		{"dtype", []Tensor{{Name: "a", DType: "F16", Data: []float64{1}}}, nil, "want F64 or F32"},
		{"length", []Tensor{{Name: "a", DType: "F64", Shape: []int{2}, Data: []float64{1}}}, nil, "has 2 elements but Data has 1"},
		{"negative", []Tensor{{Name: "a", DType: "F64", Shape: []int{-1}}}, nil, "negative dimension"},
		{"overflow", []Tensor{{Name: "a", DType: "F32", Data: []float64{1e39}}}, nil, "overflows float32"},
		{"metadata utf8", nil, map[string]string{"k": "\xff"}, "UTF-8"},
	}
	for _, tc := range tests {
		err := Encode(io.Discard, tc.ts, tc.meta)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	d8 := make([]byte, 8)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "at least 8"},
		{"header beyond file", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), "exceeds the 2 bytes"},
		{"header too large", binary.LittleEndian.AppendUint64(nil, 1<<62), "exceeds the limit"},
		{"bad json", file(`{"a":`, nil), "header"},
		{"not object", file(`[]`, nil), "start with '{'"},
		{"trailing garbage", file(good+"x", d8), "after the JSON object"},
		{"invalid utf8", file("{\"\xff\":1}", nil), "UTF-8"},
		{"duplicate", file(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[],"data_offsets":[4,8]}}`, d8), "duplicate key"},
		{"unknown dtype", file(`{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,8]}}`, d8), "unknown dtype"},
		{"unsupported dtype", file(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, d8), "unsupported dtype I64"},
		{"shape mismatch", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, d8), "needs 12"},
		{"negative dim", file(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, d8), "negative dimension"},
		{"fractional dim", file(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}`, d8), "shape"},
		{"huge dims", file(`{"a":{"dtype":"F64","shape":[4294967296,4294967296,4],"data_offsets":[0,8]}}`, d8), "more than"},
		{"huge dim", file(`{"a":{"dtype":"F64","shape":[1000000000000],"data_offsets":[0,8]}}`, d8), "needs 8000000000000"},
		{"dim beyond int64", file(`{"a":{"dtype":"F64","shape":[99999999999999999999],"data_offsets":[0,8]}}`, d8), "shape"},
		{"out of range", file(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, d8), "beyond the 8-byte data section"},
		{"reversed", file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, d8), "end before they begin"},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, d8), "gap"},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, d8), "overlapping"},
		{"trailing data", file(good, make([]byte, 12)), "trailing bytes"},
		{"offsets count", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}`, d8), "want [begin, end]"},
		{"negative offset", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,8]}}`, d8), "data_offsets"},
		{"missing field", file(`{"a":{"dtype":"F32","shape":[2]}}`, d8), "missing data_offsets"},
		{"null shape", file(`{"a":{"dtype":"F32","shape":null,"data_offsets":[0,8]}}`, d8), "missing shape"},
		{"unknown field", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"Dtype":"F64"}}`, d8), "unknown field"},
		{"entry not object", file(`{"a":3}`, nil), "want an object"},
		{"metadata not strings", file(`{"__metadata__":{"k":1}}`, nil), "strings to strings"},
	}
	for _, tc := range tests {
		_, _, err := Decode(tc.data)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %v does not wrap ErrFormat", tc.name, err)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q, want one containing %q", tc.name, err, tc.want)
		}
	}
	// The same well-formed header decodes, so the cases above fail for the
	// stated reason.
	if _, _, err := Decode(file(good, d8)); err != nil {
		t.Errorf("good file: %v", err)
	}
	if _, _, err := Decode(file(good+" \n\t", d8)); err != nil {
		t.Errorf("good file with whitespace padding: %v", err)
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	ts := []Tensor{{Name: "w", DType: "F64", Shape: []int{2, 2}, Data: []float64{1, 2, 3, 4}}}
	if err := WriteFile(path, ts, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ts) || meta["format"] != "pt" {
		t.Errorf("ReadFile = %+v, %v", got, meta)
	}
	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(bad, []byte("not a tensor file"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = ReadFile(bad)
	if err == nil || !strings.Contains(err.Error(), bad) || !errors.Is(err, ErrFormat) {
		t.Errorf("ReadFile(bad) error %v: want one naming the file and wrapping ErrFormat", err)
	}
	if _, _, err := ReadFile(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("ReadFile(missing) error %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	Encode(&buf, []Tensor{
		{Name: "w", DType: "F32", Shape: []int{2, 3}, Data: []float64{1, 2, 3, 4, 5, 6}},
		{Name: "b", DType: "F64", Shape: []int{3}, Data: []float64{-1, 0, 1}},
	}, map[string]string{"k": "v"})
	f.Add(buf.Bytes())
	f.Add([]byte{8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32})
	f.Add(file(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"g":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}`, make([]byte, 6)))
	f.Add(file(`{"a":{"dtype":"F32","shape":[1000000000,1000000000],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, make([]byte, 4)))
	// Issue 16: a tensor named "" decoded but did not re-encode.
	f.Add(file(`{"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, meta, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		total := 0
		for _, x := range ts {
			total += len(x.Data)
		}
		if 2*total > len(data) {
			t.Fatalf("%d elements decoded from %d bytes", total, len(data))
		}
		// Anything decoded re-encodes (as F64) and decodes to the same values.
		for i := range ts {
			ts[i].DType = "F64"
		}
		var buf bytes.Buffer
		if err := Encode(&buf, ts, meta); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, _, err := Decode(buf.Bytes())
		if err != nil {
			t.Fatalf("decode re-encoded: %v", err)
		}
		for i := range ts {
			for j, v := range ts[i].Data {
				if w := again[i].Data[j]; math.Float64bits(v) != math.Float64bits(w) && !(math.IsNaN(v) && math.IsNaN(w)) {
					t.Fatalf("%s[%d]: %v became %v", ts[i].Name, j, v, w)
				}
			}
		}
	})
}

// TestEmptyName checks that a tensor named "" is handled the same way by
// Decode and Encode: it round-trips (a first version decoded it but refused
// to encode it).
func TestEmptyName(t *testing.T) {
	ts, _, err := Decode(file(`{"":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 8)))
	if err != nil || len(ts) != 1 || ts[0].Name != "" {
		t.Fatalf("decode: %v %v", ts, err)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, ts, nil); err != nil {
		t.Fatalf("re-encode: %v", err)
	}
	again, _, err := Decode(buf.Bytes())
	if err != nil || len(again) != 1 || again[0].Name != "" {
		t.Fatalf("decode again: %v %v", again, err)
	}
}
