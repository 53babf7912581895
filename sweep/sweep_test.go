package sweep

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/train"
)

func names(ts []Trial) []string {
	var n []string
	for _, t := range ts {
		n = append(n, t.Name)
	}
	return n
}

func TestTrials(t *testing.T) {
	src := `
preset: seed
config:
  epochs: 3
list:
  - {loss: probe}
  - {loss: frobenius, out-band: 2}
grid:
  lr: [0.1, 0.01]
  hidden: [[8], [16, 16]]
`
	g, err := Parse([]byte(src), "g.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := g.Trials()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"000-loss_probe-lr_0.1-hidden_8", "001-loss_probe-lr_0.1-hidden_16x16",
		"002-loss_probe-lr_0.01-hidden_8", "003-loss_probe-lr_0.01-hidden_16x16",
		"004-loss_frobenius-out-band_2-lr_0.1-hidden_8", "005-loss_frobenius-out-band_2-lr_0.1-hidden_16x16",
		"006-loss_frobenius-out-band_2-lr_0.01-hidden_8", "007-loss_frobenius-out-band_2-lr_0.01-hidden_16x16",
	}
	if got := names(ts); !slices.Equal(got, want) {
		t.Fatalf("names:\n%v\nwant\n%v", got, want)
	}
	if !slices.Equal(g.Keys, []string{"loss", "out-band", "lr", "hidden"}) {
		t.Errorf("keys %v", g.Keys)
	}
	seed, _ := train.Preset("seed")
	c := ts[5].Config
	if c.Loss != "frobenius" || c.OutBand != 2 || c.LR != 0.1 || !slices.Equal(c.Hidden, []int{16, 16}) || c.Epochs != 3 || c.Seed != seed.Seed {
		t.Errorf("trial 5 config %+v", c)
	}
	if ts[0].Config.OutBand != seed.OutBand || !slices.Equal(ts[0].Config.Hidden, []int{8}) {
		t.Errorf("trial 0 config %+v", ts[0].Config)
	}
	// Expanding again gives the same trials (names, settings, configs).
	ts2, _ := g.Trials()
	for i := range ts {
		if ts[i].Name != ts2[i].Name || !bytes.Equal(train.MarshalConfig(&ts[i].Config), train.MarshalConfig(&ts2[i].Config)) {
			t.Fatalf("trial %d differs between expansions", i)
		}
	}
}

func TestRepeats(t *testing.T) {
	g, err := Parse([]byte("preset: seed\nconfig: {seed: 7}\n"), "g.yaml")
	if err == nil {
		t.Fatalf("a grid with nothing to sweep was accepted: %v", g)
	}
	g, err = Parse([]byte("preset: seed\ngrid: {lr: [0.1, 0.2]}\nrepeats: 3\n"), "g.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := g.Trials()
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 6 || ts[4].Name != "004-lr_0.2-seed_2" || ts[4].Config.Seed != 2 || ts[2].Config.Seed != 3 || ts[3].Config.Seed != 1 {
		t.Fatalf("repeats: %v, seeds %d %d %d", names(ts), ts[2].Config.Seed, ts[3].Config.Seed, ts[4].Config.Seed)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"", "empty grid file"},
		{"[1, 2]", "a grid file is a mapping"},
		{"grid: {lr: [0.1]}\nfoo: 1\n", "g.yaml:2: unknown key \"foo\""},
		{"preset: nope\ngrid: {lr: [1]}\n", "preset: nope: no such preset"},
		{"config:\n  epochs: 2\n  batchsize: 3\ngrid: {lr: [1]}\n", "g.yaml:3: unknown key \"batchsize\""},
		{"grid:\n  lr: [0.1]\n  epochs: [2, ten]\n", "g.yaml:3: epochs: ten: not an integer"},
		{"grid:\n  lr: 0.1\n", "g.yaml:2: grid key lr: want a non-empty list"},
		{"grid:\n  lr: []\n", "want a non-empty list"},
		{"config: {lr: 0.1}\ngrid: {lr: [0.2]}\n", "lr is set in config and varied in grid"},
		{"list: [{lr: 0.1}]\ngrid: {lr: [0.2]}\n", "lr is varied in both list and grid"},
		{"list: [1, 2]\n", "list entry: want a mapping"},
		{"list: []\n", "non-empty list of mappings"},
		{"grid: {seed: [1, 2]}\nrepeats: 2\n", "remove repeats or the seed key"},
		{"grid: {lr: [1]}\nrepeats: 0\n", "repeats \"0\""},
		{"grid: {lr: [1], lr: [2]}\n", "g.yaml:1: grid: key lr appears twice"},
		{"grid: {out-band: [9]}\n", "trial 000-out-band_9: out-band: 9"},
		{"grid: {lr: [-1]}\n", "lr: -1"},
		{"grid:\n  lr: [" + strings.Repeat("1, ", 400) + "1]\n  epochs: [" + strings.Repeat("1, ", 400) + "1]\n", "more than 100000"},
		{"grid: {lr: [1}\n", "g.yaml: did not find expected"},
	}
	for _, c := range cases {
		g, err := Parse([]byte(c.src), "g.yaml")
		if err == nil {
			_, err = g.Trials()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !(errors.Is(err, ErrGrid) || errors.Is(err, train.ErrConfig)) {
			t.Errorf("%q: %v; want an ErrGrid or ErrConfig containing %q", c.src, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("preset: seed\nconfig: {epochs: 1}\ngrid: {lr: [0.1, 0.2], hidden: [[4], [4, 4]]}\nrepeats: 2\n"))
	f.Add([]byte("list: [{loss: probe}, {loss: spectral, out-band: 1}]\n"))
	f.Add([]byte("grid: {data: [\"a:b.csv\", notebook]}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		g, err := Parse(src, "f.yaml")
		if err != nil {
			if !errors.Is(err, ErrGrid) && !errors.Is(err, train.ErrConfig) {
				t.Fatalf("error %v wraps neither ErrGrid nor ErrConfig", err)
			}
			return
		}
		if g.count() > 64 {
			return
		}
		ts, err := g.Trials()
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, tr := range ts {
			if seen[tr.Name] || len(tr.Name) > maxName || strings.ContainsAny(tr.Name, "/=\\ \n") {
				t.Fatalf("bad or duplicate trial name %q", tr.Name)
			}
			seen[tr.Name] = true
			if err := tr.Config.Validate(); err != nil {
				t.Fatalf("trial %s has an invalid config: %v", tr.Name, err)
			}
		}
	})
}

func TestFixed(t *testing.T) {
	katib := regexp.MustCompile(`^[+-]?\d*(\.\d+)?$`) // Katib's default value pattern, without the exponent
	for _, v := range []float64{0, 1, -1, 0.1, 1e-12, 3.14159e-7, 123456789.5, 1e21, -2.5e-300, math.SmallestNonzeroFloat64} {
		s := Fixed(v, 0)
		if !katib.MatchString(s) {
			t.Errorf("Fixed(%g, 0) = %q: not plain fixed-point", v, s)
		}
		if back, err := strconv.ParseFloat(s, 64); err != nil || back != v {
			t.Errorf("Fixed(%g, 0) = %q reads back as %g", v, s, back)
		}
	}
	for _, c := range []struct {
		v    float64
		sig  int
		want string
	}{{0.000123456789, 3, "0.000123"}, {123456.7, 3, "123457"}, {1.5, 6, "1.50000"}, {-0.01, 2, "-0.010"}, {math.NaN(), 3, ""}, {math.Inf(1), 0, ""}} {
		if got := Fixed(c.v, c.sig); got != c.want {
			t.Errorf("Fixed(%g, %d) = %q, want %q", c.v, c.sig, got, c.want)
		}
	}
}

// TestSummarize builds a sweep directory by hand: one finished trial, one
// interrupted after an epoch, one failed and one not started.
func TestSummarize(t *testing.T) {
	dir := t.TempDir()
	g, err := Parse([]byte("preset: seed\ngrid: {lr: [0.1, 0.01, 0.001, 0.0001]}\n"), "g.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := g.Trials()
	m := NewManifest(g, ts)
	if err := WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	if err := WriteManifest(dir, m); err != nil {
		t.Fatalf("rewriting the same manifest: %v", err)
	}
	g2, _ := Parse([]byte("preset: seed\ngrid: {lr: [0.5]}\n"), "g.yaml")
	ts2, _ := g2.Trials()
	if err := WriteManifest(dir, NewManifest(g2, ts2)); !errors.Is(err, ErrOtherSweep) {
		t.Errorf("another grid's manifest: %v", err)
	}
	for i, tr := range ts[:3] {
		d := filepath.Join(dir, tr.Name)
		os.MkdirAll(d, 0o755)
		h := []train.EpochStats{{Epoch: 1, TrainLoss: 2.5, ValLoss: 2.25, Elapsed: 0.5}, {Epoch: 2, TrainLoss: 1.5e-7, ValLoss: 1.25, Elapsed: 1}}
		if err := train.WriteMetrics(filepath.Join(d, train.MetricsFile), h[:2-min(i, 1)]); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, ts[0].Name, train.SummaryFile), []byte(`{"epochs": 2, "best_epoch": 2, "best_val_loss": 1.25, "elapsed_s": 1,
		"eval": {"methods": {"network": {"loss": 3, "gap": 0.0625, "gap_mean": 0.0000125, "gap_p95": 0.5}, "optimal": {"loss": 2}}}}`), 0o644)
	os.WriteFile(filepath.Join(dir, ts[2].Name, FailedFile), []byte("diverged\n"), 0o644)
	tab, err := Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	var csvB, md, lines bytes.Buffer
	tab.WriteCSV(&csvB)
	tab.WriteMarkdown(&md)
	tab.WriteMetricLines(&lines)
	wantCSV := "trial,lr,status,epochs,best_epoch,best_val_loss,train_loss,val_loss,elapsed_s,loss,optimal_loss,gap,gap_mean,gap_p95\n" +
		"000-lr_0.1,0.1,done,2,2,1.25,0.00000015,1.25,1,3,2,0.0625,0.0000125,0.5\n" +
		"001-lr_0.01,0.01,partial,1,,,2.5,2.25,0.5,,,,,\n" +
		"002-lr_0.001,0.001,failed,1,,,2.5,2.25,0.5,,,,,\n" +
		"003-lr_0.0001,0.0001,pending,,,,,,,,,,,\n"
	if csvB.String() != wantCSV {
		t.Errorf("CSV:\n%s\nwant\n%s", csvB.String(), wantCSV)
	}
	if !strings.Contains(md.String(), "| 000-lr_0.1 | 0.1 | done | 2 | 2 | 1.25000 | 0.000000150000 |") {
		t.Errorf("Markdown:\n%s", md.String())
	}
	if !strings.Contains(lines.String(), "000-lr_0.1: status done epochs=2 best_epoch=2 best_val_loss=1.25 train_loss=0.00000015") ||
		strings.ContainsAny(lines.String(), "eE") && regexp.MustCompile(`=[0-9.]*[eE]`).MatchString(lines.String()) {
		t.Errorf("metric lines:\n%s", lines.String())
	}
	if c := tab.Counts(); c[StatusDone] != 1 || c[StatusPartial] != 1 || c[StatusFailed] != 1 || c[StatusPending] != 1 {
		t.Errorf("counts %v", c)
	}
	// Without the manifest the run directories are found by scanning.
	os.Remove(filepath.Join(dir, ManifestFile))
	for _, tr := range ts[:2] {
		train.WriteConfig(filepath.Join(dir, tr.Name, train.ConfigFile), &tr.Config)
	}
	tab, err = Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 2 || !slices.Equal(tab.Keys, []string{"lr"}) || tab.Rows[1].Settings[0].Value != "0.01" || tab.Rows[0].Status != StatusDone {
		t.Errorf("scanned table: %+v", tab)
	}
	if _, err := Summarize(t.TempDir()); err == nil {
		t.Error("an empty directory was summarised")
	}
}

// TestHeaderUnique checks that a grid over a key named like a metric
// (epochs, loss) gives no two columns of one name.
func TestHeaderUnique(t *testing.T) {
	tab := &Table{Keys: []string{"epochs", "loss", "lr"}}
	h := tab.header()
	seen := map[string]bool{}
	for _, c := range h {
		if seen[c] {
			t.Errorf("column %q twice in %v", c, h)
		}
		seen[c] = true
	}
	if !seen["config.epochs"] || !seen["config.loss"] || !seen["lr"] || !seen["epochs"] {
		t.Errorf("header %v", h)
	}
}
