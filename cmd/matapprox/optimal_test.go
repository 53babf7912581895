package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestOptimalStopShort: a certified answer that stops short of the
// tolerance is printed with its gap and a warning, exit 0.
func TestOptimalStopShort(t *testing.T) {
	code, out, errs := runCLI(t, "optimal", "-loss", "spectral", "-matrix", "0,1,2,3,4,5,6,7,8,9,10", "-out-band", "3", "-tol", "1e-15", "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "warning") || !strings.Contains(errs, "short of the tolerance") {
		t.Errorf("no warning on stderr: %q", errs)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatal(err)
	}
	gap, _ := obj["relative_gap"].(float64)
	if !(gap > 0 && gap < 1e-8) {
		t.Errorf("relative_gap = %v", obj["relative_gap"])
	}
	lb, _ := obj["lower_bound"].(float64)
	v, _ := obj["spectral"].(float64)
	if !(lb <= v && lb > 0) {
		t.Errorf("lower %v, spectral %v", lb, v)
	}
}

// TestOptimalHugeEntries: entries at the top of the float64 range are a
// clear error or an answer, never a crash.
func TestOptimalHugeEntries(t *testing.T) {
	code, _, errs := runCLI(t, "optimal", "-loss", "spectral", "-matrix", "1.7976931348623157e308,0,1,2,1,0,1.7976931348623157e308", "-out-band", "1", "-n", "9")
	if code != 0 && !strings.Contains(errs, "not representable") && !(code == 2 && strings.Contains(errs, "below 2^1023")) {
		t.Errorf("exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, "optimal", "-loss", "spectral", "-matrix", "1,2,3,4", "-out-band", "0"); code != 2 || !strings.Contains(errs, "odd") {
		t.Errorf("even entry count: exit %d, %s", code, errs)
	}
}

// TestOptimalSymbol: -symbol prints a certified sandwich of opt_∞ and of
// opt_N at any N, with no N×N matrix.
func TestOptimalSymbol(t *testing.T) {
	code, out, errs := runCLI(t, "optimal", "-loss", "spectral", "-symbol", "-matrix", "0,1,2,3,4,5,6,7,8,9,10", "-out-band", "3", "-n", "100000", "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var obj map[string]float64
	if err := json.Unmarshal([]byte(strings.ReplaceAll(out, `"loss": "spectral",`, "")), &struct{}{}); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	obj = map[string]float64{}
	for k, v := range raw {
		if f, ok := v.(float64); ok {
			obj[k] = f
		}
	}
	if !(obj["lower_n"] <= obj["lower_inf"] && obj["lower_inf"] <= obj["upper_inf"]) || obj["relative_gap_n"] > 1e-6 {
		t.Errorf("sandwich out of order or loose: %v", obj)
	}
	if code, _, errs := runCLI(t, "optimal", "-loss", "probe", "-symbol", "-matrix", "1,2,3", "-out-band", "0"); code != 2 {
		t.Errorf("-symbol with the probe loss: exit %d, %s", code, errs)
	}
	if code, _, errs := runCLI(t, "optimal", "-loss", "spectral", "-method", "simplex", "-matrix", "1,2,3", "-out-band", "0"); code != 2 {
		t.Errorf("unknown -method: exit %d, %s", code, errs)
	}
}

// TestOptimalLargeN: above the configuration's N limit the spectral optimum
// comes from the banded solver alone, certified; absurd sizes are refused
// by the memory estimate before anything is allocated, and the SDP is
// refused there.
func TestOptimalLargeN(t *testing.T) {
	code, out, errs := runCLI(t, "optimal", "-loss", "spectral", "-matrix", "1,-2,3,5,2,-1,4", "-out-band", "1", "-n", "20000", "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatal(err)
	}
	gap, _ := obj["relative_gap"].(float64)
	lb, _ := obj["lower_bound"].(float64)
	v, _ := obj["spectral"].(float64)
	if !(gap >= 0 && gap <= 1e-8) || !(lb > 0 && lb <= v) || obj["probe_loss"] != nil || obj["n"] != 20000.0 {
		t.Errorf("got %v", obj)
	}
	if code, _, errs := runCLI(t, "optimal", "-loss", "spectral", "-matrix", "1,-2,3,5,2,-1,4", "-out-band", "1", "-n", "1000000000000"); code != 2 || !strings.Contains(errs, "memory") {
		t.Errorf("N = 10¹²: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, "optimal", "-loss", "spectral", "-matrix", "1,-2,3,5,2,-1,4", "-out-band", "1", "-n", "5000", "-method", "sdp"); code != 2 || !strings.Contains(errs, "banded") {
		t.Errorf("-method sdp at N = 5000: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, "optimal", "-loss", "probe", "-matrix", "1,-2,3,5,2,-1,4", "-out-band", "1", "-n", "5000"); code != 2 {
		t.Errorf("probe loss at N = 5000: exit %d: %s", code, errs)
	}
}
