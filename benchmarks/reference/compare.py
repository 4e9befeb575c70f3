#!/usr/bin/env python3
"""Runs `nativegan bench --json` and torch_reference.py on the same machine, one after the other, and prints
the ratio table (ours / PyTorch eager) as Markdown, with the machine and the date.

Usage (from the repository root, after `dotnet build -c Release tools/NativeGan.Cli` or with NATIVEGAN set to a
command that runs the program, e.g. on a GPU machine "dotnet .gpu/NativeGan.Cli/nativegan.dll"):
  python3 benchmarks/reference/compare.py --device cpu --batches 64 --steps 10 [--out table.md]
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = {"dcgan32": "dcgan", "wgan-gp32": "wgan-gp"}


def run_json(cmd):
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--workloads", default="dcgan32,wgan-gp32")
    ap.add_argument("--batches", default="64,256")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="PyTorch CPU threads (Debian's build starts with 1)")
    ap.add_argument("--out")
    a = ap.parse_args()
    ours_cmd = shlex.split(os.environ.get("NATIVEGAN", "dotnet tools/NativeGan.Cli/bin/Release/net10.0/nativegan.dll"))
    rows = []
    for w in a.workloads.split(","):
        for b in a.batches.split(","):
            ours = run_json(ours_cmd + ["bench", WORKLOADS[w], "--device", a.device, "--batch", b,
                                        "--steps", str(a.steps), "--warmup", str(a.warmup), "--json"])
            ref = run_json([sys.executable, os.path.join(HERE, "torch_reference.py"), "--device", a.device,
                            "--workloads", w, "--batches", b, "--steps", str(a.steps), "--warmup", str(a.warmup),
                            "--threads", str(a.threads)])
            rows.append((w, int(b), ours[0], ref[0]))
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Machine: {platform.node()} ({platform.processor() or platform.machine()}), device `{a.device}`; "
             f"ours: {rows[0][2]['device']}; PyTorch {rows[0][3].get('torch', '?')}: {rows[0][3]['device']}; {date}.",
             f"Command: `python3 benchmarks/reference/compare.py --device {a.device} --batches {a.batches} --steps {a.steps}`", "",
             "| workload | batch | NativeGan steps/s | PyTorch eager steps/s | ours / PyTorch |",
             "|---|---:|---:|---:|---:|"]
    for w, b, o, r in rows:
        lines.append(f"| {w} | {b} | {o['steps_per_s']:.2f} | {r['steps_per_s']:.2f} | {o['steps_per_s'] / r['steps_per_s']:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
