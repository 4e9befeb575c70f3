#!/usr/bin/env bash
# The project's side of running on a CUDA machine that has no .NET (see ../shared/gpu/README.md).
#   here:               bash tools/gpu.sh pack          builds and packs into .gpu/ (git-ignored)
#   on the GPU machine: bash tools/gpu.sh run [OUTDIR]  runs the tests, the kernel lab and the kernel
#                                                       table on cuda and writes logs to OUTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  pack)
    bash ../shared/gpu/pack.sh .gpu tests/NativeGan.Tests tools/NativeGan.Cli
    ;;
  run)
    out=${2:-${OUT:-gpu-results}}
    mkdir -p "$out"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt" || true
    # The test executable's project folder and assembly share a name, so run.sh finds it.
    bash .gpu/run.sh NativeGan.Tests -noColor 2>&1 | tee "$out/tests.log" || true
    # The CLI's assembly is 'nativegan' (not its folder's name): run it with the runtime run.sh unpacked.
    rt=${TMPDIR:-/tmp}/nativegan-dotnet
    export DOTNET_ROOT=$rt PATH=$rt:$PATH
    dotnet .gpu/NativeGan.Cli/nativegan.dll devices 2>&1 | tee "$out/devices.log" || true
    dotnet .gpu/NativeGan.Cli/nativegan.dll lab --device cuda --repeats 20 2>&1 | tee "$out/lab.log" || true
    dotnet .gpu/NativeGan.Cli/nativegan.dll kernels 2>&1 | tee "$out/kernels.log" || true
    ;;
  *)
    echo "usage: bash tools/gpu.sh pack | run [OUTDIR]" >&2
    exit 2
    ;;
esac
