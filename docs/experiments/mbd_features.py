#!/usr/bin/env python3
"""What the minibatch-discrimination features of a trained 2D discriminator say (docs/RESULTS.md, sixteenth session).

    python3 docs/experiments/mbd_features.py runs/RUN/checkpoint.safetensors [BATCH]

Runs the checkpoint's discriminator (PacGAN's 3 maxout layers, then minibatch discrimination) in numpy on BATCH real
grid25 points and prints the kernels' L1 distances within and between modes, the size of the closeness features
o_b = sum over the other samples of exp(-L1), and how much D's score through them moves when the batch loses the
column x = 2. Needs numpy; reads the safetensors file itself (safetensors_numpy.py, beside it).
"""
import sys
import numpy as np
from safetensors_numpy import load

t = load(sys.argv[1])
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 100
rng = np.random.default_rng(0)
modes = np.array([(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)], float)

def points(means):
    return means[rng.integers(0, len(means), batch)] + 0.05 * rng.standard_normal((batch, 2))

def closeness(x):
    """Maxout layers (unit k * out + j is piece k of output j), then the kernels' rows M [N, B, C] and o [N, B]."""
    h = x
    for i in range(3):
        y = h @ t[f'discriminator.{i}.linear.weight'].T + t[f'discriminator.{i}.linear.bias']
        out = t[f'discriminator.{i}.linear.weight'].shape[0] // 5
        h = y.reshape(len(x), 5, out).max(1)
    T = t['discriminator.3.T']
    m = (h @ T).reshape(len(x), -1, 5)
    d = np.abs(m[:, None] - m[None]).sum(-1)          # [N, N, B]
    o = np.exp(-d)
    o[np.arange(len(x)), np.arange(len(x))] = 0        # the other samples only
    return d, o.sum(1)

x = points(modes)
d, o = closeness(x)
near = np.linalg.norm(x[:, None] - x[None], axis=-1) < 0.5
np.fill_diagonal(near, False)
far = ~near
np.fill_diagonal(far, False)
w = t['discriminator.4.weight'][0, -o.shape[1]:]
print(f'mean |T| {np.abs(t["discriminator.3.T"]).mean():.4f} (N(0, 0.05^2) at the start: 0.0399)')
print(f'L1 distance, same mode: median {np.median(d[near]):.3f}; other modes: median {np.median(d[far]):.3f}, 5th percentile {np.percentile(d[far], 5):.3f}')
print(f'o: mean {o.mean():.2f}, spread over samples {o.std(0).mean():.2f}')
_, o2 = closeness(points(modes[modes[:, 0] != 2]))
print(f"D's score through o: {(o @ w).mean():.3f} on the full grid, {(o2 @ w).mean():.3f} without the column x = 2")
