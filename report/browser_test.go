package report

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// chromium returns the browser scripts/browser_test.sh will use, or "".
func chromium() string {
	if c := os.Getenv("CHROMIUM"); c != "" {
		return c
	}
	for _, c := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser loads generated reports in headless Chromium through
// scripts/browser_test.sh: the sample report and a degenerate one must load
// without errors with every image decoded, and a report with a corrupted
// image must fail.
func TestBrowser(t *testing.T) {
	c := chromium()
	if c == "" {
		t.Skip("chromium not installed (apt-get install chromium, or set CHROMIUM): browser test skipped")
	}
	script, err := filepath.Abs(filepath.Join("..", "scripts", "browser_test.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(name, page string) (string, error) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", script, path)
		cmd.Env = append(os.Environ(), "CHROMIUM="+c)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	good := render(t, sample(1))
	if out, err := run("sample.html", good); err != nil || !strings.Contains(out, "PASS") || !strings.Contains(out, "(16 images)") {
		t.Errorf("sample report: %v\n%s", err, out)
	}
	if out, err := run("empty.html", render(t, Data{})); err != nil || !strings.Contains(out, "PASS") {
		t.Errorf("empty report: %v\n%s", err, out)
	}
	// Corrupt the first image: keep the PNG signature, cut the rest.
	i := strings.Index(good, "base64,") + len("base64,") + 20
	j := i + strings.Index(good[i:], `"`)
	bad := good[:i] + good[j:]
	if out, err := run("corrupt.html", bad); err == nil || !strings.Contains(out, "did not decode") {
		t.Errorf("corrupted report passed: %v\n%s", err, out)
	}
}
