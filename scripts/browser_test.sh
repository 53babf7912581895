#!/usr/bin/env bash
# browser_test.sh REPORT.html — load a report in headless Chromium, offline,
# and fail unless the page loads without errors and every <img> decodes
# (naturalWidth > 0).
#
# The script injects a probe into a copy of the page, at the start of
# <head>: it records window errors (including resources that fail to load)
# and console.error/console.warn calls, and on the load event writes the
# verdict to <body data-browser-test="pass|fail: ...">. Chromium dumps the
# DOM after the load event (--dump-dom) and the verdict is read from it.
# Network access is disabled, so any external reference fails the test.
#
# Environment: CHROMIUM (default: chromium, chromium-browser or
# google-chrome from PATH). Exit status 0 on pass, 1 on failure, 2 on usage
# or setup errors.
set -euo pipefail

if [[ $# -ne 1 || ! -f $1 ]]; then
	echo "usage: $0 REPORT.html" >&2
	exit 2
fi
report=$1

chrome=${CHROMIUM:-}
if [[ -z $chrome ]]; then
	for c in chromium chromium-browser google-chrome google-chrome-stable; do
		if command -v "$c" >/dev/null 2>&1; then
			chrome=$(command -v "$c")
			break
		fi
	done
fi
if [[ -z $chrome ]]; then
	echo "browser_test: no chromium found (set CHROMIUM)" >&2
	exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/probe.html" <<'PROBE'
<script>
(function () {
  var problems = [];
  function note(kind, args) {
    var parts = [];
    for (var i = 0; i < args.length; i++) { parts.push(String(args[i])); }
    problems.push(kind + ": " + parts.join(" "));
  }
  var origError = console.error, origWarn = console.warn;
  console.error = function () { note("console.error", arguments); return origError.apply(console, arguments); };
  console.warn = function () { note("console.warn", arguments); return origWarn.apply(console, arguments); };
  // Capture phase: also sees resources (img, link, script) that fail to load.
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) {
      problems.push("failed to load " + t.tagName + " " + String(t.src || t.href).slice(0, 80));
    } else {
      problems.push("error: " + (e.message || "unknown"));
    }
  }, true);
  window.addEventListener("unhandledrejection", function (e) { problems.push("unhandled rejection: " + e.reason); });
  window.addEventListener("load", function () {
    var imgs = document.images;
    for (var i = 0; i < imgs.length; i++) {
      if (!imgs[i].complete || imgs[i].naturalWidth === 0) {
        problems.push("image " + i + " (" + (imgs[i].alt || "no alt") + ") did not decode");
      }
    }
    var verdict = problems.length === 0 ? "pass" : "fail: " + problems.join("; ");
    document.body.setAttribute("data-browser-test", verdict);
    document.body.setAttribute("data-browser-images", String(imgs.length));
  });
})();
</script>
PROBE

if ! grep -q '<head>' "$report"; then
	echo "browser_test: $report has no <head>" >&2
	exit 1
fi
# Insert the probe after the first line holding <head>.
awk -v probe="$work/probe.html" '
	{ print }
	!done && /<head>/ { while ((getline line < probe) > 0) print line; done = 1 }
' "$report" >"$work/page.html"

set +e
"$chrome" --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run --disable-extensions \
	--user-data-dir="$work/profile" --host-resolver-rules="MAP * ~NOTFOUND" \
	--virtual-time-budget=10000 --dump-dom "file://$work/page.html" \
	>"$work/dom.html" 2>"$work/stderr.txt"
status=$?
set -e
if [[ $status -ne 0 ]]; then
	echo "browser_test: chromium exited with status $status" >&2
	tail -n 20 "$work/stderr.txt" >&2
	exit 1
fi

verdict=$(grep -o 'data-browser-test="[^"]*"' "$work/dom.html" | head -n 1 | sed 's/^data-browser-test="//; s/"$//')
images=$(grep -o 'data-browser-images="[0-9]*"' "$work/dom.html" | head -n 1 | tr -dc '0-9')
if [[ -z $verdict ]]; then
	echo "browser_test: FAIL: $report: the load event never ran (no verdict in the dumped DOM)" >&2
	tail -n 20 "$work/stderr.txt" >&2
	exit 1
fi
if [[ $verdict != pass ]]; then
	echo "browser_test: FAIL: $report: $verdict" >&2
	exit 1
fi
echo "browser_test: PASS: $report (${images:-0} images)"
