"""safetensors with nothing but numpy: the cross-check between vigil and the Python side.

    /usr/bin/python3 tools/io/safetensors_numpy.py write PATH   writes the reference tensors (below) to PATH
    /usr/bin/python3 tools/io/safetensors_numpy.py check PATH   reads PATH and checks it holds exactly them

`write` made tests/io/data/numpy_written.safetensors, which the C++ tests load; the C++ tests also write the same
tensors with vigil and run `check` on the result. The reader is the few lines a PyTorch user needs to read vigil's
files without the safetensors package: 8-byte little-endian header length, JSON header, raw little-endian data
(torch.from_numpy turns each array into a tensor).

To make the reader's job realistic, `write` orders the data by dtype size, largest first, then by name, as the
safetensors package does, while the JSON header lists the names alphabetically: the header order and the data
order differ.
"""
import json
import struct
import sys

import numpy as np

# The reference tensors; tests/io/safetensors_test.cpp holds the same values. bfloat16 has no numpy dtype, so
# BF16 values are given as their bit patterns (the upper halves of the float32 patterns): 1.0, -3.0, 0.5.
REFERENCE = {
    "f32": ("F32", np.array([[0.5, -1.25, 3.0e38], [1.0e-38, -0.0, 7.0]], dtype="<f4")),
    "f64": ("F64", np.array([0.1, -2.5e300, 1.0 / 3.0], dtype="<f8")),
    "bf16": ("BF16", np.array([0x3F80, 0xC040, 0x3F00], dtype="<u2")),
    "i32": ("I32", np.array([[1, -2], [2147483647, -2147483648]], dtype="<i4")),
    "i64": ("I64", np.array([0, -1, 9007199254740993, -9223372036854775808], dtype="<i8")),
    "mask": ("BOOL", np.array([True, False, True], dtype="?")),
    "scalar": ("F32", np.array(42.0, dtype="<f4")),
    "empty": ("F32", np.zeros((0, 3), dtype="<f4")),
}
METADATA = {"step": "1200", "written_by": "numpy"}
NUMPY_DTYPES = {"F32": "<f4", "F64": "<f8", "BF16": "<u2", "I32": "<i4", "I64": "<i8", "BOOL": "?"}


def write(path):
    order = sorted(REFERENCE, key=lambda name: (-REFERENCE[name][1].itemsize, name))
    header, chunks, offset = {"__metadata__": METADATA}, [], 0
    for name in order:
        code, array = REFERENCE[name]
        data = array.tobytes()
        header[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, sort_keys=True).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def read(path):
    """Returns ({name: numpy array}, metadata) -- the whole reader."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    data = blob[8 + n :]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=NUMPY_DTYPES[info["dtype"]])
        tensors[name] = (info["dtype"], array.reshape(info["shape"]))
    return tensors, metadata


def check(path):
    tensors, metadata = read(path)
    problems = []
    if set(tensors) != set(REFERENCE):
        problems.append(f"names {sorted(tensors)} != {sorted(REFERENCE)}")
    for name, (code, expected) in REFERENCE.items():
        if name not in tensors:
            continue
        got_code, got = tensors[name]
        if got_code != code or got.shape != expected.shape or got.tobytes() != expected.tobytes():
            problems.append(f"{name}: got {got_code} {got.shape} {got.tolist()}, expected {code} {expected.shape} "
                            f"{expected.tolist()}")
    if metadata != {"step": "1200", "written_by": "vigil"}:
        problems.append(f"metadata {metadata}")
    for problem in problems:
        print("safetensors_numpy check:", problem)
    print(f"safetensors_numpy check: {path}: {'OK' if not problems else 'MISMATCH'} ({len(tensors)} tensors)")
    return 0 if not problems else 1


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check"):
        sys.exit(__doc__)
    sys.exit(write(sys.argv[2]) if sys.argv[1] == "write" else check(sys.argv[2]))
