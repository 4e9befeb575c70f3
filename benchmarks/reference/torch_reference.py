#!/usr/bin/env python3
"""The PyTorch eager reference for `nativegan bench`: the same workloads, shapes and optimizers.

Prints one JSON object per line with the keys `nativegan bench --json` prints:
  {"workload", "impl", "device", "batch", "steps_per_s", "step_ms_median", "step_ms_min", "step_ms_max",
   "steps", "warmup", "peak_mem_bytes"}
so benchmarks/reference/compare.py can pair them and write the ratio table.

Workloads (DCGAN of Radford et al. at 32x32, one channel, as in src/Gan/Gans/Dcgan.cs):
  dcgan32    one discriminator update (BCE with logits on a real and a fake batch) and one generator update
             (non-saturating), Adam 2e-4 (0.5, 0.999).
  wgan-gp32  five critic updates (Wasserstein loss + 10 * gradient penalty on random interpolates, double
             backward), then one generator update; Adam 1e-4 (0, 0.9); the critic has no normalisation.
  gemm       C = A @ B, square fp32, GFLOP/s (TF32 off).
  gemm-tf32  the same with TF32 tensor cores allowed (torch.backends.cuda.matmul.allow_tf32 = True).

Usage: python3 torch_reference.py [--device cpu|cuda] [--workloads dcgan32,wgan-gp32,gemm] [--batches 64,256]
                                  [--steps 50] [--warmup 5] [--threads N]
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def generator(latent=100, width=64, channels=1, side=32):
    stages = {8: 1, 16: 2, 32: 3, 64: 4}[side]
    c = width << (stages - 1)
    layers = [nn.ConvTranspose2d(latent, c, 4, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
    for _ in range(1, stages):
        layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU()]
        c //= 2
    layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


def discriminator(width=64, channels=1, side=32, norm="batch"):
    stages = {8: 1, 16: 2, 32: 3, 64: 4}[side]
    c = width
    layers = [nn.Conv2d(channels, c, 4, 2, 1, bias=(norm == "none")), nn.LeakyReLU(0.2)]
    for _ in range(1, stages):
        layers.append(nn.Conv2d(c, c * 2, 4, 2, 1, bias=(norm == "none")))
        c *= 2
        if norm == "batch":
            layers.append(nn.BatchNorm2d(c))
        elif norm == "instance":
            layers.append(nn.InstanceNorm2d(c, affine=True))
        layers.append(nn.LeakyReLU(0.2))
    layers.append(nn.Conv2d(c, 1, 4))
    return nn.Sequential(*layers)


def init_dcgan(m):
    for name, p in m.named_parameters():
        if p.dim() == 4:
            nn.init.normal_(p, 0.0, 0.02)
        elif name.endswith("weight"):
            nn.init.normal_(p, 1.0, 0.02)
        else:
            nn.init.zeros_(p)


def dcgan_step(dev, batch, state):
    g, d, opt_g, opt_d = state
    real = torch.rand(batch, 1, 32, 32, device=dev) * 2 - 1
    z = torch.randn(batch, 100, 1, 1, device=dev)
    fake = g(z)
    loss_d = F.binary_cross_entropy_with_logits(d(real), torch.ones(batch, 1, 1, 1, device=dev)) + \
        F.binary_cross_entropy_with_logits(d(fake.detach()), torch.zeros(batch, 1, 1, 1, device=dev))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    loss_g = F.binary_cross_entropy_with_logits(d(fake), torch.ones(batch, 1, 1, 1, device=dev))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return loss_d, loss_g


def wgan_gp_step(dev, batch, state, n_critic=5, lam=10.0):
    g, d, opt_g, opt_d = state
    for _ in range(n_critic):
        real = torch.rand(batch, 1, 32, 32, device=dev) * 2 - 1
        z = torch.randn(batch, 100, 1, 1, device=dev)
        with torch.no_grad():
            fake = g(z)
        e = torch.rand(batch, 1, 1, 1, device=dev)
        x_hat = (real + e * (fake - real)).requires_grad_(True)
        grad, = torch.autograd.grad(d(x_hat).sum(), x_hat, create_graph=True)
        penalty = lam * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
        loss_d = d(fake).mean() - d(real).mean() + penalty
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
    z = torch.randn(batch, 100, 1, 1, device=dev)
    loss_g = -d(g(z)).mean()
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return loss_d, loss_g


def make_state(workload, dev):
    torch.manual_seed(1)
    g = generator().to(dev)
    if workload == "dcgan32":
        d = discriminator(norm="batch").to(dev)
        lr, betas = 2e-4, (0.5, 0.999)
    else:
        d = discriminator(norm="none").to(dev)
        lr, betas = 1e-4, (0.0, 0.9)
    init_dcgan(g)
    init_dcgan(d)
    return g, d, torch.optim.Adam(g.parameters(), lr, betas), torch.optim.Adam(d.parameters(), lr, betas)


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def time_steps(dev, step, warmup, steps):
    times = []
    for i in range(warmup + steps):
        sync(dev)
        t0 = time.perf_counter()
        losses = step()
        for v in losses:
            v.item()  # the loss reaches the host, as `nativegan bench` reads it back
        sync(dev)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return times


def report(workload, dev, batch, times, warmup, extra=None):
    med = statistics.median(times)
    row = {
        "workload": workload, "impl": "pytorch", "torch": torch.__version__, "device": device_name(dev),
        "batch": batch, "steps_per_s": 1.0 / med, "step_ms_median": med * 1e3, "step_ms_min": min(times) * 1e3,
        "step_ms_max": max(times) * 1e3, "steps": len(times), "warmup": warmup,
        "peak_mem_bytes": torch.cuda.max_memory_allocated() if dev.type == "cuda" else None,
    }
    if extra:
        row.update(extra)
    print(json.dumps(row), flush=True)


def device_name(dev):
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return f"cpu ({torch.get_num_threads()} threads)"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--workloads", default="dcgan32,wgan-gp32,gemm")
    ap.add_argument("--batches", default="64,256")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--gemm-sizes", default="512,1024,2048,4096")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    dev = torch.device(a.device)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 against fp32
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    for workload in a.workloads.split(","):
        if workload in ("dcgan32", "wgan-gp32"):
            for batch in (int(b) for b in a.batches.split(",")):
                if dev.type == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                state = make_state(workload, dev)
                fn = dcgan_step if workload == "dcgan32" else wgan_gp_step
                times = time_steps(dev, lambda: fn(dev, batch, state), a.warmup, a.steps)
                report(workload, dev, batch, times, a.warmup)
        elif workload in ("gemm", "gemm-tf32"):
            torch.backends.cuda.matmul.allow_tf32 = workload == "gemm-tf32"
            for n in (int(s) for s in a.gemm_sizes.split(",")):
                x = torch.rand(n, n, device=dev) - 0.5
                y = torch.rand(n, n, device=dev) - 0.5
                reps = max(3, min(50, int(2e11 / (2 * n ** 3))))
                times = time_steps(dev, lambda: (x @ y)[:1, :1].sum().reshape(1), 2, reps)
                med = statistics.median(times)
                report(workload, dev, n, times, 2, {"gflops": 2 * n ** 3 / med / 1e9})
            torch.backends.cuda.matmul.allow_tf32 = False
        else:
            sys.exit(f"unknown workload {workload}")


if __name__ == "__main__":
    main()
