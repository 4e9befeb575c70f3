#!/usr/bin/env python3
"""A model on paper of data-parallel step time on N GPUs (benchmarks/RESULTS.md, "Data-parallel training").

Bytes a step are measured (`bash tools/mpi.sh -n 2 nativegan train KIND ... --distributed mpi` prints them): each
optimizer step all-reduces its network's gradients once. A ring all-reduce of B bytes over N ranks costs
    t = 2 (N - 1) / N * B / bw  +  2 (N - 1) * alpha
(bw: the bus bandwidth an all-reduce reaches, alpha: one hop's latency). Without overlap a step takes
t_compute + sum(t); with overlap each all-reduce hides behind its own update's backward (taken as 2/3 of that update's
compute) and only the excess shows. The compute times on one H100 are assumptions (no GPU has run this engine yet):
see the ASSUMED lines.
"""
MB = 1e6
# Measured: gradient bytes all-reduced per optimizer update (2 ranks, cpu, paper widths, 32x32x1, batch 64).
DCGAN_UPDATES = [("D", 2.64 * MB), ("G", 4.27 * MB)]                 # 6.91 MB a step
WGANGP_UPDATES = [("D", 2.64 * MB)] * 5 + [("G", 4.27 * MB)]         # 17.49 MB a step (5 critic updates)
# ASSUMED compute per update on one H100 at 64 samples a GPU (weak scaling): DCGAN-32 ~4 ms a step (28.5 GFLOP at
# ~10 TFLOP/s effective plus ~1 ms of launches), split D 55% / G 45%; a WGAN-GP critic update with the penalty's double
# backward ~2.5x a DCGAN D update, the generator update as DCGAN's.
DCGAN_COMPUTE = {"D": 2.2e-3, "G": 1.8e-3}
WGANGP_COMPUTE = {"D": 5.5e-3, "G": 1.8e-3}
LINKS = [  # name, all-reduce bus bandwidth (bytes/s), one hop's latency (s)
    ("NVLink (H100 SXM, NVLink 4)", 370e9, 5e-6),
    ("PCIe Gen4 x16, no NVLink", 20e9, 10e-6),
    ("100 Gb/s network, 1 GPU a node", 11e9, 20e-6),
]


def step(updates, compute, n, bw, alpha, overlap):
    total = 0.0
    for name, size in updates:
        comm = 2 * (n - 1) / n * size / bw + 2 * (n - 1) * alpha if n > 1 else 0.0
        c = compute[name]
        total += c + (max(0.0, comm - 2 / 3 * c) if overlap else comm)
    return total


for model, updates, compute in [("DCGAN-32", DCGAN_UPDATES, DCGAN_COMPUTE), ("WGAN-GP-32", WGANGP_UPDATES, WGANGP_COMPUTE)]:
    one = step(updates, compute, 1, 1, 0, False)
    print(f"\n{model}: {sum(s for _, s in updates) / MB:.2f} MB all-reduced a step, {one * 1e3:.1f} ms a step on one GPU (assumed)")
    print("| link | N | step, no overlap | step, overlapped | scaling efficiency (no overlap / overlapped) |")
    for link, bw, alpha in LINKS:
        for n in (2, 8, 64):
            if n == 64 and "network" not in link:
                continue
            a, b = step(updates, compute, n, bw, alpha, False), step(updates, compute, n, bw, alpha, True)
            print(f"| {link} | {n} | {a * 1e3:.2f} ms | {b * 1e3:.2f} ms | {one / a:.0%} / {one / b:.0%} |")
