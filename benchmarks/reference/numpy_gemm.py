#!/usr/bin/env python3
"""numpy + OpenBLAS SGEMM reference for the GEMM benchmark (benchmarks/RESULTS.md, '## GEMM (cpu)').

Prints one JSON object: the BLAS library numpy loaded, its OpenBLAS core (kernel family) and thread
count, and for each M x N x K the best-of-N time of C = A @ B in float32, its GFLOP/s (2 M N K / t),
and GFLOP per second of CPU time used (less disturbed by other work on a shared machine), the same
two figures as the C# quick measurement (benchmarks/NativeGan.Benchmarks: gemm-quick).

Debian's numpy links libblas.so.3, chosen by update-alternatives; for this benchmark it should point
at openblas-pthread:  update-alternatives --display libblas.so.3-x86_64-linux-gnu
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, if set on the machine, force a kernel: unset them for this
command only, e.g.  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 numpy_gemm.py
"""
import ctypes
import json
import os
import sys
import time

import numpy as np


def loaded_blas():
    """The BLAS shared object numpy actually mapped, with OpenBLAS's own description when it is OpenBLAS."""
    paths = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in os.path.basename(path).lower():
                paths.add(path)
    info = {"libraries": sorted(paths)}
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            info.update(core=lib.openblas_get_corename().decode(), config=lib.openblas_get_config().decode(),
                        threads=lib.openblas_get_num_threads())
            break
        except (OSError, AttributeError):
            continue
    return info


def measure(m, n, k, seconds=2.0):
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
    c = np.empty((m, n), np.float32)
    np.matmul(a, b, out=c)  # warm-up
    best, best_cpu, spent, reps = float("inf"), float("inf"), 0.0, 0
    while (spent < seconds or reps < 3) and reps < 200:
        t, cpu = time.perf_counter(), time.process_time()
        np.matmul(a, b, out=c)
        dt, dcpu = time.perf_counter() - t, time.process_time() - cpu
        best, best_cpu, spent, reps = min(best, dt), min(best_cpu, dcpu), spent + dt, reps + 1
    flop = 2 * m * n * k
    return {"shape": f"{m}x{n}x{k}", "best_ms": round(best * 1e3, 3), "gflops": round(flop / best / 1e9, 1),
            "gflop_per_cpu_second": round(flop / best_cpu / 1e9, 1), "reps": reps}


if __name__ == "__main__":
    shapes = sys.argv[1:] or ["512x512x512", "1024x1024x1024", "2048x2048x2048", "64x16384x288", "64x8192x100"]
    results = [measure(*map(int, s.split("x"))) for s in shapes]
    print(json.dumps({
        "numpy": np.__version__,
        "blas": loaded_blas(),
        "env": {v: os.environ.get(v) for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS")},
        "cpus": os.cpu_count(),
        "results": results,
    }, indent=1))
