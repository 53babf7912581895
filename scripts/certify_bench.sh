#!/bin/sh
# Certification benchmark (docs/BENCHMARKS.md, "Certification"): for a trained
# spectral-loss run, on ROWS held-out inputs uniform in [0, N) (the notebook
# distribution, drawn with Python's random.seed(SEED), not the training stream),
# one thread each:
#   1. the exact solver on every row          (matapprox optimal -input)
#   2. the network alone                      (matapprox approx)
#   3. the network, certified                 (matapprox approx -certify, .jsonl)
#   4. the network, certified, -max-gap 0.01  (matapprox approx -max-gap 0.01)
#   5. the network's own answers certified    (matapprox approx -certify -polish=false)
# and prints CPU seconds per step and, for 3 to 5, the certified gaps against
# the true gaps of the same output rows (true gap from step 1's optimum).
#
# usage: scripts/certify_bench.sh RUN N K K' ROWS [SEED]
#   e.g. scripts/certify_bench.sh runs/spectral 11 5 3 10000
#        scripts/certify_bench.sh runs/spectral-32 32 15 7 1000
set -e
RUN=$1 N=$2 K=$3 KP=$4 ROWS=$5 SEED=${6:-7}
B=${MATAPPROX:-matapprox}
D=$(mktemp -d)
export GOMAXPROCS=1
python3 - "$D/in.csv" "$N" "$K" "$ROWS" "$SEED" <<'PY'
import random, sys
path, n, k, rows, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
random.seed(seed)
with open(path, "w") as f:
    for _ in range(rows):
        f.write(",".join("%.6f" % (random.random() * n) for _ in range(2 * k + 1)) + "\n")
PY
t() { /usr/bin/time -f "  %U s CPU (%e s wall)" "$@"; }
echo "1. exact solver on every row"; t $B optimal -loss spectral -input "$D/in.csv" -n "$N" -out-band "$KP" -output "$D/opt.jsonl"
echo "2. network alone";             t $B approx -model "$RUN" -input "$D/in.csv" -output "$D/net.csv"
echo "3. -certify";                  t $B approx -model "$RUN" -input "$D/in.csv" -output "$D/cert.jsonl"
echo "4. -max-gap 0.01";             t $B approx -model "$RUN" -input "$D/in.csv" -output "$D/max.jsonl" -max-gap 0.01
echo "5. -certify -polish=false";    t $B approx -model "$RUN" -input "$D/in.csv" -output "$D/raw.jsonl" -polish=false
python3 - "$D" <<'PY'
import json, sys
d = sys.argv[1]
opt = [json.loads(l)["spectral"] for l in open(d + "/opt.jsonl")]
for name in ("raw", "cert", "max"):
    rows = [json.loads(l) for l in open("%s/%s.jsonl" % (d, name))]
    cg = sorted(r["certified_gap"] for r in rows)
    tg = [max(0.0, (r["value"] - o) / r["value"]) if r["value"] > 0 else 0.0 for r, o in zip(rows, opt)]
    bad = sum(r["lower_bound"] > o * (1 + 1e-9) for r, o in zip(rows, opt))
    n = len(rows)
    print("%s: %d rows, %d fallbacks (%.2f%%); certified gap mean %.4g%% median %.4g%% p95 %.4g%% max %.4g%%; "
          "true gap of the output mean %.4g%% max %.4g%%; certified/true %.3g; bounds above the optimum: %d"
          % (name, n, sum(r["fallback"] for r in rows), 100.0 * sum(r["fallback"] for r in rows) / n,
             100 * sum(cg) / n, 100 * cg[n // 2], 100 * cg[int(0.95 * n)], 100 * cg[-1],
             100 * sum(tg) / n, 100 * max(tg), sum(cg) / max(sum(tg), 1e-300), bad))
PY
rm -r "$D"
