#!/usr/bin/env python3
"""A dual network for the 2-norm certificate (issue 13's second item): an experiment, not part of the tool.

A network maps the direction u = x_out/||x_out|| of an input's out-of-band entries to a dual matrix
Y = A C B^T of rank r, exactly orthogonal to the output diagonals, and the certificate is weak duality,

    opt(x) >= <Y, T(x_out)> / ||Y||_*    (||Y||_* = ||R_A C R_B^T||_* from thin QRs A = Q_A R_A, B = Q_B R_B).

A and B (N x r each) are the network's outputs; C = I + W with W the least-norm correction that makes
every output diagonal sum of Y zero (2K'+1 linear conditions on the r^2 entries of C; r >= 4). The network
is trained to maximise its own bound (self-supervised, as in Dual Lagrangian Learning, Tanneau & Van
Hentenryck, NeurIPS 2024): no exact solves are needed. It is evaluated on held-out rows against the exact
optimum and against the primal network's own answers: the certified gap (value - bound)/value it would give.

Inputs (written by the Go tools; see docs/BENCHMARKS.md, "Ninth session"):
    TRAIN   CSV of training rows (go run ./bench/certify ... -write-input TRAIN with another -seed)
    HELD    CSV of held-out rows (the same with -seed 2026)
    OPT     matapprox optimal -loss spectral -input HELD -out-band K' -n N -output OPT (JSON Lines)
    NET     matapprox approx -model RUN -input HELD -output NET -certify -polish=false -dual-cache 0

Usage:
    dual_network.py TRAIN HELD OPT NET [--n 32 --k 15 --kp 7 --rank 6 --hidden 512 --epochs 24 --threads 1]
"""
import argparse
import json
import time

import numpy as np
import torch


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("train", "held", "opt", "net"):
        p.add_argument(name)
    p.add_argument("--n", type=int, default=32)
    p.add_argument("--k", type=int, default=15)
    p.add_argument("--kp", type=int, default=7)
    p.add_argument("--rank", type=int, default=6)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--epochs", type=int, default=24)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    N, K, KP, r, H = a.n, a.k, a.kp, a.rank, a.hidden
    dt = torch.float64

    outidx = np.r_[0:K - KP, K + KP + 1:2 * K + 1]  # the 2(K-K') out-of-band entries of a generator
    tr = np.loadtxt(a.train, delimiter=",")[:, outidx]
    he = np.loadtxt(a.held, delimiter=",")[:, outidx]
    opt = np.array([json.loads(line)["spectral"] for line in open(a.opt)])
    val = np.array([json.loads(line)["value"] for line in open(a.net)])
    Xtr, Xhe = torch.tensor(tr, dtype=dt), torch.tensor(he, dtype=dt)
    unit = lambda X: X / X.norm(dim=1, keepdim=True)
    Utr, Uhe = unit(Xtr), unit(Xhe)

    def shift(d):  # S_d: ones on diagonal d (column - row = d), so <Y, S_d> is Y's diagonal-d sum
        S = torch.zeros(N, N, dtype=dt)
        for i in range(N):
            if 0 <= i + d < N:
                S[i, i + d] = 1
        return S

    Sin = torch.stack([shift(d) for d in range(-KP, KP + 1)])
    Sout = torch.stack([shift(int(d)) for d in outidx - K])
    eye = torch.eye(r, dtype=dt).reshape(-1)

    net = torch.nn.Sequential(torch.nn.Linear(len(outidx), H), torch.nn.Tanh(), torch.nn.Linear(H, H),
                              torch.nn.Tanh(), torch.nn.Linear(H, 2 * N * r)).to(dt)

    def bound(u):
        z = net(u).view(-1, 2, N, r)
        A, B = z[:, 0], z[:, 1]
        G = torch.einsum("bip,dij,bjq->bdpq", A, Sin, B).reshape(len(u), 2 * KP + 1, r * r)
        lam = torch.linalg.solve(G @ G.transpose(1, 2) + 1e-14 * torch.eye(2 * KP + 1, dtype=dt),
                                 (G @ eye).unsqueeze(-1))
        C = (eye - (G.transpose(1, 2) @ lam).squeeze(-1)).view(-1, r, r)
        num = torch.einsum("bdpq,bpq,bd->b", torch.einsum("bip,dij,bjq->bdpq", A, Sout, B), C, u)
        _, RA = torch.linalg.qr(A)
        _, RB = torch.linalg.qr(B)
        return num.abs() / torch.linalg.svdvals(RA @ C @ RB.transpose(1, 2)).sum(1)

    steps = len(Utr) // a.batch
    opt_ = torch.optim.Adam(net.parameters(), lr=a.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt_, a.epochs * steps)
    q = lambda v: " ".join("%.3g" % np.quantile(v, s) for s in (.5, .75, .9, .95, .99))
    t0 = time.time()
    for ep in range(a.epochs):
        perm = torch.randperm(len(Utr))
        for k in range(steps):
            loss = -bound(Utr[perm[k * a.batch:(k + 1) * a.batch]]).mean()
            opt_.zero_grad()
            loss.backward()
            opt_.step()
            sched.step()
        with torch.no_grad():
            b = bound(Uhe).numpy() * Xhe.norm(dim=1).numpy()
        err, true, cert = (opt - b) / opt, (val - opt) / val, (val - b) / val
        print("epoch %d (%.0f s): bound error q50/75/90/95/99 %s; bounds above the optimum %d; "
              "certified gap <= 0.715 %%: %.1f %%, <= 1 %%: %.1f %%; certified / true %.2f"
              % (ep, time.time() - t0, q(err), (err < -1e-9).sum(), 100 * (cert <= .00715).mean(),
                 100 * (cert <= .01).mean(), cert.mean() / true.mean()), flush=True)


if __name__ == "__main__":
    main()
