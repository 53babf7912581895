#!/usr/bin/env python3
"""Training and inference throughput of the notebook's network in PyTorch, for `go run ./bench`.

Usage:
    bench_torch.py SIZE THREADS VARIANT SECONDS [--dtype float32|float64] [--reps R]
    bench_torch.py ISIZE THREADS inference TOTAL [--dtype float32|float64] [--reps R]

SIZE is "notebook" (N 11, K 5->3, MLP 11->100->100->7 tanh, batch 100) or
"scaled" (N 129, K 64->32, MLP 129->512->512->65 tanh, batch 256); the tables
must match bench/sizes.go. VARIANT is one of

  notebook    the notebook's code as written: a Python loop over the samples
              of a batch, each calling Spectral_Loss, which builds X and A with
              torch_row_to_matrix (a Python loop over rows) and sums over the
              probes in a Python list;
  vectorised  the same loss without Python loops: the dense residual X - A of
              every sample by one gather, then one batched matmul with the P
              probes;
  quadratic   the loss as the quadratic form r Q r^T of the residual
              generator r = x - pad(a), Q (L x L) precomputed once.

  inference   the forward pass alone under torch.no_grad(), for an inference
              size ISIZE (n11: 11->100->100->7, n32: 31->256->256->15, tiny:
              5->8->3; the table must match bench/inference.go): TOTAL rows
              in batches of 4096 (16 for tiny) cycled from a pool of 65 536
              (64) rows drawn as the notebook draws them; R timed passes, the
              best reported as rows (matrices) per second.

Every training variant trains with Adagrad (lr 0.25) on shuffled batches of rows drawn
as the notebook draws them (rand(N) * N), the loss summed over the batch.
The script times R segments of at least SECONDS each (after an untimed
warm-up step) and prints one JSON line with the samples per second of each
segment, the best of them, and the fastest single training step (batch
gather, forward, loss, backward, optimizer step), which is robust to other
load on the machine. The thread count is set with
torch.set_num_threads and, before torch is imported, OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS (PyTorch calls the system BLAS for matmuls).
"""

import argparse
import json
import os
import sys
import time

SIZES = {
    "notebook": dict(n=11, k=5, ko=3, hidden=[100, 100], batch=100, train=3000, probes=100),
    "scaled": dict(n=129, k=64, ko=32, hidden=[512, 512], batch=256, train=20480, probes=100),
}
INFER_SIZES = {
    "n11": dict(n=11, k=5, ko=3, hidden=[100, 100], batch=4096, pool=1 << 16),
    "n32": dict(n=32, k=15, ko=7, hidden=[256, 256], batch=4096, pool=1 << 16),
    "tiny": dict(n=6, k=2, ko=1, hidden=[8], batch=16, pool=64),
}
VARIANTS = ("notebook", "vectorised", "quadratic", "inference")


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("size", choices=sorted(SIZES) + sorted(INFER_SIZES))
    p.add_argument("threads", type=int)
    p.add_argument("variant", choices=VARIANTS)
    p.add_argument("seconds", type=float)
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--check", action="store_true", help="compare the three losses on one batch and exit")
    a = p.parse_args()
    if a.threads < 1 or a.seconds <= 0 or a.reps < 1:
        p.error("threads and reps must be positive, seconds > 0")
    if (a.variant == "inference") != (a.size in INFER_SIZES):
        p.error("the inference variant takes an inference size (%s), the others a training size" % ", ".join(sorted(INFER_SIZES)))
    return a


def blas_library():
    """The BLAS shared library this process has mapped (what torch matmuls call)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
        return sorted(libs)
    except OSError:
        return []


def main():
    a = parse()
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    os.environ["OPENBLAS_NUM_THREADS"] = str(a.threads)
    os.environ["MKL_NUM_THREADS"] = str(a.threads)
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    if a.variant == "inference":
        return inference(a, np, torch, rng)
    s = SIZES[a.size]
    N, K, Ko, B, P = s["n"], s["k"], s["ko"], s["batch"], s["probes"]
    L, Lo, pad = 2 * K + 1, 2 * Ko + 1, K - Ko
    dtype = getattr(torch, a.dtype)
    torch.set_default_dtype(dtype)
    if a.variant == "notebook" and L != N:
        sys.exit("the notebook variant needs a generator of length N (N = 2K+1)")

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            layers, prev = [], L
            for h in s["hidden"]:
                layers += [nn.Linear(prev, h), nn.Tanh()]
                prev = h
            layers.append(nn.Linear(prev, Lo))
            self.net = nn.Sequential(*layers)

        def forward(self, x):
            return F.pad(self.net(x), (pad, pad))

    model = NeuralNetwork()
    opt = torch.optim.Adagrad(model.parameters(), lr=0.25)
    Xs = torch.tensor(rng.random((s["train"], L)) * N, dtype=dtype)
    ys = torch.tensor(np.array([rng.random(N) * rng.random() * N for _ in range(P)]), dtype=dtype)

    # The notebook's cells 4 and 6, unchanged but for the device.
    def torch_row_to_matrix(row):
        n = torch.Tensor.size(row, 0)
        k = n // 2
        M = torch.zeros((n, n))
        for i in range(n):
            M[i, max(0, i - k):min(n, k + 1 + i)] = row[max(0, n - (k + i + 1)):min(n + k - i, n)]
        return M

    def loss_fn(target, v):
        X = torch_row_to_matrix(target)
        A = torch_row_to_matrix(v)
        return sum([(torch.linalg.norm(torch.matmul(X, yk) - torch.matmul(A, yk)) ** 2) / (torch.linalg.norm(yk) ** 2) for yk in ys]) / P * s["train"]

    def notebook_loss(batch, vs):
        return sum(loss_fn(batch[i], vs[i]) for i in range(batch.shape[0]))

    # Vectorised: idx[i, j] = K + j - i inside the band, L (a zero slot)
    # outside, so r_ext[:, idx] is the dense X - A of every sample.
    ii = torch.arange(N).unsqueeze(1)
    jj = torch.arange(N).unsqueeze(0)
    dd = K + jj - ii
    idx = torch.where((dd >= 0) & (dd < L), dd, torch.full_like(dd, L)).reshape(-1)
    Yt = ys.t().contiguous()                       # N x P
    inv = 1.0 / (ys * ys).sum(1)                   # P

    def vectorised_loss(batch, vs):
        r = torch.cat([batch - vs, torch.zeros(batch.shape[0], 1)], 1)
        D = r[:, idx].reshape(-1, N, N)            # one gather
        DY = torch.matmul(D, Yt)                   # B x N x P, one batched matmul
        return ((DY * DY).sum(1) * inv).sum() / P * s["train"]

    # Quadratic form: Q = (1/P) sum_p C_p^T C_p / ||y_p||^2 with T(r) y_p =
    # C_p r, C_p[i, d] = y_p[i + d - K]; built once, outside the timing.
    Qn = np.zeros((L, L))
    for y in ys.double().numpy():
        C = np.zeros((N, L))
        for i in range(N):
            for d in range(L):
                if 0 <= i + d - K < N:
                    C[i, d] = y[i + d - K]
        Qn += C.T @ C / (y @ y)
    Q = torch.tensor(Qn / P * s["train"], dtype=dtype)

    def quadratic_loss(batch, vs):
        r = batch - vs
        return ((r @ Q) * r).sum()

    losses = {"notebook": notebook_loss, "vectorised": vectorised_loss, "quadratic": quadratic_loss}
    if a.check:
        # The three losses must agree on the same batch and network.
        with torch.no_grad():
            b = Xs[:min(B, 20)]
            vs = model(b)
            ref = notebook_loss(b, vs).item()
            got = {k: f(b, vs).item() for k, f in losses.items()}
        tol = 1e-4 if dtype == torch.float32 else 1e-10
        bad = {k: v for k, v in got.items() if abs(v - ref) > tol * abs(ref)}
        print(json.dumps({"check": got, "ok": not bad}))
        sys.exit(1 if bad else 0)
    batch_loss = losses[a.variant]

    def step(batch):
        vs = model(batch)
        loss = batch_loss(batch, vs)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    perm, pos = torch.randperm(s["train"]), 0

    def next_batch(n):
        nonlocal perm, pos
        if pos + n > s["train"]:
            perm, pos = torch.randperm(s["train"]), 0
        b = Xs[perm[pos:pos + n]]
        pos += n
        return b

    # Warm-up (allocator, thread pool); the notebook variant on a few rows.
    step(next_batch(5 if a.variant == "notebook" else B))
    min_batches = 2 if a.variant == "notebook" else 3
    rates, best_step = [], float("inf")
    for _ in range(a.reps):
        done, batches = 0, 0
        t0 = time.perf_counter()
        while batches < min_batches or time.perf_counter() - t0 < a.seconds:
            s0 = time.perf_counter()
            step(next_batch(B))
            best_step = min(best_step, time.perf_counter() - s0)
            done += B
            batches += 1
        rates.append(done / (time.perf_counter() - t0))
    print(json.dumps({
        "size": a.size, "n": N, "k": K, "ko": Ko, "hidden": s["hidden"], "batch": B,
        "threads": a.threads, "variant": a.variant, "dtype": a.dtype,
        "samples_per_s": max(rates), "rates": rates, "seconds": a.seconds,
        "best_step_s": best_step,
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "blas": blas_library(),
    }))


def inference(a, np, torch, rng):
    """Forward passes under no_grad over a pool of notebook-drawn rows."""
    s = INFER_SIZES[a.size]
    N, L, Lo, B = s["n"], 2 * s["k"] + 1, 2 * s["ko"] + 1, s["batch"]
    dtype = getattr(torch, a.dtype)
    torch.set_default_dtype(dtype)
    layers, prev = [], L
    for h in s["hidden"]:
        layers += [torch.nn.Linear(prev, h), torch.nn.Tanh()]
        prev = h
    layers.append(torch.nn.Linear(prev, Lo))
    model = torch.nn.Sequential(*layers).eval()
    pool = torch.tensor(rng.random((s["pool"], L)) * N, dtype=dtype)
    total = int(a.seconds)
    rates = []
    with torch.no_grad():
        model(pool[:B])  # warm-up
        for _ in range(a.reps):
            done, lo = 0, 0
            t0 = time.perf_counter()
            while done < total:
                n = min(B, total - done, s["pool"] - lo)
                model(pool[lo:lo + n])
                done += n
                lo = 0 if lo + n == s["pool"] else lo + n
            rates.append(total / (time.perf_counter() - t0))
    print(json.dumps({
        "size": a.size, "n": N, "k": s["k"], "ko": s["ko"], "hidden": s["hidden"], "batch": B,
        "threads": a.threads, "variant": "inference", "dtype": a.dtype,
        "samples_per_s": max(rates), "rates": rates, "total": total,
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "blas": blas_library(),
    }))


if __name__ == "__main__":
    main()
