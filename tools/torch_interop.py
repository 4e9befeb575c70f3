#!/usr/bin/env python3
"""Checkpoints between NativeGan and PyTorch, both ways, for the DCGAN generator.

  write FILE   PyTorch builds a small DCGAN generator (the layer layout of src/Gan/Gans/Dcgan.cs and of
               benchmarks/reference/torch_reference.py), runs some training-mode batches through it so the
               batch-norm running statistics are not their initial values, and writes one safetensors file
               holding its state dict under "generator." (exactly the names NativeGan uses), a latent batch
               "z" and the eval-mode output "expected" = G(z). tests/NativeGan.Tests/TestData/torch-dcgan-g.safetensors
               was made this way; a test loads it into NativeGan's generator and compares G(z).
  read FILE    loads a NativeGan checkpoint (`nativegan train dcgan ...` writes one) into the PyTorch
               generator with load_state_dict(strict=True) and prints the output statistics of a batch.

The safetensors layout is written and read here by hand (8-byte little-endian header length, a JSON header
with dtype, shape and data_offsets per tensor and an optional __metadata__ block, then the raw
little-endian data), byte for byte what safetensors.torch.save_file writes, because Debian ships no
safetensors package. Run with Debian's interpreter: /usr/bin/python3 (python3-torch).
"""
import json
import struct
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/benchmarks/reference")
from torch_reference import generator  # noqa: E402

DTYPES = {torch.float32: "F32", torch.int64: "I64"}
LATENT, WIDTH, SIDE = 10, 8, 32


def save(path, tensors, metadata=None):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # save_file pads the header to a multiple of 8 with spaces
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    start = 8 + n
    out = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        dtype = {"F32": torch.float32, "I64": torch.int64}[e["dtype"]]
        out[name] = torch.frombuffer(bytearray(raw[start + a:start + b]), dtype=dtype).reshape(e["shape"])
    return out, meta


def write(path):
    torch.manual_seed(7)
    g = generator(latent=LATENT, width=WIDTH, channels=1, side=SIDE)
    for m in g.modules():  # non-trivial batch-norm scales and shifts, not the ones/zeros of a fresh layer
        if isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.normal_(m.weight, 1.0, 0.2)
            torch.nn.init.normal_(m.bias, 0.0, 0.2)
    g.train()
    with torch.no_grad():
        for _ in range(3):
            g(torch.randn(16, LATENT, 1, 1))  # moves the running statistics
    g.eval()
    z = torch.randn(5, LATENT, 1, 1)
    with torch.no_grad():
        expected = g(z)
    state = {"generator." + k: v.float() if k.endswith("num_batches_tracked") else v for k, v in g.state_dict().items()}
    state["z"] = z
    state["expected"] = expected
    save(path, state, {"written_by": f"torch {torch.__version__}", "latent": str(LATENT), "g_width": str(WIDTH), "image": f"1,{SIDE},{SIDE}"})
    print(f"wrote {path}: {len(state)} tensors; expected output mean {expected.mean():.4f}")


def read(path):
    tensors, meta = load(path)
    config = json.loads(meta.get("config", "{}"))
    latent, width = int(config.get("latent", 100)), int(config.get("g_width", 64))
    c, h, _ = (int(x) for x in config.get("image", "1,32,32").split(","))
    g = generator(latent=latent, width=width, channels=c, side=h)
    state = {k[len("generator."):]: v for k, v in tensors.items() if k.startswith("generator.")}
    g.load_state_dict(state, strict=True)  # every name and shape must match, none left over
    g.eval()
    with torch.no_grad():
        x = g(torch.randn(16, latent, 1, 1))
    print(f"loaded {len(state)} generator tensors from {path} (step {meta.get('step')}) into PyTorch; "
          f"G(z) for 16 latents: shape {tuple(x.shape)}, mean {x.mean():.4f}, min {x.min():.4f}, max {x.max():.4f}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "read"):
        sys.exit(__doc__)
    (write if sys.argv[1] == "write" else read)(sys.argv[2])
