package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/structure"
)

// writeInput writes rows random notebook-like generators of band (N=2K+1, K)
// to dir/name (.csv or .npy) and returns the path and the rows.
func writeInput(t *testing.T, dir, name string, rows, k int, seed uint64) (string, *data.Set) {
	t.Helper()
	b := structure.Band{N: 2*k + 1, K: k}
	g, _ := data.GeneratorByName("notebook", b)
	s := data.Generate(g, b, rows, rand.New(rand.NewPCG(seed, 7)))
	p := filepath.Join(dir, name)
	if err := data.WriteFile(p, s); err != nil {
		t.Fatal(err)
	}
	return p, s
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
	}
	return out
}

// TestOptimalBatchMatchesSingle checks that every record of the batch mode
// has exactly the fields and values of `optimal -json` for that row.
func TestOptimalBatchMatchesSingle(t *testing.T) {
	dir := t.TempDir()
	in, set := writeInput(t, dir, "in.csv", 3, 5, 1)
	for _, l := range []string{"probe", "frobenius", "spectral"} {
		out := filepath.Join(dir, l+".jsonl")
		mustRun(t, "optimal", "-loss", l, "-out-band", "3", "-input", in, "-output", out)
		lines := strings.Split(strings.TrimSuffix(string(readFile(t, out)), "\n"), "\n")
		if len(lines) != set.Rows {
			t.Fatalf("%s: %d records for %d rows", l, len(lines), set.Rows)
		}
		for i, line := range lines {
			var got, want map[string]any
			if err := json.Unmarshal([]byte(line), &got); err != nil {
				t.Fatalf("%s record %d: %v", l, i, err)
			}
			row := make([]string, set.Dim)
			for j, v := range set.Row(i) {
				row[j] = fmt.Sprint(v)
			}
			single := mustRun(t, "optimal", "-loss", l, "-out-band", "3", "-matrix", strings.Join(row, ","), "-json")
			if err := json.Unmarshal([]byte(single), &want); err != nil {
				t.Fatal(err)
			}
			gk, wk := keys(got), keys(want)
			if !slices.Equal(gk, wk) {
				t.Fatalf("%s record %d has fields %v, optimal -json %v", l, i, gk, wk)
			}
			for _, k := range wk {
				if !closeJSON(got[k], want[k]) {
					t.Errorf("%s record %d: %s = %v, optimal -json says %v", l, i, k, got[k], want[k])
				}
			}
		}
	}
}

func keys(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	slices.Sort(k)
	return k
}

// closeJSON compares JSON values; numbers to 1e-9 relative (the relative gap
// of a spectral solve, itself about 1e-9, absolutely).
func closeJSON(a, b any) bool {
	switch av := a.(type) {
	case float64:
		bv, ok := b.(float64)
		return ok && math.Abs(av-bv) <= 1e-9*math.Max(1, math.Max(math.Abs(av), math.Abs(bv)))
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !closeJSON(av[i], bv[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// TestOptimalBatchShardsMerge splits CSV and .npy inputs into shards whose
// boundaries fall inside SolveBatch chunks, merges them in reverse order and
// compares with the unsharded output; the output must not depend on
// GOMAXPROCS, and a shard run twice gives the same bytes.
func TestOptimalBatchShardsMerge(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, loss string
		rows, n    int
	}{
		{"in.csv", "probe", 600, 7},   // chunks of 256 rows cut by shards
		{"in.npy", "frobenius", 5, 8}, // more shards than rows
		{"sp.csv", "spectral", 4, 3},
	} {
		in, _ := writeInput(t, dir, c.name, c.rows, 5, uint64(c.rows))
		plain := filepath.Join(dir, c.name+".jsonl")
		args := []string{"optimal", "-loss", c.loss, "-out-band", "3", "-input", in}
		prev := runtime.GOMAXPROCS(1)
		mustRun(t, append(args, "-output", plain+".1")...)
		runtime.GOMAXPROCS(max(prev, 3))
		mustRun(t, append(args, "-output", plain)...)
		runtime.GOMAXPROCS(prev)
		if !bytes.Equal(readFile(t, plain), readFile(t, plain+".1")) {
			t.Fatalf("%s: the output depends on GOMAXPROCS", c.name)
		}
		var parts []string
		for i := c.n - 1; i >= 0; i-- {
			p := filepath.Join(dir, fmt.Sprintf("%s.part%d", c.name, i))
			mustRun(t, append(args, "-output", p, "-shard", fmt.Sprintf("%d/%d", i, c.n))...)
			parts = append(parts, p)
		}
		again := parts[0] + ".again"
		mustRun(t, append(args, "-output", again, "-shard", fmt.Sprintf("%d/%d", c.n-1, c.n))...)
		if !bytes.Equal(readFile(t, again), readFile(t, parts[0])) {
			t.Errorf("%s: a shard run twice gives different bytes", c.name)
		}
		merged := filepath.Join(dir, c.name+".merged")
		mustRun(t, append([]string{"merge", "-output", merged}, parts...)...)
		if !bytes.Equal(readFile(t, merged), readFile(t, plain)) {
			t.Errorf("%s: the merge of %d shards differs from the unsharded output", c.name, c.n)
		}
	}
}

func TestOptimalBatchErrors(t *testing.T) {
	dir := t.TempDir()
	in, _ := writeInput(t, dir, "in.csv", 4, 5, 3)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	out := filepath.Join(dir, "out.jsonl")
	part := func(i int, extra ...string) string {
		p := filepath.Join(dir, fmt.Sprintf("p%d.jsonl", i))
		mustRun(t, append([]string{"optimal", "-out-band", "3", "-input", in, "-output", p, "-shard", fmt.Sprintf("%d/3", i)}, extra...)...)
		return p
	}
	p0, p1, p2 := part(0), part(1), part(2)
	p1b := filepath.Join(dir, "p1b.jsonl")
	mustRun(t, "optimal", "-out-band", "2", "-input", in, "-output", p1b, "-shard", "1/3")
	emptyNPY := filepath.Join(dir, "empty.npy")
	if f, err := os.Create(emptyNPY); err == nil {
		w, _ := data.NewNPYWriter(f, 0, 3)
		w.Close()
		f.Close()
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"optimal", "-out-band", "3", "-input", in}, 2, "both -input FILE and -output"},
		{[]string{"optimal", "-out-band", "3", "-output", out}, 2, "both -input FILE and -output"},
		{[]string{"optimal", "-input", in, "-output", out}, 2, "-out-band is required"},
		{[]string{"optimal", "-input", in, "-output", out, "-out-band", "-1"}, 2, "-out-band -1: want a half-bandwidth K' >= 0"},
		{[]string{"optimal", "-matrix", "1,2,3", "-out-band", "-1"}, 2, "-out-band -1: want a half-bandwidth K' >= 0"},
		{[]string{"optimal", "-out-band", "3", "-input", in, "-output", out, "-matrix", "1,2,3"}, 2, "not both"},
		{[]string{"optimal", "-out-band", "3", "-input", in, "-output", in}, 2, "overwrite the input"},
		{[]string{"optimal", "-out-band", "3", "-input", in, "-output", out, "-shard", "3/3"}, 2, "numbered from 1?"},
		{[]string{"optimal", "-out-band", "3", "-input", in, "-output", out, "-shard", "/3"}, 2, "index is empty"},
		{[]string{"optimal", "-out-band", "3", "-input", in, "-output", out, "-loss", "l1"}, 2, "loss"},
		{[]string{"optimal", "-out-band", "6", "-input", in, "-output", out}, 2, "out-band"},
		{[]string{"optimal", "-out-band", "3", "-input", filepath.Join(dir, "none.csv"), "-output", out}, 1, "no such file"},
		{[]string{"optimal", "-out-band", "3", "-input", write("x.txt", "1"), "-output", out}, 2, ".csv or .npy"},
		{[]string{"optimal", "-out-band", "0", "-input", write("even.csv", "1,2\n"), "-output", out}, 2, "odd"},
		{[]string{"optimal", "-out-band", "1", "-input", write("ragged.csv", "1,2,3\n1,2\n"), "-output", out}, 2, "ragged.csv:2"},
		{[]string{"optimal", "-out-band", "1", "-input", write("ragged.csv", "1,2,3\n1,2\n"), "-output", out, "-shard", "0/2"}, 2, "ragged.csv:2"},
		{[]string{"optimal", "-out-band", "1", "-input", write("empty.csv", "# nothing\n"), "-output", out}, 2, "no data rows"},
		{[]string{"optimal", "-out-band", "1", "-input", emptyNPY, "-output", out, "-shard", "0/2"}, 2, "no data rows"},
		{[]string{"optimal", "-out-band", "1", "-input", emptyNPY, "-output", out}, 2, "no data rows"},
		{[]string{"merge", "-output", out}, 2, "no part files"},
		{[]string{"merge", p0, p1}, 2, "-output is required"},
		{[]string{"merge", "-output", out, p0, "-x"}, 2, "flags go before"},
		{[]string{"merge", "-output", p0, p0, p1, p2}, 2, "is one of the parts"},
		{[]string{"merge", "-output", out, p0, p2}, 1, "shard 1 is missing (run them with -shard 1/3"},
		{[]string{"merge", "-output", out, p0, p1, p1, p2}, 1, "both hold shard 1/3"},
		{[]string{"merge", "-output", out, p0, p1b, p2}, 1, `out-band "2", not "3"`},
		{[]string{"merge", "-output", out, p0, in, p2}, 1, "not a part-file line"},
	}
	for _, c := range cases {
		code, _, errs := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) || strings.Contains(errs, "goroutine") {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", c.args, code, c.code, errs, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed command left an output file behind")
	}
}
