package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/matapprox/matapprox/internal/atomicfile"
	"github.com/matapprox/matapprox/train"
)

// ManifestFile is the file in a sweep directory that lists its trials.
const ManifestFile = "sweep.json"

// ErrOtherSweep reports a sweep directory that holds another grid's trials.
var ErrOtherSweep = errors.New("the directory holds another sweep")

// Manifest lists the trials of a sweep; every shard of a sweep writes the
// same bytes.
type Manifest struct {
	Grid   string          `json:"grid"`
	Keys   []string        `json:"keys"`
	Trials []ManifestTrial `json:"trials"`
}

// ManifestTrial is one trial in a Manifest.
type ManifestTrial struct {
	Name     string    `json:"name"`
	Settings []Setting `json:"settings"`
	Seed     uint64    `json:"seed"`
}

// MarshalJSON writes a Setting as {"key": …, "value": …}.
func (s Setting) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}{s.Key, s.Value})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Setting) UnmarshalJSON(b []byte) error {
	var v struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	s.Key, s.Value = v.Key, v.Value
	return nil
}

// NewManifest returns the manifest of the trials of g. The grid is named
// by its base name, so that shards given the file at different paths agree.
func NewManifest(g *Grid, trials []Trial) Manifest {
	m := Manifest{Grid: filepath.Base(g.Name), Keys: append([]string{}, g.Keys...), Trials: []ManifestTrial{}}
	for _, t := range trials {
		m.Trials = append(m.Trials, ManifestTrial{Name: t.Name, Settings: append([]Setting{}, t.Settings...), Seed: t.Config.Seed})
	}
	return m
}

func (m Manifest) bytes() []byte {
	b, _ := json.MarshalIndent(m, "", "  ")
	return append(b, '\n')
}

// WriteManifest writes m into dir atomically. A manifest already there
// must be identical (a retried or parallel shard of the same sweep);
// otherwise it returns an error wrapping ErrOtherSweep.
func WriteManifest(dir string, m Manifest) error {
	p := filepath.Join(dir, ManifestFile)
	b := m.bytes()
	if old, err := os.ReadFile(p); err == nil {
		if bytes.Equal(old, b) {
			return nil
		}
		return fmt.Errorf("%s lists other trials than grid %s expands to: use a new -out directory for a changed grid: %w", p, m.Grid, ErrOtherSweep)
	}
	return atomicfile.WriteFile(p, b, 0o644)
}

// ReadManifest reads the manifest of the sweep in dir.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return m, nil
}

// Trial states in a summary.
const (
	StatusDone    = "done"    // the run finished: summary.json exists
	StatusPartial = "partial" // the run started: a checkpoint or metrics exist
	StatusPending = "pending" // nothing yet
	StatusFailed  = "failed"  // the trial failed (FailedFile holds why)
)

// Metrics are the columns of final metrics, in table order: from the run's
// summary.json (epochs, best epoch and validation loss, the network's mean
// trained loss, its gaps to the exact optimum) and metrics.jsonl (the last
// epoch's losses).
var Metrics = []string{"epochs", "best_epoch", "best_val_loss", "train_loss", "val_loss", "elapsed_s",
	"loss", "optimal_loss", "gap", "gap_mean", "gap_p95"}

// Row is one trial of a summary.
type Row struct {
	Name     string
	Settings []Setting
	Status   string
	// Metrics holds the metrics known for the trial (see Metrics).
	Metrics map[string]float64
}

// Table is the summary of a sweep directory.
type Table struct {
	Keys []string
	Rows []Row
}

// Summarize reads the runs of the sweep in dir. With a manifest (written
// by `matapprox sweep`) the rows are its trials, in order, finished or
// not; without one, every subdirectory holding a run configuration is a
// row, in name order, and the keys are those whose values differ.
func Summarize(dir string) (*Table, error) {
	m, err := ReadManifest(dir)
	if errors.Is(err, os.ErrNotExist) {
		m, err = scan(dir)
	}
	if err != nil {
		return nil, err
	}
	t := &Table{Keys: m.Keys}
	for _, tr := range m.Trials {
		r, err := ReadRun(filepath.Join(dir, tr.Name))
		if err != nil {
			return nil, err
		}
		r.Name, r.Settings = tr.Name, tr.Settings
		t.Rows = append(t.Rows, r)
	}
	return t, nil
}

// scan builds a manifest from the run directories under dir.
func scan(dir string) (Manifest, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Manifest{}, err
	}
	var names []string
	configs := map[string]map[string]string{}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name(), train.ConfigFile)
		b, err := os.ReadFile(p)
		if !e.IsDir() || err != nil {
			continue
		}
		var raw map[string]any
		if err := yaml.Unmarshal(b, &raw); err != nil {
			return Manifest{}, fmt.Errorf("%s: %w", p, err)
		}
		c := map[string]string{}
		for k, v := range raw {
			c[k] = strings.TrimSpace(yamlText(v))
		}
		names = append(names, e.Name())
		configs[e.Name()] = c
	}
	if len(names) == 0 {
		return Manifest{}, fmt.Errorf("%s: neither %s nor run directories (subdirectories with %s): give the -out directory of matapprox sweep", dir, ManifestFile, train.ConfigFile)
	}
	m := Manifest{Grid: "", Keys: []string{}}
	for _, k := range train.Keys() {
		for _, n := range names[1:] {
			if configs[n][k] != configs[names[0]][k] {
				m.Keys = append(m.Keys, k)
				break
			}
		}
	}
	for _, n := range names {
		mt := ManifestTrial{Name: n}
		for _, k := range m.Keys {
			mt.Settings = append(mt.Settings, Setting{Key: k, Value: configs[n][k]})
		}
		m.Trials = append(m.Trials, mt)
	}
	return m, nil
}

func yamlText(v any) string {
	if l, ok := v.([]any); ok {
		parts := make([]string, len(l))
		for i, x := range l {
			parts[i] = fmt.Sprint(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// FailedFile is the file `matapprox sweep` writes into a trial's run
// directory when the trial fails, holding the error.
const FailedFile = "sweep-error.txt"

// ReadRun returns the status and metrics of one run directory; Name and
// Settings are left empty.
func ReadRun(dir string) (Row, error) {
	r := Row{Status: StatusPending, Metrics: map[string]float64{}}
	if _, err := os.Stat(filepath.Join(dir, FailedFile)); err == nil {
		r.Status = StatusFailed
	}
	if h, err := train.ReadMetrics(filepath.Join(dir, train.MetricsFile)); err == nil && len(h) > 0 {
		last := h[len(h)-1]
		if r.Status == StatusPending {
			r.Status = StatusPartial
		}
		r.Metrics["epochs"] = float64(last.Epoch)
		r.Metrics["train_loss"], r.Metrics["val_loss"], r.Metrics["elapsed_s"] = last.TrainLoss, last.ValLoss, last.Elapsed
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return r, err
	}
	b, err := os.ReadFile(filepath.Join(dir, train.SummaryFile))
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		return r, fmt.Errorf("%s: %w", filepath.Join(dir, train.SummaryFile), err)
	}
	r.Status = StatusDone
	for _, m := range []struct {
		name string
		path []string
	}{
		{"epochs", []string{"epochs"}},
		{"best_epoch", []string{"best_epoch"}},
		{"best_val_loss", []string{"best_val_loss"}},
		{"elapsed_s", []string{"elapsed_s"}},
		{"loss", []string{"eval", "methods", "network", "loss"}},
		{"optimal_loss", []string{"eval", "methods", "optimal", "loss"}},
		{"gap", []string{"eval", "methods", "network", "gap"}},
		{"gap_mean", []string{"eval", "methods", "network", "gap_mean"}},
		{"gap_p95", []string{"eval", "methods", "network", "gap_p95"}},
	} {
		if v, ok := lookup(s, m.path); ok {
			r.Metrics[m.name] = v
		}
	}
	return r, nil
}

// lookup returns the number at path in a decoded JSON object.
func lookup(v any, path []string) (float64, bool) {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return 0, false
		}
		v = m[k]
	}
	f, ok := v.(float64)
	return f, ok
}

// Fixed formats v in fixed-point notation, never with an exponent, with
// sig significant digits (sig <= 0: as many as needed to read v back
// exactly), so that metric collectors that expect plain decimals, such as
// Katib's default regular expression, read every value. A non-finite v
// gives "".
func Fixed(v float64, sig int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	if sig <= 0 || v == 0 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	dec := sig - 1 - int(math.Floor(math.Log10(math.Abs(v))))
	return strconv.FormatFloat(v, 'f', max(0, dec), 64)
}

// header returns the column names. A setting named like a metric (a grid
// over epochs or loss) is headed "config.KEY", so that no two columns share
// a name.
func (t *Table) header() []string {
	h := []string{"trial"}
	for _, k := range t.Keys {
		if slices.Contains(Metrics, k) {
			k = "config." + k
		}
		h = append(h, k)
	}
	h = append(h, "status")
	return append(h, Metrics...)
}

// cells returns a row's cells; metrics with sig significant digits.
func (t *Table) cells(r Row, sig int) []string {
	c := []string{r.Name}
	vals := map[string]string{}
	for _, s := range r.Settings {
		vals[s.Key] = s.Value
	}
	for _, k := range t.Keys {
		c = append(c, vals[k])
	}
	c = append(c, r.Status)
	for _, m := range Metrics {
		s := ""
		if v, ok := r.Metrics[m]; ok {
			s = Fixed(v, sig)
			if m == "epochs" || m == "best_epoch" {
				s = Fixed(v, 0)
			}
		}
		c = append(c, s)
	}
	return c
}

// WriteCSV writes the table as CSV with a header row; metrics in full
// precision, fixed-point; unknown metrics are empty.
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(t.header())
	for _, r := range t.Rows {
		cw.Write(t.cells(r, 0))
	}
	cw.Flush()
	return cw.Error()
}

// WriteMarkdown writes the table as a GitHub-flavoured Markdown table,
// metrics fixed-point with 6 significant digits.
func (t *Table) WriteMarkdown(w io.Writer) error {
	esc := func(s []string) string {
		out := make([]string, len(s))
		for i, c := range s {
			out[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		return "| " + strings.Join(out, " | ") + " |\n"
	}
	h := t.header()
	var b strings.Builder
	b.WriteString(esc(h))
	sep := make([]string, len(h))
	for i := range sep {
		sep[i] = "---"
		if i > len(t.Keys)+1 {
			sep[i] = "---:"
		}
	}
	b.WriteString("|" + strings.Join(sep, "|") + "|\n")
	for _, r := range t.Rows {
		b.WriteString(esc(t.cells(r, 6)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMetricLines writes one line per trial, "NAME: metric=value …", the
// metrics in full-precision fixed point: the form of Katib's default
// metrics collector (metric=value pairs on stdout).
func (t *Table) WriteMetricLines(w io.Writer) error {
	for _, r := range t.Rows {
		var b strings.Builder
		b.WriteString(r.Name + ": status " + r.Status)
		for _, m := range Metrics {
			if v, ok := r.Metrics[m]; ok {
				if s := Fixed(v, 0); s != "" {
					b.WriteString(" " + m + "=" + s)
				}
			}
		}
		b.WriteByte('\n')
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// Counts returns the number of rows in each status.
func (t *Table) Counts() map[string]int {
	c := map[string]int{}
	for _, r := range t.Rows {
		c[r.Status]++
	}
	return c
}
