#!/usr/bin/env bash
# The runs behind docs/RESULTS.md, in order, each logged to runs/experiments/NAME.log (git-ignored).
#   bash tools/experiments.sh [main|ae|modes|long|all] [DEVICE]
# Every command is the `nativegan` program's own: what the table reports, anyone can rerun.
set -uo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
device=${2:-cpu}
# NATIVEGAN: a command that runs the program (on a GPU machine without the SDK, the packed build: tools/gpu.sh).
if [[ -z ${NATIVEGAN:-} ]]; then
  dotnet build -c Release tools/NativeGan.Cli -v quiet -clp:ErrorsOnly >/dev/null
fi
N=${NATIVEGAN:-"dotnet tools/NativeGan.Cli/bin/Release/net10.0/nativegan.dll"}
log=${LOGDIR:-runs/experiments}
mkdir -p "$log"
run() { # NAME COMMAND...: runs and logs a command with its wall time
  local name=$1; shift
  echo "== $name: $*" | tee "$log/$name.log"
  local t0=$SECONDS
  "$@" 2>&1 | tee -a "$log/$name.log" | tail -n 4
  echo "wall ${name}: $((SECONDS - t0)) s" | tee -a "$log/$name.log"
}

if [[ $what == main || $what == all ]]; then
  # The README's main job, then its MNIST scores.
  run dcgan-main $N train dcgan --device "$device" --epochs 6 --set g_width=32 --set d_width=32 --out runs/mnist-dcgan
  run classifier $N eval classifier --device "$device"
  run dcgan-main-eval $N eval mnist --checkpoint runs/mnist-dcgan/checkpoint.safetensors --device "$device" --count 5000
fi

if [[ $what == ae || $what == all ]]; then
  # Each autoencoder kind at code 32 (overcomplete: 1024) on MNIST, 5 epochs, then the held-out numbers.
  for kind in undercomplete sparse denoising contractive overcomplete vae; do
    run "ae-$kind" $N train ae --kind "$kind" --device "$device" --epochs 5 --out "runs/ae-$kind"
    run "ae-$kind-eval" $N eval ae --checkpoint "runs/ae-$kind/checkpoint.safetensors" --device "$device" --pictures "runs/ae-$kind/pictures"
  done
  run ae-vae2 $N train ae --kind vae --set code=2 --device "$device" --epochs 5 --out runs/ae-vae2
  run ae-vae2-eval $N eval ae --checkpoint runs/ae-vae2/checkpoint.safetensors --device "$device" --pictures runs/ae-vae2/pictures
fi

if [[ $what == modes || $what == all ]]; then
  # Mode coverage on the 2D mixtures (PacGAN protocol, fewer steps and seeds than the paper: see docs/RESULTS.md).
  steps=${STEPS:-2000}
  for seed in ${SEEDS:-1}; do
    for data in ring8 grid25; do
      run "wgan-gp-$data-$seed" $N train wgan-gp --data "$data" --seed "$seed" --device "$device" --steps "$steps" --sample-every 500 --out "runs/wgan-gp-$data-$seed"
      run "wgan-gp-$data-$seed-eval" $N eval modes --checkpoint "runs/wgan-gp-$data-$seed/checkpoint.safetensors" --device "$device"
      run "gan-mbd-$data-$seed" $N train gan --data "$data" --seed "$seed" --set minibatch_disc=true --device "$device" --steps "$steps" --sample-every 500 --out "runs/gan-mbd-$data-$seed"
      run "gan-mbd-$data-$seed-eval" $N eval modes --checkpoint "runs/gan-mbd-$data-$seed/checkpoint.safetensors" --device "$device"
      run "gan-$data-$seed" $N train gan --data "$data" --seed "$seed" --device "$device" --steps "$steps" --sample-every 500 --out "runs/gan-$data-$seed"
      run "gan-$data-$seed-eval" $N eval modes --checkpoint "runs/gan-$data-$seed/checkpoint.safetensors" --device "$device"
    done
  done
fi

if [[ $what == long ]]; then
  # Longer runs towards issue 6's targets: DCGAN at the paper's widths for EPOCHS epochs, scored on MNIST; WGAN-GP
  # on both mixtures for STEPS generator steps (default 6,240: 20 epochs) per seed, with the 2D default lambda 0.1,
  # plus the lambda-10 comparison on the ring; the minibatch-discrimination GAN for 3,000 steps.
  run dcgan-long $N train dcgan --device "$device" --epochs "${EPOCHS:-20}" --out runs/mnist-dcgan-long
  run dcgan-long-eval $N eval mnist --checkpoint runs/mnist-dcgan-long/checkpoint.safetensors --device "$device" --count 5000
  run wgan-gp-ring8-lambda10 $N train wgan-gp --data ring8 --seed 1 --device "$device" --steps "${STEPS:-6240}" --set gp_lambda=10 --sample-every 1000 --out runs/wgan-gp-ring8-lambda10
  run wgan-gp-ring8-lambda10-eval $N eval modes --checkpoint runs/wgan-gp-ring8-lambda10/checkpoint.safetensors --device "$device"
  for seed in ${SEEDS:-1 2 3 4 5}; do
    for data in ring8 grid25; do
      run "wgan-gp-$data-l01-s$seed" $N train wgan-gp --data "$data" --seed "$seed" --device "$device" --steps "${STEPS:-6240}" --sample-every 1000 --out "runs/wgan-gp-$data-l01-s$seed"
      run "wgan-gp-$data-l01-s$seed-eval" $N eval modes --checkpoint "runs/wgan-gp-$data-l01-s$seed/checkpoint.safetensors" --device "$device"
    done
  done
  for data in ring8 grid25; do
    run "gan-mbd-$data-3k" $N train gan --data "$data" --seed 1 --set minibatch_disc=true --device "$device" --steps 3000 --sample-every 1000 --out "runs/gan-mbd-$data-3k"
    run "gan-mbd-$data-3k-eval" $N eval modes --checkpoint "runs/gan-mbd-$data-3k/checkpoint.safetensors" --device "$device"
  done
fi
