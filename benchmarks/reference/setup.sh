#!/usr/bin/env bash
# The references the benchmarks compare with, from Debian's own packages (no pip): numpy with OpenBLAS for
# the CPU GEMM, and PyTorch 1.13 (CPU build) for the end-to-end training steps. Run as root (or with sudo).
# Use Debian's interpreter, /usr/bin/python3, to run the reference scripts afterwards.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q python3-numpy libopenblas0-pthread python3-torch
/usr/bin/python3 -c "import numpy, torch; print('numpy', numpy.__version__, 'torch', torch.__version__)"
