package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/internal/atomicfile"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/train"
)

// isJSONL reports whether path names a JSON Lines output (.jsonl).
func isJSONL(path string) bool { return strings.EqualFold(filepath.Ext(path), ".jsonl") }

// certSideFile is the file next to a CSV or .npy output that carries the
// certificates: value,lower_bound,certified_gap,fallback per row.
func certSideFile(output string) string { return output + ".cert.csv" }

// approxCertifier certifies approx's rows and keeps the summary.
type approxCertifier struct {
	c       *optimal.Certifier
	maxGap  float64
	res     []optimal.Certificate
	dst     []float64
	rows    int
	fell    int // the exact solver ran (Certificate.Fallback)
	polish  int // improved by polish steps alone
	reused  int // certified by a remembered dual (Certificate.Reused)
	ascend  int // of those, after dual ascent (Certificate.Ascended)
	recov   int // of the polished, the primal of the ascended dual (Certificate.Recovered)
	over    int // certified gap still above maxGap
	sumGap  float64
	maxSeen float64
	acc     eval.CertifyAccumulator // the distribution of certified gaps
}

func newApproxCertifier(cfg *train.Config, maxGap float64, polish bool, steps, dualCache, batch int) (*approxCertifier, error) {
	l, _, err := train.BuildLoss(cfg)
	if err != nil {
		return nil, err
	}
	opts := &optimal.CertifyOptions{MaxGap: maxGap, PolishSteps: steps, DualCache: dualCache}
	if !polish {
		opts.PolishSteps = -1
	}
	c, err := optimal.NewCertifier(l, opts)
	if err != nil {
		return nil, err
	}
	_, out := c.Bands()
	return &approxCertifier{c: c, maxGap: maxGap, res: make([]optimal.Certificate, batch), dst: make([]float64, batch*out.Len())}, nil
}

// loadDuals loads the run directory's remembered duals (train.DualsFile)
// into the certifier's cache, if there are a run directory, a cache and
// such a file, and returns what to say about it ("" for nothing). A file
// that cannot be used (for another N, damaged) is a warning, not an error:
// the certificates stay valid without it.
func (ac *approxCertifier) loadDuals(dir string, cache int) string {
	if cache == 0 {
		return ""
	}
	return loadRunDuals(ac.c, dir)
}

// loadRunDuals loads the run directory's remembered duals into c's cache
// (see approxCertifier.loadDuals).
func loadRunDuals(c *optimal.Certifier, dir string) string {
	if dir == "" {
		return ""
	}
	path := filepath.Join(dir, train.DualsFile)
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	n, err := c.ReadDuals(path)
	switch {
	case errors.Is(err, optimal.ErrOption):
		return "" // no cache for this loss or size
	case err != nil:
		return fmt.Sprintf("warning: not using the run's remembered duals: %v", err)
	}
	return fmt.Sprintf("loaded %d remembered dual certificates from %s", n, path)
}

// certify certifies the k network outputs a for the inputs x and returns
// the certified generators (aliasing the certifier's buffer) and their
// certificates.
func (ac *approxCertifier) certify(x, a []float64, k int) ([]float64, []optimal.Certificate, error) {
	if err := ac.c.CertifyBatch(ac.dst, ac.res, x, a, k); err != nil {
		return nil, nil, fmt.Errorf("certifying: %w", err)
	}
	for _, r := range ac.res[:k] {
		ac.rows++
		g := r.Gap()
		ac.sumGap += g
		ac.maxSeen = math.Max(ac.maxSeen, g)
		ac.acc.Add(r, math.NaN())
		switch {
		case r.Reused:
			ac.reused++
			if r.Ascended {
				ac.ascend++
			}
		case r.Fallback:
			ac.fell++
		case r.Polished:
			ac.polish++
			if r.Recovered {
				ac.recov++
			}
		}
		if ac.maxGap > 0 && !(g <= ac.maxGap) {
			ac.over++
		}
	}
	return ac.dst, ac.res[:k], nil
}

// summary returns the line approx prints after certifying: how many rows
// were certified as the network gave them, improved by polish steps, or
// re-solved by the exact solver, and whether every row meets -max-gap.
func (ac *approxCertifier) summary() string {
	mean := 0.0
	if ac.rows > 0 {
		mean = ac.sumGap / float64(ac.rows)
	}
	s := fmt.Sprintf("certified %d rows (%s loss): certified gap mean %.4g%%, max %.4g%%; %d as the network gave them",
		ac.rows, ac.c.Loss().Name(), 100*mean, 100*ac.maxSeen, ac.rows-ac.polish-ac.fell)
	if ac.reused > 0 {
		s += fmt.Sprintf(" (%d of them by a remembered dual", ac.reused)
		if ac.ascend > 0 {
			s += fmt.Sprintf(", %d after dual ascent", ac.ascend)
		}
		s += ")"
	}
	s += fmt.Sprintf(", %d polished", ac.polish)
	if ac.recov > 0 {
		s += fmt.Sprintf(" (%d of them replaced by the primal of the ascended dual)", ac.recov)
	}
	if ac.maxGap > 0 {
		s += fmt.Sprintf(", %d re-solved by the exact solver (-max-gap %g)", ac.fell, ac.maxGap)
		if ac.over == 0 {
			s += fmt.Sprintf(": every row within %g%% of the optimum", 100*ac.maxGap)
		} else {
			s += fmt.Sprintf(": %d rows NOT within %g%% (see warning)", ac.over, 100*ac.maxGap)
		}
	}
	if ac.rows > 0 {
		d := ac.acc.Summary()
		s += fmt.Sprintf("\ncertified gap median %.4g%%, p95 %.4g%%; %s", 100*d.GapMedian, 100*d.GapP95, histogramLine(d))
	}
	return s
}

// histogramLine formats the decade histogram of certified gaps.
func histogramLine(s eval.CertifiedSummary) string {
	var b strings.Builder
	b.WriteString("certified gap histogram:")
	for i, v := range s.Histogram {
		if v > 0 {
			fmt.Fprintf(&b, " [1e%d,1e%d):%d", i-9, i-8, v)
		}
	}
	return b.String()
}

// warning returns the stderr warning for rows left above -max-gap, or "".
func (ac *approxCertifier) warning() string {
	if ac.over == 0 {
		return ""
	}
	return fmt.Sprintf("warning: %d rows have a certified gap above -max-gap %g even after the exact solver: no float64 generator "+
		"within the gap was found (typically in-band entries so much larger than the rest that the optimum rounds away); "+
		"their certified_gap in the output is the true guarantee", ac.over, ac.maxGap)
}

// jsonRow is one line of a .jsonl output.
type jsonRow struct {
	Generator    []float64 `json:"generator"`
	Value        float64   `json:"value"`
	LowerBound   float64   `json:"lower_bound"`
	CertifiedGap float64   `json:"certified_gap"`
	Fallback     bool      `json:"fallback"`
}

// certRowWriter writes certified rows: JSON Lines, or the generators to the
// main writer and the certificates to the side CSV.
type certRowWriter struct {
	gen  *data.Writer  // nil for JSON Lines
	side *bufio.Writer // side CSV, or the JSON Lines stream
	buf  []byte
}

func newCertRowWriter(gen *data.Writer, side io.Writer, jsonl bool) (*certRowWriter, error) {
	w := &certRowWriter{gen: gen, side: bufio.NewWriterSize(side, 1<<16)}
	if !jsonl {
		if _, err := w.side.WriteString("value,lower_bound,certified_gap,fallback\n"); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func (w *certRowWriter) write(g []float64, c optimal.Certificate) error {
	if w.gen == nil {
		b, err := json.Marshal(jsonRow{Generator: g, Value: c.Value, LowerBound: c.Lower, CertifiedGap: c.Gap(), Fallback: c.Fallback})
		if err != nil {
			return err
		}
		w.side.Write(b)
		return w.side.WriteByte('\n')
	}
	if err := w.gen.Write(g); err != nil {
		return err
	}
	fb := 0
	if c.Fallback {
		fb = 1
	}
	w.buf = strconv.AppendFloat(w.buf[:0], c.Value, 'g', -1, 64)
	w.buf = append(w.buf, ',')
	w.buf = strconv.AppendFloat(w.buf, c.Lower, 'g', -1, 64)
	w.buf = append(w.buf, ',')
	w.buf = strconv.AppendFloat(w.buf, c.Gap(), 'g', -1, 64)
	w.buf = append(w.buf, ',', byte('0'+fb), '\n')
	_, err := w.side.Write(w.buf)
	return err
}

func (w *certRowWriter) close() error {
	if w.gen != nil {
		if err := w.gen.Close(); err != nil {
			return err
		}
	}
	return w.side.Flush()
}

// withCertOutput runs body with the writer of certified rows for output:
// a .jsonl file alone, or a CSV/.npy generator file (made by newGen) plus
// its side file. Both files are written atomically: on error neither is
// left behind.
func withCertOutput(output string, newGen func(io.Writer) (*data.Writer, error), body func(*certRowWriter) error) error {
	if isJSONL(output) {
		return atomicfile.Write(output, 0o644, func(w io.Writer) error {
			cw, err := newCertRowWriter(nil, w, true)
			if err != nil {
				return err
			}
			if err := body(cw); err != nil {
				return err
			}
			return cw.close()
		})
	}
	return atomicfile.Write(output, 0o644, func(w io.Writer) error {
		gen, err := newGen(w)
		if err != nil {
			return err
		}
		return atomicfile.Write(certSideFile(output), 0o644, func(sw io.Writer) error {
			cw, err := newCertRowWriter(gen, sw, false)
			if err != nil {
				return err
			}
			if err := body(cw); err != nil {
				return err
			}
			return cw.close()
		})
	})
}

// evalCertifier certifies eval's network answers; a nil one does nothing.
type evalCertifier struct {
	c   *optimal.Certifier
	acc eval.CertifyAccumulator
}

func newEvalCertifier(on bool, trained loss.Loss, maxGap float64, dualCache int) (*evalCertifier, error) {
	if !on {
		return nil, nil
	}
	c, err := optimal.NewCertifier(trained, &optimal.CertifyOptions{MaxGap: maxGap, DualCache: dualCache})
	if err != nil {
		return nil, err
	}
	return &evalCertifier{c: c}, nil
}

func (ec *evalCertifier) add(r *eval.Row) error {
	if ec == nil {
		return nil
	}
	_, err := eval.CertifyRow(ec.c, r, &ec.acc)
	return err
}

func (ec *evalCertifier) print(w io.Writer) {
	if ec == nil {
		return
	}
	s := ec.acc.Summary()
	fmt.Fprintln(w)
	fmt.Fprintln(w, s.String())
	fmt.Fprintln(w, histogramLine(s))
}
