#!/usr/bin/env python3
"""How much the BatchNorm statistics of a training batch move a trained 2D generator's samples (docs/RESULTS.md,
twentieth session).

    python3 docs/experiments/bn_jitter.py runs/RUN/checkpoint.safetensors [generator|generator_ema] [SEED]

Runs the checkpoint's MLP generator (PacGAN's 4 layers of Linear, BatchNorm, ReLU, then Linear) in numpy on 10,000
latents three ways: with the BatchNorms' running statistics (what sampling and `eval modes` use), and with the
statistics of each batch of 100 or of 1,000 latents (what D judged in training with batches of 100). It scores each
on the 25-mode grid with the PacGAN rule (a sample is high quality within 3 std = 0.15 of its nearest mode on each
axis). Needs numpy; reads the safetensors file itself (safetensors_numpy.py, beside it).
"""
import sys
import numpy as np
from safetensors_numpy import load

t = {k: v.astype(np.float64) for k, v in load(sys.argv[1]).items()}
net = sys.argv[2] if len(sys.argv) > 2 else 'generator_ema'
rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
modes = np.array([(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)], float)
linears = sorted({int(k.split('.')[1]) for k in t if k.startswith(net + '.') and k.endswith('.weight') and '.norm.' not in k})

def generate(z, batch=None, eps=1e-5):
    """Linear layers at linears[i], each hidden one followed by BatchNorm (module index + 1; none with g_batchnorm=false) and ReLU."""
    h = z
    for i in linears:
        h = h @ t[f'{net}.{i}.weight'].T + t[f'{net}.{i}.bias']
        if i == linears[-1]: return h
        bn = f'{net}.{i + 1}.norm'
        if bn + '.running_mean' not in t:  # g_batchnorm=false: Linear, ReLU
            h = np.maximum(h, 0)
            continue
        if batch is None:
            mean, var = t[bn + '.running_mean'], t[bn + '.running_var']
        else:  # each batch's own statistics (biased variance, as in training)
            hb = h.reshape(-1, batch, h.shape[1])
            mean, var = hb.mean(1, keepdims=True), hb.var(1, keepdims=True)
            h = hb
        h = ((h - mean) / np.sqrt(var + eps)).reshape(-1, h.shape[-1]) * t[bn + '.weight'] + t[bn + '.bias']
        h = np.maximum(h, 0)

def score(x):
    k = ((x[:, None] - modes[None]) ** 2).sum(-1).argmin(1)
    off = np.abs(x - modes[k]) / 0.05
    good = (off <= 3).all(1)
    return 100 * good.mean(), len(set(k[good])), np.median(off[good])

z = rng.standard_normal((10000, 2))
for name, batch in (('running statistics', None), ('statistics of each batch of 100', 100), ('statistics of each batch of 1,000', 1000)):
    quality, captured, median = score(generate(z, batch))
    print(f'{net}, {name}: {captured}/25 modes, {quality:.1f}% high-quality (median offset of those {median:.2f} std)')
