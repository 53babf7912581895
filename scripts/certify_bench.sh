#!/bin/sh
# Certification benchmark (docs/BENCHMARKS.md, "Certification"), no Python:
# for a trained spectral-loss run it
#   1. measures issue 13's goals with bench/certify on ROWS held-out rows
#      (the run's generator, seed 2026): the certifier's CPU per row by
#      outcome, fallbacks, the certified gap distribution, and on the first
#      EXACT rows the exact solver's rate, true gaps and certified ÷ true;
#   2. times the CLI on the first CLI_ROWS of the same rows, one thread each
#      (CPU seconds from /usr/bin/time):
#        matapprox optimal -input (the exact solver on every row)
#        matapprox approx -max-gap 0.01 (.jsonl output)
#      as a cross-check of step 1's in-process figures.
#
# usage: scripts/certify_bench.sh RUN ROWS EXACT [CLI_ROWS]
#   e.g. scripts/certify_bench.sh runs/spectral    1000000 5000 2000
#        scripts/certify_bench.sh runs/spectral-32   20000 1000  300
# The runs come from: matapprox train -preset spectral -out runs/spectral
#                     matapprox train -preset spectral-32 -out runs/spectral-32
# MATAPPROX names the matapprox binary (default: go build into the temp dir).
# WORKERS (default 1) certifies on that many threads in step 1.
set -e
RUN=$1 ROWS=$2 EXACT=$3 CLI_ROWS=${4:-0}
D=$(mktemp -d)
trap 'rm -r "$D"' EXIT
export GOMAXPROCS=${WORKERS:-1}
go build -o "$D/certify" ./bench/certify
B=${MATAPPROX:-}
if [ -z "$B" ]; then
	go build -o "$D/matapprox" ./cmd/matapprox
	B=$D/matapprox
fi
date -u
uptime
W=""
[ "$CLI_ROWS" -gt 0 ] && W="-write-input $D/all.csv"
"$D/certify" -model "$RUN" -rows "$ROWS" -exact "$EXACT" -max-gap 0.01 -workers "${WORKERS:-1}" $W
if [ "$CLI_ROWS" -gt 0 ]; then
	export GOMAXPROCS=1
	head -n "$CLI_ROWS" "$D/all.csv" > "$D/in.csv"
	KP=$(sed -n 's/^out-band: *//p' "$RUN/config.yaml")
	N=$(sed -n 's/^n: *//p' "$RUN/config.yaml")
	t() { /usr/bin/time -f "  %U s user CPU, %e s wall" "$@"; }
	echo "CLI on the first $CLI_ROWS rows:"
	echo "matapprox optimal -input (exact solver on every row)"
	t "$B" optimal -loss spectral -input "$D/in.csv" -n "$N" -out-band "$KP" -output "$D/opt.jsonl" -quiet
	echo "matapprox approx -max-gap 0.01"
	t "$B" approx -model "$RUN" -input "$D/in.csv" -output "$D/max.jsonl" -max-gap 0.01 -quiet
fi
uptime
