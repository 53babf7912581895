package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/train"
)

// approx -certify and -max-gap: every row of a .jsonl output carries its
// certificate, CSV outputs get the side file, and -max-gap holds.
func TestApproxCertify(t *testing.T) {
	for _, lossName := range []string{"probe", "spectral"} {
		dir := filepath.Join(t.TempDir(), "run")
		quickTrain(t, dir, "-loss", lossName)
		tmp := t.TempDir()
		in := filepath.Join(tmp, "in.csv")
		var sb strings.Builder
		sb.WriteString("0,0,0,1,2,4,2,1,0,0,0\n")
		for i := 0; i < 15; i++ {
			for j := 0; j < 11; j++ {
				if j > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString(strconv.Itoa((i*7 + j*j*3) % 11))
			}
			sb.WriteByte('\n')
		}
		os.WriteFile(in, []byte(sb.String()), 0o644)
		jl := filepath.Join(tmp, "out.jsonl")
		code, out, errs := runCLI(t, "approx", "-model", dir, "-input", in, "-output", jl, "-max-gap", "0.01")
		if code != 0 {
			t.Fatalf("%s: approx -max-gap: %s", lossName, errs)
		}
		if !strings.Contains(out, "certified 16 rows") || !strings.Contains(out, "re-solved by the exact solver") {
			t.Errorf("%s: summary %q", lossName, out)
		}
		f, err := os.Open(jl)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		rows := 0
		for sc.Scan() {
			var r jsonRow
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: line %d: %v", lossName, rows+1, err)
			}
			rows++
			if len(r.Generator) != 7 || !(r.LowerBound <= r.Value) || r.CertifiedGap > 0.01 {
				t.Errorf("%s: row %d: %+v", lossName, rows, r)
			}
			if r.Value > 0 && math.Abs(r.CertifiedGap-(r.Value-r.LowerBound)/r.Value) > 1e-12 {
				t.Errorf("%s: row %d: gap %v inconsistent", lossName, rows, r.CertifiedGap)
			}
		}
		f.Close()
		if rows != 16 {
			t.Errorf("%s: %d rows in the .jsonl output, want 16", lossName, rows)
		}
		// CSV with the side file.
		csvOut := filepath.Join(tmp, "out.csv")
		if code, _, errs := runCLI(t, "approx", "-model", dir, "-input", in, "-output", csvOut, "-certify"); code != 0 {
			t.Fatalf("%s: approx -certify csv: %s", lossName, errs)
		}
		s, err := data.ReadFile(csvOut)
		if err != nil || s.Rows != 16 || s.Dim != 7 {
			t.Fatalf("%s: generators: %v %+v", lossName, err, s)
		}
		side, err := os.ReadFile(certSideFile(csvOut))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(side)), "\n")
		if len(lines) != 17 || lines[0] != "value,lower_bound,certified_gap,fallback" {
			t.Fatalf("%s: side file has %d lines, header %q", lossName, len(lines), lines[0])
		}
		for _, l := range lines[1:] {
			if f := strings.Split(l, ","); len(f) != 4 || (f[3] != "0" && f[3] != "1") {
				t.Errorf("%s: side line %q", lossName, l)
			}
		}
	}
	// Bad -max-gap.
	dir := filepath.Join(t.TempDir(), "run")
	quickTrain(t, dir)
	if code, _, _ := runCLI(t, "approx", "-model", dir, "-input", "x.csv", "-output", "o.jsonl", "-max-gap", "2"); code != 2 {
		t.Errorf("-max-gap 2: exit %d, want 2", code)
	}
}

// A row no float64 answer brings within -max-gap (in-band entries 1e300
// times the rest: the optimum x_I + δ* rounds to x_I) keeps its honest
// certified gap, and approx says so on stdout and stderr instead of
// claiming the guarantee; the other rows keep it.
func TestApproxCertifyUnreachable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	quickTrain(t, dir, "-loss", "spectral")
	tmp := t.TempDir()
	in := filepath.Join(tmp, "in.csv")
	os.WriteFile(in, []byte("1e-300,-2e-300,1,2,3,4,3,2,1,3e-300,1e-300\n3,1,4,1,5,9,2,6,5,3,5\n"), 0o644)
	jl := filepath.Join(tmp, "out.jsonl")
	code, out, errs := runCLI(t, "approx", "-model", dir, "-input", in, "-output", jl, "-max-gap", "0.01")
	if code != 0 {
		t.Fatalf("approx: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "1 rows NOT within 1%") || strings.Contains(out, "every row within") || !strings.Contains(errs, "warning: 1 rows have a certified gap above -max-gap 0.01") {
		t.Errorf("stdout %q\nstderr %q", out, errs)
	}
	b, err := os.ReadFile(jl)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, l := range lines {
		var r jsonRow
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if over := r.CertifiedGap > 0.01; over != (i == 0) || !r.Fallback && i == 0 || !(r.LowerBound <= r.Value) {
			t.Errorf("row %d: %+v", i+1, r)
		}
	}
}

// TestApproxRunDirAtOtherN checks that -n applies a run directory's model
// at that size, as it does for the bare model file: the certificates of
// both agree, and differ from those at the training size.
func TestApproxRunDirAtOtherN(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "run")
	quickTrain(t, dir)
	in := filepath.Join(tmp, "in.csv")
	if err := os.WriteFile(in, []byte("1,2,3,4,5,6,7,8,9,10,11\n3,1,4,1,5,9,2,6,5,3,5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := func(model string, n ...string) string {
		o := filepath.Join(tmp, fmt.Sprintf("o%d.jsonl", len(n)))
		args := append([]string{"approx", "-model", model, "-input", in, "-output", o, "-certify", "-quiet"}, n...)
		if code, _, errs := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		return string(readFile(t, o))
	}
	dirAt22, bareAt22, at11 := out(dir, "-n", "22"), out(filepath.Join(dir, "model.safetensors"), "-n", "22"), out(dir)
	if dirAt22 != bareAt22 {
		t.Errorf("-n 22: the run directory gives\n%s\nthe bare model file\n%s", dirAt22, bareAt22)
	}
	if dirAt22 == at11 {
		t.Errorf("-n 22 on a run directory was ignored:\n%s", dirAt22)
	}
	if code, _, errs := runCLI(t, "approx", "-model", dir, "-input", in, "-output", filepath.Join(tmp, "x.csv"), "-n", "3"); code != 2 || !strings.Contains(errs, "-n 3") {
		t.Errorf("-n 3 (narrower than the band): exit %d, %s", code, errs)
	}
}

// eval -certify prints the certified gaps against the true ones; -max-gap
// implies it and holds every answer within the gap.
func TestEvalCertify(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	quickTrain(t, dir, "-loss", "spectral")
	for _, args := range [][]string{{"-certify"}, {"-max-gap", "0.01"}} {
		code, out, errs := runCLI(t, append([]string{"eval", "-model", dir, "-count", "20", "-quiet"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		if !strings.Contains(out, "certified 20 network answers") || !strings.Contains(out, "certified/true") || !strings.Contains(out, "certified gap histogram:") {
			t.Errorf("%v: output %q", args, out)
		}
		if args[0] == "-max-gap" {
			j := strings.Index(out, "certified 20 network answers")
			i := strings.Index(out[j:], ", max ")
			var maxGap float64
			if i < 0 {
				t.Fatalf("no max in %q", out)
			}
			i += j + 2
			if _, err := fmt.Sscanf(out[i:], "max %g%%", &maxGap); err != nil || maxGap > 1 {
				t.Errorf("-max-gap 0.01: max certified gap %v%% (%v)", maxGap, err)
			}
		}
	}
	if code, _, _ := runCLI(t, "eval", "-model", dir, "-count", "2", "-max-gap", "1"); code != 2 {
		t.Errorf("-max-gap 1: exit %d, want 2", code)
	}
}

// approx -dual-cache: bad values are usage errors, a cache beyond
// -max-memory is refused before any work, and -dual-cache 0 certifies
// every row on its own with the same guarantee.
func TestApproxDualCacheFlag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	quickTrain(t, dir, "-loss", "spectral")
	tmp := t.TempDir()
	in := filepath.Join(tmp, "in.csv")
	os.WriteFile(in, []byte("0,0,0,1,2,4,2,1,0,0,0\n3,1,4,1,5,9,2,6,5,3,5\n"), 0o644)
	out := filepath.Join(tmp, "out.jsonl")
	for _, v := range []string{"-1", "4194305", "x"} {
		if code, _, _ := runCLI(t, "approx", "-model", dir, "-input", in, "-output", out, "-max-gap", "0.01", "-dual-cache", v); code != 2 {
			t.Errorf("-dual-cache %s: exit %d, want 2", v, code)
		}
	}
	code, _, errs := runCLI(t, "approx", "-model", dir, "-input", in, "-output", out, "-max-gap", "0.01", "-dual-cache", "4194304", "-max-memory", "1MB")
	if code != 2 || !strings.Contains(errs, "dual cache") {
		t.Errorf("huge cache under -max-memory 1MB: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("output written although refused")
	}
	for _, v := range []string{"0", "1000"} {
		code, stdout, errs := runCLI(t, "approx", "-model", dir, "-input", in, "-output", out, "-max-gap", "0.01", "-dual-cache", v)
		if code != 0 || !strings.Contains(stdout, "every row within 1% of the optimum") {
			t.Errorf("-dual-cache %s: exit %d, %q %q", v, code, stdout, errs)
		}
	}
}

// A spectral run keeps the duals its certification of training rows
// found; approx loads them and says so; a damaged file is a warning, and
// the certificates stay valid.
func TestTrainDualsApprox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	quickTrain(t, dir, "-loss", "spectral")
	path := filepath.Join(dir, train.DualsFile)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("spectral run without %s: %v", train.DualsFile, err)
	}
	tmp := t.TempDir()
	in := filepath.Join(tmp, "in.csv")
	os.WriteFile(in, []byte("0,0,0,1,2,4,2,1,0,0,0\n3,1,4,1,5,9,2,6,5,3,5\n"), 0o644)
	out := filepath.Join(tmp, "out.jsonl")
	code, stdout, errs := runCLI(t, "approx", "-model", dir, "-input", in, "-output", out, "-max-gap", "0.01")
	if code != 0 || !strings.Contains(errs, "remembered dual certificates") || !strings.Contains(stdout, "every row within 1% of the optimum") {
		t.Fatalf("approx: exit %d\n%s\n%s", code, stdout, errs)
	}
	if code, _, errs := runCLI(t, "approx", "-model", dir, "-input", in, "-output", out, "-max-gap", "0.01", "-dual-cache", "0"); code != 0 || strings.Contains(errs, "remembered") {
		t.Errorf("-dual-cache 0: exit %d, %q", code, errs)
	}
	os.WriteFile(path, []byte("not a dual file"), 0o644)
	code, stdout, errs = runCLI(t, "approx", "-model", dir, "-input", in, "-output", out, "-max-gap", "0.01")
	if code != 0 || !strings.Contains(errs, "warning: not using the run's remembered duals") || !strings.Contains(stdout, "every row within 1% of the optimum") {
		t.Errorf("damaged duals: exit %d\n%s\n%s", code, stdout, errs)
	}
	// A probe run keeps none.
	pdir := filepath.Join(t.TempDir(), "probe")
	quickTrain(t, pdir)
	if _, err := os.Stat(filepath.Join(pdir, train.DualsFile)); err == nil {
		t.Error("probe run wrote duals")
	}
}

// -precision f32 runs the network in float32: its answers are within
// float32 rounding of the float64 ones and still certified; a precision
// it does not know is a usage error. The answers are compared as the
// network gave them (-certify -polish=false): a polished or re-solved row
// is some point within the gap, which depends on where the polish
// started, not only on float32 rounding.
func TestApproxPrecision(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	quickTrain(t, dir, "-loss", "spectral")
	tmp := t.TempDir()
	in := filepath.Join(tmp, "in.csv")
	os.WriteFile(in, []byte("0,0,0,1,2,4,2,1,0,0,0\n3,1,4,1,5,9,2,6,5,3,5\n"), 0o644)
	if code, _, errs := runCLI(t, "approx", "-model", dir, "-input", in, "-output", filepath.Join(tmp, "x.csv"), "-precision", "f16"); code != 2 || !strings.Contains(errs, "precision") {
		t.Errorf("-precision f16: exit %d, %q", code, errs)
	}
	var outs [2][]float64
	for i, p := range []string{"f64", "f32"} {
		out := filepath.Join(tmp, p+".jsonl")
		code, stdout, errs := runCLI(t, "approx", "-model", dir, "-input", in, "-output", out, "-max-gap", "0.01", "-precision", p)
		if code != 0 || !strings.Contains(stdout, "every row within 1% of the optimum") {
			t.Fatalf("-precision %s: exit %d, %q %q", p, code, stdout, errs)
		}
		code, stdout, errs = runCLI(t, "approx", "-model", dir, "-input", in, "-output", out, "-certify", "-polish=false", "-precision", p)
		if code != 0 || !strings.Contains(stdout, "certified 2 rows") {
			t.Fatalf("-precision %s -polish=false: exit %d, %q %q", p, code, stdout, errs)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var row struct {
				Generator []float64 `json:"generator"`
			}
			if err := json.Unmarshal([]byte(line), &row); err != nil {
				t.Fatal(err)
			}
			outs[i] = append(outs[i], row.Generator...)
		}
	}
	if len(outs[0]) != len(outs[1]) || len(outs[0]) == 0 {
		t.Fatalf("%d and %d numbers", len(outs[0]), len(outs[1]))
	}
	same := true
	for i, v := range outs[0] {
		if d := math.Abs(outs[1][i] - v); d > 1e-4*(1+math.Abs(v)) {
			t.Errorf("entry %d: f32 %v, f64 %v", i, outs[1][i], v)
		}
		same = same && outs[1][i] == v
	}
	if same {
		t.Error("the f32 answers equal the f64 ones bit for bit: -precision had no effect")
	}
}
