#!/usr/bin/env bash
# The project's side of running on a CUDA machine that has no .NET (see ../shared/gpu/README.md).
#   here:               bash tools/gpu.sh pack          builds and packs into .gpu/ (git-ignored)
#   on the GPU machine: bash tools/gpu.sh run [OUTDIR]  the tests, the kernel lab, the kernel table, SGEMM of every
#                                                       GEMM variant at 1024-8192 beside cuBLAS (fp32 and TF32),
#                                                       then the end-to-end table against PyTorch eager
#                       bash tools/gpu.sh modes [OUTDIR] the mode-coverage protocol (5 seeds, STEPS steps) on cuda
#                       bash tools/gpu.sh mnist [OUTDIR] DCGAN and WGAN-GP on MNIST, scored (carry .cache/data:
#                                                       that machine reaches no package registry)
# Every phase writes its log under OUTDIR (default $OUT, the folder the device tool brings back).
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
    # SGEMM per variant (v1 only up to 2048) at 1024-8192: what retunes Gemm.GpuTable (src/Kernels/Ops/Gemm.cs).
    for n in 1024 2048 4096 8192; do
      dotnet .gpu/NativeGan.Cli/nativegan.dll lab gemm --device cuda --variant all --size $n --repeats 10 2>&1 | tee "$out/gemm$n.log" || true
    done
    # Ours against PyTorch eager in the same run (cuBLAS SGEMM with TF32 off and on, then the two GAN workloads).
    python3 benchmarks/reference/torch_reference.py --device cuda --workloads gemm,gemm-tf32 --gemm-sizes 1024,2048,4096,8192 \
      2>&1 | tee "$out/torch-gemm.jsonl" || true
    NATIVEGAN="dotnet .gpu/NativeGan.Cli/nativegan.dll" python3 benchmarks/reference/compare.py --device cuda \
      --batches 64,256 --steps 50 --warmup 5 --out "$out/compare.md" 2>&1 | tee "$out/compare.log" || true
    ;;
  modes|mnist)
    out=${2:-${OUT:-gpu-results}}
    mkdir -p "$out"
    rt=${TMPDIR:-/tmp}/nativegan-dotnet
    [[ -d $rt ]] || bash .gpu/run.sh NativeGan.Cli --version >/dev/null 2>&1 || true # unpacks the runtime once
    export DOTNET_ROOT=$rt PATH=$rt:$PATH NATIVEGAN="dotnet .gpu/NativeGan.Cli/nativegan.dll" LOGDIR="$out"
    if [[ $1 == modes ]]; then SEEDS=${SEEDS:-"1 2 3 4 5"} bash docs/experiments/experiments.sh modes cuda
    else bash docs/experiments/experiments.sh main cuda; bash docs/experiments/experiments.sh long cuda; fi
    cp -r runs "$out/runs" 2>/dev/null || true
    ;;
  *)
    echo "usage: bash tools/gpu.sh pack | run [OUTDIR] | modes [OUTDIR] | mnist [OUTDIR]" >&2
    exit 2
    ;;
esac
