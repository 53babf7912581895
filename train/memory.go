package train

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/nn"
)

// ErrTooLarge reports a computation whose estimated memory exceeds the
// limit; nothing was allocated.
var ErrTooLarge = errors.New("too large for the memory limit")

// Estimate is the peak memory and the arithmetic a computation needs,
// computed from its sizes alone, before anything is allocated. Estimates
// use float64 so that absurd sizes (10¹² rows) saturate instead of
// overflowing.
type Estimate struct {
	Parts []Part  // what needs the memory
	Flops float64 // floating-point operations (about a second per 10⁹ on one core)
}

// Part is one contribution to an Estimate.
type Part struct {
	What  string
	Bytes float64
}

// Add appends a part of n values of size bytes each.
func (e *Estimate) Add(what string, n, size float64) {
	e.Parts = append(e.Parts, Part{what, n * size})
}

// Bytes returns the total memory.
func (e Estimate) Bytes() float64 {
	var s float64
	for _, p := range e.Parts {
		s += p.Bytes
	}
	return s
}

// Check returns nil if the estimate fits in limit bytes, or an error
// wrapping ErrTooLarge that gives the estimate, its largest parts and how
// to change the limit (the flag named by flag).
func (e Estimate) Check(limit int64, what, flag string) error {
	total := e.Bytes()
	if total <= float64(limit) {
		return nil
	}
	parts := append([]Part(nil), e.Parts...)
	sort.Slice(parts, func(i, j int) bool { return parts[i].Bytes > parts[j].Bytes })
	var b strings.Builder
	for i, p := range parts {
		if i == 3 || p.Bytes < total/100 {
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", p.What, FormatBytes(p.Bytes))
	}
	t := ""
	if e.Flops > 0 {
		t = fmt.Sprintf(" and about %s of computation", formatSeconds(e.Flops/1e9))
	}
	return fmt.Errorf("%s needs about %s of memory (%s)%s, more than the limit of %s; make it smaller, or raise the limit with %s: %w",
		what, FormatBytes(total), b.String(), t, FormatBytes(float64(limit)), flag, ErrTooLarge)
}

// TrainingEstimate estimates the memory and the arithmetic per epoch of
// training with cfg (which must be valid): data, probes, loss, network,
// optimizer state, workspaces, warm-start targets and the final
// evaluation. Data files count by their size (for CSV, four times the
// file: at least two characters per eight-byte value).
func TrainingEstimate(cfg *Config) Estimate {
	in, out := cfg.Bands()
	L, Lo, N := float64(in.Len()), float64(out.Len()), float64(cfg.N)
	var e Estimate
	rows := float64(cfg.TrainSize + cfg.ValSize)
	if !isGenerator(cfg.Data) {
		rows = fileRows(cfg.Data, in.Len())
		e.Add("data split into training and validation copies", rows*L, 8)
	}
	e.Add("data", rows*L, 8)
	e.Add("shuffling permutation, and its copy encoded in each checkpoint", rows, 4+2*5)
	addLoss(&e, cfg)
	sizes := append(append([]int{in.Len()}, cfg.Hidden...), out.Len())
	var params, acts, widest float64
	for i := 1; i < len(sizes); i++ {
		params += float64(sizes[i-1])*float64(sizes[i]) + float64(sizes[i])
		acts += float64(sizes[i])
		widest = math.Max(widest, float64(sizes[i]))
	}
	// Params, grads, best, two optimizer moments, the checkpoint's copy.
	e.Add("network weights, gradients, best weights, optimizer state and checkpoint", 6*params, 8)
	bs := math.Max(math.Min(float64(cfg.BatchSize), rows), 256)
	e.Add("batch work space", bs*(2*L+acts+2*widest+2*Lo), 8)
	if cfg.WarmStart > 0 {
		w := float64(cfg.TrainSize)
		if cfg.WarmStartSize > 0 {
			w = math.Min(w, float64(cfg.WarmStartSize))
		}
		e.Add("warm-start targets", w*Lo, 8)
	}
	e.Add("final evaluation (1000 matrices)", 1000*(2*L+4*Lo)+600*1000, 8)
	e.Flops += 6 * params * float64(cfg.TrainSize) * float64(cfg.Epochs)
	if cfg.Loss == "spectral" {
		e.Flops += 10 * N * N * N * float64(cfg.TrainSize) * float64(cfg.Epochs)
	}
	return e
}

// LossEstimate estimates the memory and arithmetic of building cfg's loss
// (its probes, the probe-loss matrix, the spectral loss's work space), what
// `optimal` and `eval` allocate before the first row.
func LossEstimate(cfg *Config) Estimate {
	var e Estimate
	addLoss(&e, cfg)
	return e
}

func addLoss(e *Estimate, cfg *Config) {
	in, _ := cfg.Bands()
	L, N := float64(in.Len()), float64(cfg.N)
	switch cfg.Loss {
	case "probe":
		p := float64(cfg.NumProbes)
		if !isDistribution(cfg.Probes) {
			p = fileRows(cfg.Probes, cfg.N)
		}
		e.Add("probes", p*N, 8)
		e.Add("probe-loss matrix", L*L+N, 8)
		e.Flops += p * N * L // building the loss
	case "spectral":
		e.Add("spectral loss (dense N×N matrix and SVD work space)", 6*N*N, 8)
	}
}

// ApproxEstimate estimates the memory of applying a network of
// architecture c to batches of batch rows.
func ApproxEstimate(c nn.Config, batch int) Estimate {
	sizes := append(append([]int{c.Inputs}, c.Hidden...), c.Outputs)
	var acts, widest float64
	for _, s := range sizes {
		acts += float64(s)
		widest = math.Max(widest, float64(s))
	}
	var e Estimate
	e.Add("batch work space", float64(batch)*(float64(c.Inputs)+acts+2*widest), 8)
	return e
}

// fileRows bounds the number of rows of width dim in a data file
// (data.MaxRows).
func fileRows(path string, dim int) float64 { return float64(data.MaxRows(path, dim)) }

// DefaultMaxMemory returns the default memory limit: half the machine's
// memory (MemTotal in /proc/meminfo), or nine tenths of the memory
// available now (MemAvailable) if that is less, so that a run that would
// push a busy machine into the out-of-memory killer is refused; 4 GiB when
// /proc/meminfo cannot be read.
func DefaultMaxMemory() int64 {
	total, avail := meminfo()
	switch {
	case total <= 0:
		return 4 << 30
	case avail > 0 && avail*9/10 < total/2:
		return avail * 9 / 10
	}
	return total / 2
}

// meminfo returns MemTotal and MemAvailable in bytes (0 if unknown).
func meminfo() (total, avail int64) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "MemTotal":
			total = kb * 1024
		case "MemAvailable":
			avail = kb * 1024
		}
	}
	return total, avail
}

// ParseBytes parses a memory size such as 8GB, 512MiB, 1.5e9 or 100k
// (k, M, G, T decimal; Ki, Mi, Gi, Ti binary; a trailing B optional).
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "b")
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}} {
		if v, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = v, u.m
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || !(v > 0) || v*mult > math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is not a memory size: write for example 8GB, 512MiB or 2e9", s)
	}
	return int64(v * mult), nil
}

// FormatBytes formats a byte count as "12.3 GB".
func FormatBytes(b float64) string {
	switch {
	case b >= 1e12:
		return fmt.Sprintf("%.3g TB", b/1e12)
	case b >= 1e9:
		return fmt.Sprintf("%.3g GB", b/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.3g MB", b/1e6)
	case b >= 1e3:
		return fmt.Sprintf("%.3g kB", b/1e3)
	}
	return fmt.Sprintf("%.0f B", b)
}

func formatSeconds(s float64) string {
	switch {
	case s >= 86400*365:
		return fmt.Sprintf("%.2g years", s/(86400*365))
	case s >= 86400:
		return fmt.Sprintf("%.2g days", s/86400)
	case s >= 3600:
		return fmt.Sprintf("%.2g hours", s/3600)
	case s >= 60:
		return fmt.Sprintf("%.2g minutes", s/60)
	}
	return fmt.Sprintf("%.2g s", s)
}
