#!/usr/bin/env python3
"""Independent check of a safetensors file using only the standard library.

Usage: safetensors_check.py FILE...

Parses each file following the format specification
(https://github.com/huggingface/safetensors): 8-byte little-endian header
length, JSON header, data section. Verifies that the header is padded with
spaces to a multiple of 8, that the tensors tile the data section exactly,
and prints every tensor's values (F64/F32/F16/BF16). Exits non-zero on the
first violation. Used to cross-check the Go package's output where the
Python safetensors library is not installed.
"""
import json
import struct
import sys

SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2}


def check(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    assert 8 + n <= len(data), "header length beyond file"
    raw = data[8:8 + n].decode("utf-8")
    assert raw.startswith("{"), "header does not start with {"
    assert n % 8 == 0 and raw == raw.rstrip(" ") + " " * (len(raw) - len(raw.rstrip(" "))), "padding"
    header = json.loads(raw)
    meta = header.pop("__metadata__", None)
    body = data[8 + n:]
    pos = 0
    for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        begin, end = info["data_offsets"]
        assert begin == pos and end >= begin, "tensor %s not contiguous" % name
        count = 1
        for d in info["shape"]:
            count *= d
        size = SIZES[info["dtype"]]
        assert end - begin == count * size, "tensor %s size mismatch" % name
        chunk = body[begin:end]
        if info["dtype"] == "F64":
            vals = struct.unpack("<%dd" % count, chunk)
        elif info["dtype"] == "F32":
            vals = struct.unpack("<%df" % count, chunk)
        elif info["dtype"] == "F16":
            vals = struct.unpack("<%de" % count, chunk)
        else:
            vals = [struct.unpack("<f", b"\0\0" + chunk[2 * i:2 * i + 2])[0] for i in range(count)]
        print(name, info["dtype"], info["shape"], list(vals))
        pos = end
    assert pos == len(body), "data section has trailing bytes"
    print("metadata", meta)


if __name__ == "__main__":
    for p in sys.argv[1:]:
        check(p)
        print("OK", p)
