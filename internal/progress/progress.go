// Package progress reports how far a long phase of work has got (data
// generation, exact solves, an epoch, an evaluation), with its rate and the
// estimated time left: a bar redrawn in place on a terminal, or, when the
// output is a file or a pipe, one line every few seconds, so that logs show
// that a long phase is alive without filling up.
//
// A nil *Reporter or *Phase does nothing, so code can report progress
// unconditionally and let the caller decide whether it is shown.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Mode is how a Reporter shows progress.
type Mode int

const (
	// Off shows nothing.
	Off Mode = iota
	// Live redraws one line in place (at most every LiveRefresh).
	Live
	// Lines writes a line every LineInterval while a phase runs.
	Lines
)

// LiveRefresh is the shortest time between two redraws of a live bar.
const LiveRefresh = 100 * time.Millisecond

// LineInterval is the time between two progress lines in Lines mode; a
// phase shorter than this prints nothing.
const LineInterval = 5 * time.Second

// Reporter shows the progress of one phase at a time on a writer.
type Reporter struct {
	w     io.Writer
	mode  Mode
	now   func() time.Time
	shown int // length of the live line on screen, 0 if none
}

// New returns a Reporter on w: Off when quiet, Live when w is a terminal,
// Lines otherwise.
func New(w io.Writer, quiet bool) *Reporter {
	mode := Lines
	if quiet {
		mode = Off
	} else if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			mode = Live
		}
	}
	return NewMode(w, mode, time.Now)
}

// NewMode returns a Reporter with the given mode and clock.
func NewMode(w io.Writer, mode Mode, now func() time.Time) *Reporter {
	return &Reporter{w: w, mode: mode, now: now}
}

// Phase is one long piece of work of a known (or, when 0, unknown) total
// size.
type Phase struct {
	r           *Reporter
	name, unit  string
	total, done int
	start, last time.Time
	printed     bool
}

// Start begins a phase named name of total units (0 if unknown); unit
// names them in the plural ("rows", "matrices").
func (r *Reporter) Start(name string, total int, unit string) *Phase {
	if r == nil || r.mode == Off {
		return nil
	}
	t := r.now()
	return &Phase{r: r, name: name, unit: unit, total: total, start: t, last: t}
}

// Add records n more units done.
func (p *Phase) Add(n int) {
	if p == nil {
		return
	}
	p.Set(p.done + n)
}

// Set records that done units are done.
func (p *Phase) Set(done int) {
	if p == nil {
		return
	}
	p.done = done
	now := p.r.now()
	switch p.r.mode {
	case Live:
		if now.Sub(p.last) < LiveRefresh && done < p.total {
			return
		}
		p.last = now
		p.r.draw(p.line(now, true))
	case Lines:
		if now.Sub(p.last) < LineInterval {
			return
		}
		p.last = now
		p.printed = true
		fmt.Fprintln(p.r.w, p.line(now, false))
	}
}

// Finish ends the phase: a live bar is cleared; in Lines mode a phase that
// printed a line prints a last one with its total time.
func (p *Phase) Finish() {
	if p == nil {
		return
	}
	switch p.r.mode {
	case Live:
		p.r.Clear()
	case Lines:
		if p.printed {
			el := p.r.now().Sub(p.start)
			fmt.Fprintf(p.r.w, "%s: %d %s in %s (%s)\n", p.name, p.done, p.unit, duration(el), rate(p.done, el, p.unit))
		}
	}
}

// Clear removes a live bar from the screen, before other output.
func (r *Reporter) Clear() {
	if r == nil || r.shown == 0 {
		return
	}
	fmt.Fprintf(r.w, "\r%s\r", strings.Repeat(" ", r.shown))
	r.shown = 0
}

func (r *Reporter) draw(s string) {
	pad := ""
	if n := r.shown - len(s); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(r.w, "\r%s%s", s, pad)
	r.shown = len(s)
}

// line formats the phase: name, bar (live), percentage, count, rate, ETA.
func (p *Phase) line(now time.Time, bar bool) string {
	el := now.Sub(p.start)
	var b strings.Builder
	b.WriteString(p.name)
	if p.total > 0 {
		frac := min(float64(p.done)/float64(p.total), 1)
		if bar {
			const width = 24
			k := int(frac * width)
			fmt.Fprintf(&b, " [%s%s]", strings.Repeat("=", k), strings.Repeat(" ", width-k))
		}
		fmt.Fprintf(&b, " %3.0f%% %d/%d %s", 100*frac, p.done, p.total, p.unit)
	} else {
		fmt.Fprintf(&b, " %d %s", p.done, p.unit)
	}
	if r := rate(p.done, el, p.unit); r != "" {
		b.WriteString(", " + r)
	}
	if p.total > 0 && p.done > 0 && p.done < p.total && el > 0 {
		left := time.Duration(float64(el) * float64(p.total-p.done) / float64(p.done))
		b.WriteString(", ETA " + duration(left))
	}
	return b.String()
}

// rate formats done/el as "12.3k rows/s"; "" when no time has passed.
func rate(done int, el time.Duration, unit string) string {
	if el <= 0 {
		return ""
	}
	r := float64(done) / el.Seconds()
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.3gM %s/s", r/1e6, unit)
	case r >= 1e3:
		return fmt.Sprintf("%.3gk %s/s", r/1e3, unit)
	}
	return fmt.Sprintf("%.3g %s/s", r, unit)
}

// duration formats d as "m:ss" or "h:mm:ss", or "0.4s" under ten seconds.
func duration(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
