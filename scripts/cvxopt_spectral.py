#!/usr/bin/python3
"""Independent reference for the 2-norm optimum (optimal.SDP), with cvxopt.

Writes testdata/spectral_cvxopt.json: for each case the input band (N, K),
output band K', the generator x, and the operator 2-norm of the residual of
cvxopt's solution (computed by numpy's SVD), an upper bound on the optimum
that optimal's tests compare against.

The SDP is min t s.t. [[t I, R(a)], [R(a)^T, t I]] >= 0 with
R(a) = T(x) - sum_{|d|<=K'} a_d S_d (Vandenberghe & Boyd 1996). Two exact
identities make extreme inputs solvable in double precision without using
any of matapprox's code: T(x) - T(Ea) = T(x_out) - T(E(a - x_I)), so only
the entries outside the output band enter; and scaling x by a power of two
scales the optimum exactly.

Run: /usr/bin/python3 scripts/cvxopt_spectral.py   (Debian python3-cvxopt)
"""
import json
import math
import os

import numpy as np
from cvxopt import matrix, solvers

solvers.options.update(show_progress=False, abstol=1e-13, reltol=1e-13, feastol=1e-13, maxiters=200)


def toeplitz(n, k, g):
    m = np.zeros((n, n))
    for d in range(-k, k + 1):
        for i in range(max(0, -d), min(n, n - d)):
            m[i, i + d] = g[k + d]
    return m


def solve(n, k, kp, x):
    x = np.array(x, dtype=float)
    off = k - kp
    xo = x.copy()
    xo[off:off + 2 * kp + 1] = 0.0
    big = np.max(np.abs(xo))
    if big == 0:
        return 0.0
    e = math.frexp(big)[1]
    xs = np.ldexp(xo, -e)
    X = toeplitz(n, k, xs)
    e2 = math.frexp(np.linalg.norm(X, 2))[1]
    xs = np.ldexp(xs, -e2)
    X = toeplitz(n, k, xs)
    nd = 2 * kp + 1
    # Variables (a_-K'..a_K', t); h - sum x_i G_i >= 0.
    m2 = 2 * n
    cols = []
    for di in range(nd):
        d = di - kp
        S = np.zeros((n, n))
        for i in range(max(0, -d), min(n, n - d)):
            S[i, i + d] = 1.0
        G = np.zeros((m2, m2))
        G[:n, n:] = S
        G[n:, :n] = S.T
        cols.append(G.flatten(order="F"))
    cols.append(-np.eye(m2).flatten(order="F"))
    Gs = matrix(np.array(cols).T)
    H = np.zeros((m2, m2))
    H[:n, n:] = X
    H[n:, :n] = X.T
    c = matrix(np.r_[np.zeros(nd), 1.0])
    sol = solvers.sdp(c, Gs=[Gs], hs=[matrix(H)])
    a = np.array(sol["x"]).ravel()[:nd]
    R = X.copy()
    for di in range(nd):
        d = di - kp
        for i in range(max(0, -d), min(n, n - d)):
            R[i, i + d] -= a[di]
    v = np.linalg.norm(R, 2)
    # Never worse than the truncation (a = x_I, i.e. delta = 0).
    v = min(v, np.linalg.norm(X, 2))
    return float(np.ldexp(v, e + e2)), sol["status"]


def main():
    rng = np.random.default_rng(2026)
    cases = []
    shapes = [(8, 3, 1), (8, 5, 2), (12, 5, 3), (16, 6, 2), (16, 15, 7), (24, 8, 4), (32, 15, 7), (32, 6, 3), (48, 8, 2), (64, 10, 4)]
    kinds = ["uniform", "gauss", "range", "tiny", "huge"]
    for si, (n, k, kp) in enumerate(shapes):
        for kind in kinds:
            L = 2 * k + 1
            if kind == "uniform":
                x = rng.uniform(0, n, L)
            elif kind == "gauss":
                x = rng.standard_normal(L)
                # In-band entries 1e10 times the rest.
                x[k - kp:k + kp + 1] *= 1e10
            elif kind == "range":
                x = rng.choice([-1, 1], L) * 10.0 ** rng.uniform(-150, 150, L)
            elif kind == "tiny":
                x = rng.standard_normal(L) * 1e-300
            else:
                x = rng.standard_normal(L) * 1e300
            if n == 64 and kind in ("tiny", "huge"):
                continue
            value, status = solve(n, k, kp, x)
            cases.append({"n": n, "k": k, "kp": kp, "kind": kind, "x": [float(v) for v in x], "value": value, "status": status})
    # Two structured cases: symmetric (Parks-McClellan-like) and alternating.
    for n, k, kp in [(16, 4, 1), (40, 7, 3)]:
        x = np.array([1.0 / (1 + abs(d)) for d in range(-k, k + 1)])
        cases.append({"n": n, "k": k, "kp": kp, "kind": "symmetric", "x": list(map(float, x)), "value": solve(n, k, kp, x)[0], "status": "optimal"})
        x = np.array([(-1.0) ** d for d in range(-k, k + 1)])
        cases.append({"n": n, "k": k, "kp": kp, "kind": "alternating", "x": list(map(float, x)), "value": solve(n, k, kp, x)[0], "status": "optimal"})
    out = os.path.join(os.path.dirname(__file__), "..", "testdata", "spectral_cvxopt.json")
    with open(out, "w") as f:
        json.dump({"generator": "scripts/cvxopt_spectral.py", "cases": cases}, f, indent=1)
    print(len(cases), "cases written to", out)


if __name__ == "__main__":
    main()
