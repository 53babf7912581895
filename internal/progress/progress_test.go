package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// clock is a fake time source advanced by the test.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Unix(1e9, 0)} }

func TestLines(t *testing.T) {
	var b bytes.Buffer
	c := newClock()
	r := NewMode(&b, Lines, c.now)
	p := r.Start("targets", 1000, "matrices")
	c.advance(time.Second)
	p.Add(100)
	if b.Len() != 0 {
		t.Fatalf("a line before LineInterval: %q", b.String())
	}
	c.advance(4 * time.Second)
	p.Add(150) // 250 in 5 s: 50/s, 750 left: 15 s
	want := "targets  25% 250/1000 matrices, 50 matrices/s, ETA 0:15\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
	c.advance(5 * time.Second)
	p.Set(1000)
	p.Finish()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || lines[2] != "targets: 1000 matrices in 0:10 (100 matrices/s)" {
		t.Errorf("lines %q", lines)
	}
	// A short phase prints nothing.
	b.Reset()
	p = r.Start("data", 10, "rows")
	p.Add(10)
	p.Finish()
	if b.Len() != 0 {
		t.Errorf("short phase printed %q", b.String())
	}
}

func TestLive(t *testing.T) {
	var b bytes.Buffer
	c := newClock()
	r := NewMode(&b, Live, c.now)
	p := r.Start("epoch 1/3", 200, "rows")
	c.advance(time.Second)
	p.Add(100)
	got := b.String()
	if !strings.HasPrefix(got, "\repoch 1/3 [============            ]  50% 100/200 rows, 100 rows/s, ETA 1.0s") {
		t.Fatalf("live bar %q", got)
	}
	c.advance(10 * time.Millisecond)
	p.Add(1) // too soon to redraw
	if b.String() != got {
		t.Errorf("redrawn within LiveRefresh")
	}
	p.Finish()
	if !strings.HasSuffix(b.String(), "\r"+strings.Repeat(" ", r0(got))+"\r") {
		t.Errorf("not cleared: %q", b.String())
	}
	// Unknown totals show a count and a rate.
	b.Reset()
	p = r.Start("approx", 0, "rows")
	c.advance(2 * time.Second)
	p.Add(5000)
	if !strings.Contains(b.String(), "approx 5000 rows, 2.5k rows/s") || strings.Contains(b.String(), "ETA") {
		t.Errorf("unknown total: %q", b.String())
	}
}

func r0(s string) int { return len(strings.TrimPrefix(s, "\r")) }

func TestOffAndNil(t *testing.T) {
	var b bytes.Buffer
	r := New(&b, true)
	p := r.Start("x", 10, "rows")
	p.Add(5)
	p.Finish()
	var nilR *Reporter
	nilR.Start("x", 1, "rows").Add(1)
	nilR.Clear()
	if b.Len() != 0 {
		t.Errorf("quiet printed %q", b.String())
	}
	if New(&b, false).mode != Lines {
		t.Error("a buffer is not a terminal: want Lines")
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		400 * time.Millisecond: "0.4s", 75 * time.Second: "1:15", 3725 * time.Second: "1:02:05",
	} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %q, want %q", d, got, want)
		}
	}
}
