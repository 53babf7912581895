#!/usr/bin/python3
"""Load any model file matapprox writes into PyTorch and run it.

Needs only torch (Debian's python3-torch, /usr/bin/python3); the safetensors
file is parsed here, so the safetensors package is not required.

    from matapprox_torch import load
    model = load("RUN/model.safetensors")        # a torch.nn.Module
    a = model(torch.tensor(x, dtype=torch.float64))   # x: n × (2K+1)

or from the shell, like `matapprox approx` (CSV in, CSV out):

    /usr/bin/python3 scripts/matapprox_torch.py RUN/model.safetensors in.csv > out.csv

A file matapprox writes carries the whole model in its metadata (key
"matapprox", a JSON object; see nn.ModelInfo in the Go package nn):

  kind        "mlp": a(x) = net((x - mean) / std), the notebook's network
              "sphere": a(x) = x_I + rho * mean_g g^-1 net(g u), u = x_out / rho,
              rho = ||x_out||, x_I the central 2K'+1 entries, x_out the other
              2(K-K'); a(x) = x_I where x_out = 0
  symmetry    "none" or flags joined by "+": odd (u -> -u), reverse
              (u_d -> u_-d), modulate (u_d -> (-1)^d u_d); the group they
              generate, each element acting on the output the same way
  activation  tanh, relu or identity, after every hidden layer
  in_band, out_band  {"N": .., "K": ..}; mean, std: the standardisation

The tensors are net.0.weight, net.0.bias, net.2.weight, ... (PyTorch's
nn.Sequential names, Linear layers at even indices), so a plain state_dict
of the notebook's NeuralNetwork (no "matapprox" metadata) loads too, as a tanh
"mlp" without standardisation. A file from an older matapprox (an
"activation" key but no "matapprox" key) kept its standardisation in
config.json and is refused, as matapprox refuses it.

    /usr/bin/python3 scripts/matapprox_torch.py --fixtures

rewrites testdata/torch/expected.json: the outputs of every model in
testdata/torch on testdata/torch/inputs.json, which the Go test
TestTorchFixtures compares with matapprox's own outputs (no PyTorch needed
there).
"""

import json
import os
import struct
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "testdata", "torch")

_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
           "I64": torch.int64, "I32": torch.int32}


def read_safetensors(path):
    """Returns ({name: float64 tensor}, metadata dict) of a .safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {}) or {}
    body = raw[8 + n:]
    tensors = {}
    for name, info in header.items():
        lo, hi = info["data_offsets"]
        dt = _DTYPES[info["dtype"]]
        buf = bytearray(body[lo:hi])
        t = torch.frombuffer(buf, dtype=dt) if hi > lo else torch.zeros(0, dtype=dt)
        tensors[name] = t.reshape(info["shape"]).to(torch.float64)
    return tensors, meta


_ACT = {"tanh": nn.Tanh, "relu": nn.ReLU, "identity": nn.Identity}
_FLAGS = {"odd": 1, "reverse": 2, "modulate": 4}


class MatApprox(nn.Module):
    """A matapprox approximator: maps n × (2K+1) generators to n × (2K'+1)."""

    def __init__(self, tensors, info):
        super().__init__()
        self.kind = info["kind"]
        if self.kind not in ("mlp", "sphere"):
            raise ValueError("unknown architecture %r" % self.kind)
        act = _ACT[info["activation"]]
        prefix = next((p for p in ("model.net.", "net.", "") if all(k.startswith(p) for k in tensors)), "")
        n_layers = len(tensors) // 2
        layers = []
        for l in range(n_layers):
            w, b = tensors[prefix + "%d.weight" % (2 * l)], tensors[prefix + "%d.bias" % (2 * l)]
            lin = nn.Linear(w.shape[1], w.shape[0]).to(torch.float64)
            with torch.no_grad():
                lin.weight.copy_(w)
                lin.bias.copy_(b)
            layers.append(lin)
            if l < n_layers - 1:
                layers.append(act())
        self.net = nn.Sequential(*layers)
        mean, std = info.get("mean"), info.get("std")
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float64) if mean else None)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float64) if std else None)
        sym = 0
        for f in (info.get("symmetry") or "none").split("+"):
            if f != "none":
                sym |= _FLAGS[f]
        self.elements = [g for g in range(8) if g & ~sym == 0]
        if self.kind == "sphere":
            self.K = info["in_band"]["K"]
            self.Ko = info["out_band"]["K"]

    @staticmethod
    def _act(g, v, diag):
        """Applies group element g to v (n × m), whose columns are diagonals diag."""
        if g & 2:
            v = v.flip(1)
        if g & 4:
            v = v * torch.where(diag % 2 == 0, 1.0, -1.0).to(v.dtype)
        if g & 1:
            v = -v
        return v

    def forward(self, x):
        x = x.to(torch.float64)
        if self.kind == "mlp":
            if self.mean is not None:
                x = (x - self.mean) / self.std
            return self.net(x)
        K, Ko = self.K, self.Ko
        h = K - Ko
        xo = torch.cat([x[:, :h], x[:, 2 * K + 1 - h:]], 1)
        du = torch.cat([torch.arange(-K, -Ko), torch.arange(Ko + 1, K + 1)])
        da = torch.arange(-Ko, Ko + 1)
        # rho = s * t with s = max |x_out|, so that nothing overflows.
        s = xo.abs().amax(1, keepdim=True)
        nz = s > 0
        v = xo / torch.where(nz, s, torch.ones_like(s))
        t = torch.where(nz, v.norm(dim=1, keepdim=True), torch.ones_like(s))
        u = v / t
        acc = 0
        for g in self.elements:
            acc = acc + self._act(g, self.net(self._act(g, u, du)), da)
        acc = acc * (1.0 / len(self.elements))
        corr = torch.where(nz, s * (t * acc), torch.zeros_like(acc))
        return x[:, h:h + 2 * Ko + 1] + corr


def load(path):
    """Loads a model file (or a run directory holding model.safetensors)."""
    if os.path.isdir(path):
        path = os.path.join(path, "model.safetensors")
    tensors, meta = read_safetensors(path)
    if "matapprox" in meta:
        info = json.loads(meta["matapprox"])
    elif "activation" in meta:
        raise ValueError("%s was written by an older matapprox, which kept the input standardisation in "
                         "config.json; save it again with this version" % path)
    else:
        info = {"kind": "mlp", "activation": "tanh", "symmetry": "none"}
    return MatApprox(tensors, info).eval()


def _fixtures():
    with open(os.path.join(FIXTURES, "inputs.json")) as f:
        inputs = json.load(f)
    out = {}
    for name in sorted(os.listdir(FIXTURES)):
        if not name.endswith(".safetensors"):
            continue
        m = load(os.path.join(FIXTURES, name))
        x = torch.tensor(inputs[str(m.net[0].in_features if m.kind == "mlp" else 2 * m.K + 1)], dtype=torch.float64)
        with torch.no_grad():
            out[name] = [[repr(float(v)) for v in row] for row in m(x)]
    with open(os.path.join(FIXTURES, "expected.json"), "w") as f:
        json.dump({"generated_by": "scripts/matapprox_torch.py --fixtures, torch " + torch.__version__, "outputs": out},
                  f, indent=1)
        f.write("\n")


def main(argv):
    if argv[1:] == ["--fixtures"]:
        _fixtures()
        return 0
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    m = load(argv[1])
    rows = []
    with open(argv[2]) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                rows.append([float(v) for v in line.split(",")])
    with torch.no_grad():
        a = m(torch.tensor(rows, dtype=torch.float64))
    for row in a:
        print(",".join(repr(float(v)) for v in row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
