// Package tbevent writes TensorBoard scalar event files using only the
// standard library.
//
// An event file is a TFRecord stream: a sequence of records, each
//
//	uint64 length            little endian
//	uint32 masked CRC-32C of the 8 length bytes
//	[length]byte data
//	uint32 masked CRC-32C of the data
//
// where CRC-32C is the Castagnoli polynomial (hash/crc32.Castagnoli) and the
// mask is ((crc >> 15) | (crc << 17)) + 0xa282ead8 in uint32 arithmetic.
// The data of each record is a serialized tensorflow.Event protocol buffer
// (tensorflow/core/util/event.proto):
//
//	message Event {
//	  double wall_time = 1;     // seconds since the Unix epoch, fixed64
//	  int64 step = 2;           // varint
//	  oneof what {
//	    string file_version = 3; // "brain.Event:2" in the first record
//	    Summary summary = 5;
//	  }
//	}
//	message Summary { repeated Value value = 1; }
//	message Value { string tag = 1; float simple_value = 2; } // fixed32
//
// The encoding follows the protocol buffer wire format
// (https://protobuf.dev/programming-guides/encoding/). As the reference
// serializer does, wall_time and step are omitted when zero (proto3
// defaults), while file_version, summary and simple_value, members of oneofs
// and so with explicit presence, are always written. The record framing is TensorFlow's
// tensorflow/core/lib/io/record_writer.cc and the CRC mask
// tensorflow/core/lib/hash/crc32c.h.
//
// Files are named events.out.tfevents.<unix-seconds>.<hostname>, which
// TensorBoard discovers in a log directory (tensorboard --logdir DIR).
// An event file is an append-only log, not a file rewritten whole, so it is
// written in place; Flush makes everything written so far durable.
package tbevent

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FileVersion is the file_version of the first event of every file.
const FileVersion = "brain.Event:2"

// ErrClosed is returned by the methods of a Writer after Close.
var ErrClosed = errors.New("tbevent: writer closed")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MaskedCRC returns the masked CRC-32C of b used by TFRecord framing.
func MaskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

// AppendRecord appends to dst the TFRecord framing of data: length, masked
// CRC of the length, data, masked CRC of the data.
func AppendRecord(dst, data []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(data)))
	dst = binary.LittleEndian.AppendUint32(dst, MaskedCRC(dst[len(dst)-8:]))
	dst = append(dst, data...)
	return binary.LittleEndian.AppendUint32(dst, MaskedCRC(data))
}

// Protocol buffer wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

func appendTag(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field<<3|wire))
}

func appendBytesField(b []byte, field int, s string) []byte {
	b = appendTag(b, field, wireBytes)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// uvarintLen returns the number of bytes of the varint encoding of x.
func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// appendEventHeader appends wall_time and step (omitted when zero, as in
// proto3) to an Event message.
func appendEventHeader(b []byte, wall float64, step int64) []byte {
	if wall != 0 {
		b = appendTag(b, 1, wireFixed64)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(wall))
	}
	if step != 0 {
		b = appendTag(b, 2, wireVarint)
		b = binary.AppendUvarint(b, uint64(step)) // int64: two's complement, 10 bytes if negative
	}
	return b
}

// AppendFileVersionEvent appends the serialized Event{wall_time, step 0,
// file_version} that starts every event file.
func AppendFileVersionEvent(dst []byte, wall float64, version string) []byte {
	dst = appendEventHeader(dst, wall, 0)
	return appendBytesField(dst, 3, version)
}

// AppendScalarEvent appends the serialized Event{wall_time, step,
// summary{value{tag, simple_value}}}. The value is stored as a float32, as
// TensorBoard's simple_value is. It allocates only to grow dst.
func AppendScalarEvent(dst []byte, wall float64, step int64, tag string, value float64) []byte {
	// Value{tag = 1; simple_value = 2}: tag key, length, bytes; key, fixed32.
	valueLen := 1 + uvarintLen(uint64(len(tag))) + len(tag) + 1 + 4
	// Summary{value = 1}: key, length, Value.
	summaryLen := 1 + uvarintLen(uint64(valueLen)) + valueLen
	dst = appendEventHeader(dst, wall, step)
	dst = appendTag(dst, 5, wireBytes)
	dst = binary.AppendUvarint(dst, uint64(summaryLen))
	dst = appendTag(dst, 1, wireBytes)
	dst = binary.AppendUvarint(dst, uint64(valueLen))
	dst = appendBytesField(dst, 1, tag)
	// simple_value is a oneof member: written even when zero.
	dst = appendTag(dst, 2, wireFixed32)
	return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(value)))
}

// wallSeconds converts t to fractional seconds since the Unix epoch.
func wallSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

// FileName returns the event file name TensorBoard expects for a file created
// at t on host: events.out.tfevents.<unix-seconds>.<host>.
func FileName(t time.Time, host string) string {
	return fmt.Sprintf("events.out.tfevents.%010d.%s", t.Unix(), host)
}

// Writer appends scalar summaries to one event file. It is not safe for
// concurrent use.
type Writer struct {
	f    *os.File
	w    *bufio.Writer
	path string
	buf  []byte // scratch for the serialized event
	rec  []byte // scratch for the framed record
	err  error  // first write error, sticky
}

// NewWriter creates dir if needed and a new event file in it, and writes the
// file_version event. The file is named by FileName with the current time
// and host name; if that name is taken (two writers in the same second) a
// numeric suffix is appended, which TensorBoard accepts.
func NewWriter(dir string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tbevent: %w", err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	// Keep the name a single path element.
	host = strings.NewReplacer("/", "_", string(filepath.Separator), "_").Replace(host)
	now := time.Now()
	base := filepath.Join(dir, FileName(now, host))
	var f *os.File
	path := base
	for i := 1; ; i++ {
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || i > 1000 {
			return nil, fmt.Errorf("tbevent: %w", err)
		}
		path = fmt.Sprintf("%s.%d", base, i)
	}
	w := &Writer{f: f, w: bufio.NewWriter(f), path: path}
	w.buf = AppendFileVersionEvent(w.buf[:0], wallSeconds(now), FileVersion)
	if err := w.writeRecord(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return w, nil
}

// Path returns the path of the event file.
func (w *Writer) Path() string { return w.path }

func (w *Writer) writeRecord() error {
	if w.err != nil {
		return w.err
	}
	w.rec = AppendRecord(w.rec[:0], w.buf)
	if _, err := w.w.Write(w.rec); err != nil {
		w.err = fmt.Errorf("tbevent: write %s: %w", w.path, err)
	}
	return w.err
}

// Scalar appends the value of the scalar series tag at step, recorded at
// wall-clock time wall (time.Now() is a good choice; a zero time is stored
// as 0). The value is stored as a float32.
func (w *Writer) Scalar(tag string, step int64, value float64, wall time.Time) error {
	if w.f == nil {
		return ErrClosed
	}
	var ws float64
	if !wall.IsZero() {
		ws = wallSeconds(wall)
	}
	w.buf = AppendScalarEvent(w.buf[:0], ws, step, tag, value)
	return w.writeRecord()
}

// Flush writes buffered records to the file and syncs it to disk.
func (w *Writer) Flush() error {
	if w.f == nil {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := w.w.Flush(); err != nil {
		w.err = fmt.Errorf("tbevent: write %s: %w", w.path, err)
		return w.err
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("tbevent: sync %s: %w", w.path, err)
	}
	return nil
}

// Close flushes and closes the file. Calling Close again returns ErrClosed.
func (w *Writer) Close() error {
	if w.f == nil {
		return ErrClosed
	}
	err := w.Flush()
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("tbevent: close %s: %w", w.path, cerr)
	}
	w.f = nil
	return err
}
