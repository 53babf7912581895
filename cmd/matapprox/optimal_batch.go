package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/internal/atomicfile"
	"github.com/matapprox/matapprox/internal/progress"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/shard"
	"github.com/matapprox/matapprox/structure"
	"github.com/matapprox/matapprox/train"
)

// batchFlags are the flags of `optimal -input`, registered on the FlagSet
// of the single-matrix command so that both share -loss, -out-band, -n,
// -probes and the rest.
type batchFlags struct {
	input, output, shard *string
}

// addBatchFlags registers -input, -output and -shard on fs.
func addBatchFlags(fs *flag.FlagSet) *batchFlags {
	return &batchFlags{
		input:  fs.String("input", "", "batch mode: CSV or .npy file of input generators, one per row (the band comes from the row length)"),
		output: fs.String("output", "", "batch mode: JSON Lines file to write, one object per input row with the fields of -json"),
		shard:  addShardFlag(fs),
	}
}

// addShardFlag registers -shard on fs.
func addShardFlag(fs *flag.FlagSet) *string {
	return fs.String("shard", "", "process only shard `i/n` (0-based) of the input rows and write a part file for `matapprox merge`, e.g. $(JOB_COMPLETION_INDEX)/64 or ${SLURM_ARRAY_TASK_ID}/64")
}

// active reports whether batch mode was asked for.
func (b *batchFlags) active() bool { return *b.input != "" || *b.output != "" || *b.shard != "" }

// batchRows is the number of rows solved per SolveBatch call: it bounds
// the memory of a batch run to batchRows rows and their records.
const batchRows = 256

// optimalKeys are the flags of `optimal` that batch mode reads; any other
// flag set with -input is refused rather than ignored.
var optimalKeys = map[string]bool{"loss": true, "out-band": true, "n": true, "probes": true, "num-probes": true, "seed": true, "tol": true}

// notSettings are the flags that do not change the records.
var notSettings = map[string]bool{"input": true, "output": true, "shard": true, "json": true, "matrix": true, "max-memory": true, "quiet": true}

// run solves every row of the input (or of one shard of it) and writes the
// records. fs holds the parsed flags of the optimal command.
func (b *batchFlags) run(fs *flag.FlagSet, stdout, stderr io.Writer) error {
	if *b.input == "" || *b.output == "" {
		return usagef("batch mode needs both -input FILE and -output FILE.jsonl")
	}
	var err error
	fs.Visit(func(f *flag.Flag) {
		if !optimalKeys[f.Name] && !notSettings[f.Name] && err == nil {
			err = usagef("-%s is not supported with -input", f.Name)
		}
		if f.Name == "matrix" {
			err = usagef("give -matrix or -input, not both")
		}
	})
	if err != nil {
		return err
	}
	if _, err := data.FormatOf(*b.input); err != nil {
		return usagef("-input %v", err)
	}
	if abs(*b.input) == abs(*b.output) {
		return usagef("-output %s would overwrite the input", *b.output)
	}
	if err := checkNotInput("-output", *b.output, *b.input); err != nil {
		return err
	}
	sig := catchInterrupts(fs.Output(), *b.output+" was not written (a file already there is unchanged) and no temporary file is left")
	defer sig.stop()
	spec, sharded, err := parseShardFlag(*b.shard)
	if err != nil {
		return err
	}
	src, err := openRows(*b.input, spec, sharded)
	if err != nil {
		return err
	}
	defer src.Close()
	if src.dim%2 == 0 {
		return fmt.Errorf("%s: rows have %d entries; a generator of half-bandwidth K has 2K+1 (odd): %w", *b.input, src.dim, data.ErrFormat)
	}
	get := func(name string) string { return fs.Lookup(name).Value.String() }
	cfg, _ := train.Preset("seed")
	cfg.InBand = (src.dim - 1) / 2
	cfg.N = 2*cfg.InBand + 1
	cfg.Loss, cfg.Probes = get("loss"), get("probes")
	for _, f := range []struct {
		name string
		dst  *int
	}{{"out-band", &cfg.OutBand}, {"n", &cfg.N}, {"num-probes", &cfg.NumProbes}} {
		v, _ := strconv.Atoi(get(f.name))
		if f.name != "n" || v != 0 {
			*f.dst = v
		}
	}
	cfg.Seed, _ = strconv.ParseUint(get("seed"), 10, 64)
	if cfg.OutBand < -1 || (cfg.OutBand == -1 && flagSet(fs, "out-band")) {
		return usagef("-out-band %d: want a half-bandwidth K' >= 0", cfg.OutBand)
	}
	if cfg.OutBand < 0 {
		return usagef("-out-band is required")
	}
	if err := cfg.Validate(); err != nil {
		return usagef("%v", err)
	}
	if mm, ok := fs.Lookup("max-memory").Value.(*byteSize); ok {
		if err := train.LossEstimate(&cfg).Check(mm.limit(), "this problem", "-max-memory"); err != nil {
			return usagef("%v", err)
		}
	}
	var opts optimal.Options
	if f := fs.Lookup("tol"); f != nil {
		if opts.Tol, err = strconv.ParseFloat(f.Value.String(), 64); err != nil {
			return usagef("-tol %q: %v", f.Value.String(), err)
		}
	}
	rs, err := newRowSolver(&cfg, &opts)
	if err != nil {
		return err
	}
	settings := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if !notSettings[f.Name] {
			settings[f.Name] = f.Value.String()
		}
	})
	if h, ok := fileSHA256(cfg.Probes); ok {
		settings["probes"] = "sha256:" + h
	}
	quiet := fs.Lookup("quiet").Value.String() == "true"
	ph := newReporter(stderr, quiet).Start(cfg.Loss+" optima", src.total(), "rows")
	n, err := writeRecords(*b.output, src, sharded, "optimal", settings, rs.records, nil, ph)
	if err != nil {
		return err
	}
	in, out := cfg.Bands()
	what := fmt.Sprintf("%d rows", n)
	if sharded {
		what = fmt.Sprintf("rows %d to %d of %d (shard %s)", src.lo, src.lo+n-1, src.rows, spec)
		if n == 0 {
			what = fmt.Sprintf("no rows of %d (shard %s: more shards than rows)", src.rows, spec)
		}
	}
	fmt.Fprintf(stdout, "wrote the %s optima of %s, %d×%d, half-bandwidth %d → %d, to %s\n", cfg.Loss, what, in.N, in.N, in.K, out.K, *b.output)
	return nil
}

// parseShardFlag parses a -shard value; "" means unsharded.
func parseShardFlag(s string) (shard.Spec, bool, error) {
	if s == "" {
		return shard.Whole, false, nil
	}
	spec, err := shard.Parse(s)
	if err != nil {
		return shard.Spec{}, false, usagef("-shard: %v", err)
	}
	return spec, true, nil
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// fileSHA256 returns the SHA-256 of the file at path, if it is one.
func fileSHA256(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return "", false
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", false
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

// buildID identifies this program for part headers: the module version
// and VCS revision, when the build recorded them.
func buildID() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	id := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		id += " " + rev + dirty
	}
	return id
}

// rowSource streams the rows [lo, hi) of a data file.
type rowSource struct {
	path   string
	f      *os.File
	rd     *data.Reader
	dim    int
	rows   int    // rows of the whole file (sharded only; else -1)
	sha    string // SHA-256 of the whole file (sharded only)
	spec   shard.Spec
	lo, hi int // the block; hi = -1: to the end
	next   int // index of the next row
}

// total returns the number of rows src will read: its block's for a shard,
// the file's for a .npy file, 0 (unknown) for a CSV file.
func (s *rowSource) total() int {
	if s.hi >= 0 {
		return s.hi - s.lo
	}
	return max(s.rd.Rows(), 0)
}

// openRows opens path. For a shard it first reads the whole file once, to
// hash it, count and validate its rows (so that every shard refuses a bad
// file alike), then skips to the shard's block.
func openRows(path string, spec shard.Spec, sharded bool) (*rowSource, error) {
	format, err := data.FormatOf(path)
	if err != nil {
		return nil, usagef("-input %v", err)
	}
	s := &rowSource{path: path, rows: -1, hi: -1, spec: spec}
	if sharded {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		tee := io.TeeReader(f, h)
		rd, err := data.NewReader(tee, path, format)
		if err == nil {
			row := make([]float64, rd.Dim())
			s.rows = 0
			for err == nil {
				if err = rd.Next(row); err == nil {
					s.rows++
				}
			}
			if err == io.EOF {
				_, err = io.Copy(io.Discard, tee)
			}
		}
		f.Close()
		if err != nil {
			return nil, err
		}
		s.sha = hex.EncodeToString(h.Sum(nil))
		s.lo, s.hi = spec.Range(s.rows)
	}
	if s.f, err = os.Open(path); err != nil {
		return nil, err
	}
	if s.rd, err = data.NewReader(s.f, path, format); err != nil {
		s.f.Close()
		return nil, err
	}
	s.dim = s.rd.Dim()
	if s.dim == 0 || s.rows == 0 || s.rd.Rows() == 0 {
		s.f.Close()
		return nil, fmt.Errorf("%s: no data rows: %w", path, data.ErrFormat)
	}
	row := make([]float64, s.dim)
	for s.next < s.lo {
		if err := s.rd.Next(row); err != nil {
			s.f.Close()
			return nil, err
		}
		s.next++
	}
	return s, nil
}

// Close closes the file.
func (s *rowSource) Close() error { return s.f.Close() }

// read reads up to len(dst)/dim rows of the block into dst and returns how
// many; 0 at the end of the block.
func (s *rowSource) read(dst []float64) (int, error) {
	k := 0
	for ; (k+1)*s.dim <= len(dst) && (s.hi < 0 || s.next < s.hi); k++ {
		err := s.rd.Next(dst[k*s.dim : (k+1)*s.dim])
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		s.next++
	}
	return k, nil
}

// recordFunc appends to lines[i] the record of row i of the k rows in x,
// whose first row is row first of the input.
type recordFunc func(lines [][]byte, x []float64, k, first int) error

// writeRecords streams the rows of src through fn in chunks of batchRows
// and writes the records to path atomically: plainly, or as a part file
// of the command and settings when sharded, whose trailer then carries
// what data (if not nil) returns after the last row. It returns the number
// of rows. It reports the rows done to ph and finishes it.
func writeRecords(path string, src *rowSource, sharded bool, command string, settings map[string]string, fn recordFunc, data func() ([]byte, error), ph *progress.Phase) (int, error) {
	defer ph.Finish()
	n := 0
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		var rw *shard.Writer
		if sharded {
			var err error
			rw, err = shard.NewPartWriter(w, shard.Header{Command: command, Build: buildID(), Settings: settings,
				Input: src.path, InputSHA256: src.sha, InputRows: src.rows, Shard: src.spec, Begin: src.lo, End: src.hi})
			if err != nil {
				return err
			}
		} else {
			rw = shard.NewWriter(w)
		}
		x := make([]float64, batchRows*src.dim)
		lines := make([][]byte, batchRows)
		for {
			first := src.next
			k, err := src.read(x)
			if err != nil {
				return err
			}
			if k == 0 {
				if sharded && data != nil {
					d, err := data()
					if err != nil {
						return err
					}
					if err := rw.SetData(d); err != nil {
						return err
					}
				}
				return rw.Close()
			}
			for i := range lines[:k] {
				lines[i] = lines[i][:0]
			}
			if err := fn(lines, x[:k*src.dim], k, first); err != nil {
				return err
			}
			for _, l := range lines[:k] {
				if err := rw.Write(l); err != nil {
					return err
				}
			}
			n += k
			ph.Add(k)
		}
	})
	return n, err
}

// rowSolver computes the records of `optimal -input` with one
// eval.Evaluator per worker, all sharing one Solver, exactly as the
// single-matrix command computes its -json object.
type rowSolver struct {
	lossName string
	in, out  structure.Band
	evs      []*eval.Evaluator
}

// measureBytes is the memory one worker's evaluator takes for the spectral
// norm: the dense N×N residual and its SVD workspace.
func measureBytes(n int) int { return 3 * n * n * 8 }

// maxMeasureMemory bounds the memory of the parallel measurements.
const maxMeasureMemory = 4 << 30

func newRowSolver(cfg *train.Config, opts *optimal.Options) (*rowSolver, error) {
	rs := &rowSolver{lossName: cfg.Loss}
	rs.in, rs.out = cfg.Bands()
	workers := max(1, min(runtime.GOMAXPROCS(0), maxMeasureMemory/measureBytes(rs.in.N)))
	opts.Workers = 1 // the workers are the evaluators
	trained, _, err := train.BuildLoss(cfg)
	if err != nil {
		return nil, err
	}
	solver, err := optimal.NewSolver(trained, opts)
	if err != nil {
		return nil, err
	}
	eo := eval.Options{Solver: solver, Batch: batchRows}
	if cfg.Loss != "probe" {
		// probe_loss is measured with the -probes distribution or file.
		pc := *cfg
		pc.Loss = "probe"
		pl, _, err := train.BuildLoss(&pc)
		if err != nil {
			return nil, err
		}
		q, ok := pl.(*loss.Quadratic)
		if !ok {
			return nil, errors.New("the probe loss is not quadratic")
		}
		eo.Probe, eo.Probes = q, train.ProbesDescription(&pc)
	} else {
		eo.Probes = train.ProbesDescription(cfg) + " (the loss minimised)"
	}
	for range workers {
		ev, err := eval.New(nil, trained, &eo)
		if err != nil {
			return nil, err
		}
		rs.evs = append(rs.evs, ev)
	}
	return rs, nil
}

// records evaluates the k rows of x in len(rs.evs) contiguous parts in
// parallel; row i's record goes to lines[i], so the output does not depend
// on the number of workers.
func (rs *rowSolver) records(lines [][]byte, x []float64, k, first int) error {
	L := rs.in.Len()
	w := min(len(rs.evs), k)
	errs := make([]error, w)
	var wg sync.WaitGroup
	for g := 0; g < w; g++ {
		lo, hi := shard.Spec{Index: g, Count: w}.Range(k)
		wg.Add(1)
		go func() {
			defer wg.Done()
			set := &data.Set{Dim: L, Rows: hi - lo, X: x[lo*L : hi*L]}
			_, err := rs.evs[g].Run(eval.FromSet(set, eval.File, ""), func(r *eval.Row) error {
				b, err := json.Marshal(rs.record(rs.evs[g], r))
				lines[lo+r.Index] = append(lines[lo+r.Index], b...)
				return err
			})
			if err != nil {
				var re *optimal.RowError
				if errors.As(err, &re) {
					err = fmt.Errorf("row %d: %w", first+lo+re.Row+1, re.Err)
				}
				errs[g] = err
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// record returns the fields of `optimal -json` for one row.
func (rs *rowSolver) record(ev *eval.Evaluator, r *eval.Row) map[string]any {
	best := r.Method(eval.Optimal)
	obj := map[string]any{"loss": rs.lossName, "n": rs.in.N, "in_band": rs.in.K, "out_band": rs.out.K, "probes": ev.Probes(),
		"generator": best.A, "probe_loss": jsonNum(best.ProbeLoss), "frobenius": jsonNum(best.Frobenius), "spectral": jsonNum(best.Spectral)}
	if rs.lossName == "spectral" {
		gap := 0.0
		if best.Loss > 0 {
			gap = (best.Loss - r.Lower) / best.Loss
		}
		obj["lower_bound"], obj["relative_gap"] = jsonNum(r.Lower), jsonNum(gap)
	}
	return obj
}
