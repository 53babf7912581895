#!/usr/bin/python3
"""PyTorch reference values for matapprox's nn and optim packages.

Run with Debian's python3-torch (torch is the only dependency):

    /usr/bin/python3 scripts/parity.py            # write testdata/parity/*
    /usr/bin/python3 scripts/parity.py --check    # verify go_model.safetensors

The default mode regenerates the committed fixtures deterministically
(torch.manual_seed, one thread):

  notebook.safetensors  the notebook's model (NeuralNetwork, float32 as the
                        notebook creates it) after torch.manual_seed(0): the
                        initial weights of every comparison
  notebook.json         the batch (16 rows, rand(11)*11) and the 100 probes
                        (rand(11)*rand(1)*11), as in the notebook
  notebook_f64.json     float64 reference: network outputs, the loss, every
                        gradient, and for Adagrad(lr 0.25), SGD(lr 0.01,
                        momentum 0.9) and Adam(lr 1e-3) the losses and weights
                        of 3 steps with the piecewise schedule (drop 0.5 every
                        2 steps)
  notebook_f32.json     the same computed in float32
  optim_rules.json      update rules of every optimizer configuration on small
                        vectors, and clip_grad_norm_ cases

The loss is the notebook's Spectral_Loss vectorised and without its constant
factor train_vectors_num = 3000 (it divides the sum over its 100 probes by
test_vectors_num and multiplies by train_vectors_num): for each sample the mean over
probes y of ||(X - A) y||^2 / ||y||^2, summed over the batch, where X is the
Toeplitz matrix of the input generator and A that of the zero-padded output.
It is checked against the notebook's loop implementation.

--check loads testdata/parity/go_model.safetensors (written by the Go test
TestParityWriteGoModel with -update) into the notebook's NeuralNetwork with
load_state_dict(strict=True) and compares it with the float64 Adam reference.
Float values are printed with repr (float64) or as the shortest float32 string
(float32 results), so the Go tests read them exactly.
"""

import copy
import json
import os
import struct
import sys

import torch
from torch import nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "testdata", "parity")

# ---- The notebook's model, copied verbatim (In [3]) -------------------------
input_features = 11
output_features = 7
train_vectors_num = 3000
test_vectors_num = 100
device = "cpu"


class NeuralNetwork(nn.Module):
    def __init__(self, hidden_size, output_size, input_size):
        super().__init__()
        self.flatten = nn.Flatten()
        self.net = nn.Sequential(
            nn.Linear(input_size, hidden_size),
            nn.Tanh(),
            nn.Linear(hidden_size, hidden_size),
            nn.Tanh(),
            nn.Linear(hidden_size, output_features)
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.net(x)
        return F.pad(logits, (2, 2))


# ---- The notebook's loss, copied (In [4], In [6]) for the cross-check -------
def torch_row_to_matrix(row):
    n = torch.Tensor.size(row, 0)
    k = n // 2
    M = torch.zeros((n, n))
    for i in range(n):
        M[i, max(0, i - k):min(n, k + 1 + i)] = row[max(0, n - (k + i + 1)):min(n + k - i, n)]
    return M.to(device)


class Spectral_Loss(nn.Module):
    def __init__(self, ys):
        super(Spectral_Loss, self).__init__()
        self.ys = ys

    def forward(self, target, v):
        X = torch_row_to_matrix(target)
        A = torch_row_to_matrix(v)
        return sum([(torch.linalg.norm(torch.matmul(X, yk) - torch.matmul(A, yk)) ** 2) / (torch.linalg.norm(yk) ** 2) for yk in self.ys]) / test_vectors_num * train_vectors_num


# ---- Vectorised loss ---------------------------------------------------------
def toeplitz_batch(g):
    """(B, 2K+1) generators -> (B, N, N) with N = 2K+1, M[b,i,j] = g[b, K+j-i]."""
    n = g.shape[1]
    k = n // 2
    i = torch.arange(n).view(n, 1)
    j = torch.arange(n).view(1, n)
    idx = (k + j - i).clamp(0, n - 1)
    mask = ((j - i).abs() <= k).to(g.dtype)
    return g[:, idx] * mask


def spectral_loss(x, a_padded, probes):
    r = toeplitz_batch(x) - toeplitz_batch(a_padded)      # (B, N, N)
    ry = torch.einsum("bij,pj->bpi", r, probes)           # (B, P, N)
    per = (ry ** 2).sum(-1) / (probes ** 2).sum(-1)       # (B, P)
    return per.mean(-1).sum()


# ---- safetensors by hand (struct + json), as the reference library writes --
DTYPES = {torch.float64: ("F64", 8), torch.float32: ("F32", 4)}


def write_safetensors(path, tensors, metadata=None):
    names = sorted(tensors)  # one dtype: the reference orders by name
    header = {}
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    blobs, pos = [], 0
    for name in names:
        t = tensors[name].detach().contiguous().cpu()
        dt, size = DTYPES[t.dtype]
        b = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [pos, pos + len(b)]}
        blobs.append(b)
        pos += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    out = {}
    for name, e in header.items():
        dtype = {"F64": torch.float64, "F32": torch.float32}[e["dtype"]]
        b, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(body[b:end]), dtype=dtype)
        out[name] = t.reshape(e["shape"]).clone()
    return out, meta


# ---- JSON output -------------------------------------------------------------
class Num(str):
    """A number already formatted for JSON."""


def fmt(v, dtype):
    if dtype == torch.float32:
        return Num(_f32(v))
    return Num(repr(float(v)))


def _f32(v):
    # Shortest decimal that rounds back to the same float32.
    import numpy as np
    return repr(float(str(np.float32(v))))


def flat(ts, dtype):
    return [fmt(v, dtype) for t in ts for v in t.detach().reshape(-1).tolist()]


def dump(path, obj):
    """json.dump with the numeric strings produced by fmt left unquoted."""
    def enc(o):
        if isinstance(o, dict):
            return "{" + ",".join(json.dumps(k) + ":" + enc(v) for k, v in o.items()) + "}"
        if isinstance(o, list):
            return "[" + ",".join(enc(x) for x in o) + "]"
        if isinstance(o, Num):
            return str(o)
        if isinstance(o, float):
            return repr(o)
        return json.dumps(o)
    with open(path + ".tmp", "w") as f:
        f.write(enc(obj))
        f.write("\n")
    os.replace(path + ".tmp", path)


# ---- The notebook parity fixtures ------------------------------------------
ROWS, PROBES = 16, 100
OPTIMIZERS = {
    "adagrad": (lambda ps, lr: torch.optim.Adagrad(ps, lr=lr, foreach=False), 0.25),
    "sgd": (lambda ps, lr: torch.optim.SGD(ps, lr=lr, momentum=0.9, foreach=False), 0.01),
    "adam": (lambda ps, lr: torch.optim.Adam(ps, lr=lr, foreach=False), 1e-3),
}
STEPS, DROP_PERIOD, DROP_FACTOR = 3, 2, 0.5


def piecewise(lr, epoch):
    return lr * DROP_FACTOR ** (epoch // DROP_PERIOD)


def reference(model0, x, probes, dtype):
    model = copy.deepcopy(model0).to(dtype)
    x, probes = x.to(dtype), probes.to(dtype)
    out = model(x)
    val = spectral_loss(x, out, probes)
    model.zero_grad()
    val.backward()
    res = {
        "outputs": flat([out[:, 2:-2]], dtype),
        "loss": fmt(val.item(), dtype),
        "grad": flat([p.grad for p in model.parameters()], dtype),
        "optim": {},
    }
    for name, (make, lr) in OPTIMIZERS.items():
        m = copy.deepcopy(model0).to(dtype)
        opt = make(m.parameters(), lr)
        losses = []
        for step in range(STEPS):
            for g in opt.param_groups:
                g["lr"] = piecewise(lr, step)
            opt.zero_grad()
            v = spectral_loss(x, m(x), probes)
            v.backward()
            opt.step()
            losses.append(fmt(v.item(), dtype))
        res["optim"][name] = {"lr": lr, "losses": losses, "params": flat(list(m.parameters()), dtype)}
    return res


def notebook_fixtures():
    torch.manual_seed(0)
    model = NeuralNetwork(hidden_size=100, output_size=output_features, input_size=input_features)
    x = torch.rand(ROWS, input_features) * input_features
    probes = torch.rand(PROBES, input_features) * torch.rand(PROBES, 1) * input_features

    # Cross-check the vectorised loss against the notebook's loop in float64.
    torch.set_default_dtype(torch.float64)
    m64 = copy.deepcopy(model).double()
    x64, p64 = x.double(), probes.double()
    with torch.no_grad():
        out = m64(x64)
        fast = spectral_loss(x64, out, p64).item()
        slow = sum(Spectral_Loss(p64)(x64[i], out[i]) for i in range(ROWS)).item()
    torch.set_default_dtype(torch.float32)
    slow /= train_vectors_num  # the notebook's sum/test_vectors_num*train_vectors_num = mean*3000
    assert abs(fast - slow) <= 1e-12 * abs(slow), (fast, slow)
    print(f"vectorised loss {fast!r} matches the notebook's loop {slow!r}")

    write_safetensors(os.path.join(OUT, "notebook.safetensors"), model.state_dict(), {"format": "pt"})
    dump(os.path.join(OUT, "notebook.json"), {
        "torch": torch.__version__, "seed": 0,
        "in_band": {"N": 11, "K": 5}, "out_band": {"N": 11, "K": 3},
        "rows": ROWS, "batch": flat([x], torch.float32),
        "num_probes": PROBES, "probes": flat([probes], torch.float32),
        "steps": STEPS, "drop_period": DROP_PERIOD, "drop_factor": DROP_FACTOR,
        "parameters": [n for n, _ in model.named_parameters()],
    })
    for dtype, name in [(torch.float64, "notebook_f64.json"), (torch.float32, "notebook_f32.json")]:
        dump(os.path.join(OUT, name), reference(model, x, probes, dtype))
        print("wrote", name)


# ---- Optimizer rules on small vectors --------------------------------------
OPT_CASES = [
    ("adagrad-default", "adagrad", dict(lr=0.1)),
    ("adagrad-all", "adagrad", dict(lr=0.2, lr_decay=0.3, weight_decay=0.05, initial_accumulator_value=0.2, eps=1e-3)),
    ("sgd-plain", "sgd", dict(lr=0.1)),
    ("sgd-momentum", "sgd", dict(lr=0.1, momentum=0.9)),
    ("sgd-dampening", "sgd", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("sgd-nesterov", "sgd", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("adam-default", "adam", dict(lr=0.01)),
    ("adam-wd-amsgrad", "adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True)),
    ("adamw-default", "adamw", dict(lr=0.01)),
    ("adamw-amsgrad", "adamw", dict(lr=0.03, weight_decay=0.2, amsgrad=True)),
]
OPT_CLASSES = {"adagrad": torch.optim.Adagrad, "sgd": torch.optim.SGD,
               "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


def go_config(alg, opt):
    """The optimizer's full hyperparameters under optim.Config's JSON names."""
    g = opt.param_groups[0]
    c = {"algorithm": alg, "lr": g["lr"], "weight_decay": g["weight_decay"]}
    if alg == "adagrad":
        c.update(lr_decay=g["lr_decay"], initial_accumulator_value=g["initial_accumulator_value"], eps=g["eps"])
    elif alg == "sgd":
        c.update(momentum=g["momentum"], dampening=g["dampening"], nesterov=g["nesterov"])
    else:
        c.update(beta1=g["betas"][0], beta2=g["betas"][1], eps=g["eps"], amsgrad=g["amsgrad"])
    return c


def optim_fixtures():
    gen = torch.Generator().manual_seed(1)
    cases = []
    for name, alg, kw in OPT_CASES:
        p0 = torch.randn(6, generator=gen, dtype=torch.float64)
        grads = torch.randn(4, 6, generator=gen, dtype=torch.float64)
        grads[2, 1] = 0.0  # a zero gradient
        p = p0.clone().requires_grad_(True)
        opt = OPT_CLASSES[alg]([p], foreach=False, **kw)
        cfg = go_config(alg, opt)
        lrs, traj = [], []
        for step in range(4):
            lr = kw["lr"] * (0.5 if step >= 2 else 1.0)
            opt.param_groups[0]["lr"] = lr
            p.grad = grads[step].clone()
            opt.step()
            lrs.append(Num(repr(lr)))
            traj.append(flat([p], torch.float64))
        cases.append({"name": name, "config": cfg, "params": flat([p0], torch.float64),
                      "grads": [flat([g], torch.float64) for g in grads], "lrs": lrs, "after": traj})
    clips = []
    for scale, max_norm in [(1.0, 10.0), (1.0, 0.5), (3.0, 1.0), (1.0, 0.0), (1e-8, 1e-7), (1e150, 1.0)]:
        a = torch.randn(5, generator=gen, dtype=torch.float64) * scale
        b = torch.randn(3, generator=gen, dtype=torch.float64) * scale
        ps = [torch.zeros(5, dtype=torch.float64, requires_grad=True), torch.zeros(3, dtype=torch.float64, requires_grad=True)]
        ps[0].grad, ps[1].grad = a.clone(), b.clone()
        norm = torch.nn.utils.clip_grad_norm_(ps, max_norm)
        clips.append({"grads": flat([a, b], torch.float64), "max_norm": Num(repr(max_norm)),
                      "norm": Num(repr(norm.item())), "clipped": flat([ps[0].grad, ps[1].grad], torch.float64)})
    dump(os.path.join(OUT, "optim_rules.json"), {"torch": torch.__version__, "cases": cases, "clip": clips})
    print("wrote optim_rules.json")


# ---- Check the Go-written model --------------------------------------------
def check_go_model():
    path = os.path.join(OUT, "go_model.safetensors")
    sd, meta = read_safetensors(path)
    model = NeuralNetwork(hidden_size=100, output_size=output_features, input_size=input_features).double()
    model.load_state_dict(sd, strict=True)
    print(f"go_model.safetensors: {len(sd)} tensors {sorted(sd)} metadata {meta}: load_state_dict(strict=True) ok")
    # The Go model is the float64 Adam reference computed by package nn/optim.
    with open(os.path.join(OUT, "notebook_f64.json")) as f:
        ref = json.load(f)
    want = torch.tensor(ref["optim"]["adam"]["params"], dtype=torch.float64)
    got = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    err = ((got - want).abs().max() / want.abs().max()).item()
    assert err <= 1e-9, f"Go Adam weights differ from PyTorch's by {err:.3g} (relative)"
    with open(os.path.join(OUT, "notebook.json")) as f:
        nb = json.load(f)
    x = torch.tensor(nb["batch"], dtype=torch.float64).reshape(nb["rows"], input_features)
    with torch.no_grad():
        out = model(x)
    assert out.shape == (nb["rows"], input_features) and (out[:, :2] == 0).all() and (out[:, -2:] == 0).all()
    print(f"Go-trained weights match PyTorch's Adam reference (max relative difference {err:.3g}); forward ok")


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if sys.argv[1:] == ["--check"]:
        check_go_model()
        return
    if sys.argv[1:]:
        sys.exit("usage: parity.py [--check]")
    os.makedirs(OUT, exist_ok=True)
    optim_fixtures()
    notebook_fixtures()


if __name__ == "__main__":
    main()
