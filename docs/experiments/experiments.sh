#!/usr/bin/env bash
# The runs behind docs/RESULTS.md and the dated record in docs/journal/, in the order they were made, each logged to
# runs/experiments/NAME.log (git-ignored). It changes to the repository root first, so it runs from any directory.
#   bash docs/experiments/experiments.sh [main|ae|modes|long|longer|wgan-gp-long|wgan-gp-longer|cool|smoothing|grid-seeds|grid-longer|bridges|cool-batch|pacgan|grid-b256|grid-fast|grid-rates|grid-recipe|grid-r1|grid-r1-levers|grid-nobn|wgan-gp-mnist|wgan-gp-mnist-long|classifier10|truncation|radialgan|radialgan-variants|radialgan-small|radialgan-long|radialgan-sweep|radialgan-sweep-long|radialgan-cyclegan|radialgan-small-cyclegan|music|crnn-gan-diagnosis|musegan|musegan-diagnosis|crnn-gan-time|progan-fashion|stylegan-stacked|stackgan-emoji|stackgan-emoji-long|stacked-modes|all] [DEVICE]
# Every command is the `nativegan` program's own: what the table reports, anyone can rerun.
set -uo pipefail
cd "$(dirname "$0")/../.."
what=${1:-all}
device=${2:-cpu}
# NATIVEGAN: a command that runs the program (on a GPU machine without the SDK, the packed build: tools/gpu.sh).
if [[ -z ${NATIVEGAN:-} ]]; then
  dotnet build -c Release tools/NativeGan.Cli -v quiet -clp:ErrorsOnly >/dev/null
fi
N=${NATIVEGAN:-"dotnet tools/NativeGan.Cli/bin/Release/net10.0/nativegan.dll"}
log=${LOGDIR:-runs/experiments}
# The judges the reported MNIST figures were scored with, pinned: the recipe is 10 epochs since the eighth session,
# but the earlier figures came from the bundled-digit classifier at 8 epochs and the full-MNIST one at 3.
E8=.cache/data/mnist-classifier-e8.safetensors
E3=.cache/data/mnist60k-classifier-e3.safetensors
mkdir -p "$log"
run() { # NAME COMMAND...: runs and logs a command with its wall time
  local name=$1; shift
  echo "== $name: $*" | tee "$log/$name.log"
  local t0=$SECONDS
  "$@" 2>&1 | tee -a "$log/$name.log" | tail -n 4
  echo "wall ${name}: $((SECONDS - t0)) s" | tee -a "$log/$name.log"
}
both() { # NAME EVAL-ARGS...: scores a checkpoint with the generator average and with the live (trained) generator
  local name=$1; shift
  for g in average live; do run "$name-eval-$g" $N eval "$@" --device "$device" --generator "$g"; done
}

grid_phase() { # SEED FROM TO STEPS [--set ...]: wgan-gp grid run FROM copied to TO and trained on to STEPS at batch 64, then scored
  local seed=$1 from=$2 to=$3 steps=$4; shift 4
  rm -rf runs/$to && cp -r runs/$from runs/$to
  run $to $N train wgan-gp --data grid25 --seed $seed --device "$device" --steps $steps --resume --sample-every 1000 --out runs/$to "$@"
  both $to modes --checkpoint runs/$to/checkpoint.safetensors
}
grid_cool() { # SEED FROM TO START [--set ...]: wgan-gp grid run FROM copied to TO, 10,000 steps of 256 cooled to 0 from START, scored
  local seed=$1 from=$2 to=$3 start=$4; shift 4
  rm -rf runs/$to && cp -r runs/$from runs/$to
  run $to $N train wgan-gp --data grid25 --seed $seed --device "$device" --steps $((start + 10000)) --batch 256 --resume --sample-every 1000 --out runs/$to --set lr_decay_start=$start --set lr_decay_end=$((start + 10000)) "$@"
  both $to modes --checkpoint runs/$to/checkpoint.safetensors
}

if [[ $what == main || $what == all ]]; then
  # The README's main job, then its MNIST scores.
  run dcgan-main $N train dcgan --device "$device" --steps 1700 --set g_width=32 --set d_width=32 --set lr_g=2e-3 --set lr_d=2e-3 --set lr_decay_start=1360 --set lr_decay_end=1700 --out runs/mnist-dcgan
  # Scored on eval mnist's default judge (10 epochs on the bundled digits, trained and cached on first use).
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
  # Longer runs towards issue 6's targets (docs/RESULTS.md). Every GAN keeps a moving average of its generator
  # (g_ema 0.999, the default); each checkpoint is scored twice: with the average and with the trained generator
  # (--generator live), so the two numbers come from one training run. The 2D runs were made two at a time with
  # DOTNET_PROCESSOR_COUNT=1 (one core each: these small networks gain nothing from a second thread).
  run dcgan-long $N train dcgan --device "$device" --epochs "${EPOCHS:-20}" --out runs/mnist-dcgan-long
  both dcgan-long mnist --checkpoint runs/mnist-dcgan-long/checkpoint.safetensors --classifier "$E8" --count 5000
  # The full MNIST (60,000 digits): its own classifier (3 epochs), then DCGAN for as many steps as the run above.
  run classifier60k $N eval classifier --reference mnist60k --epochs 3 --device "$device"
  run dcgan60k $N train dcgan --data mnist60k --device "$device" --steps 2800 --out runs/mnist60k-dcgan
  both dcgan60k mnist --reference mnist60k --checkpoint runs/mnist60k-dcgan/checkpoint.safetensors --classifier "$E3" --count 5000
  run dcgan-long-60k $N eval mnist --reference mnist60k --checkpoint runs/mnist-dcgan-long/checkpoint.safetensors --device "$device" --classifier "$E3" --count 5000
  run dcgan60k-5600 $N train dcgan --data mnist60k --device "$device" --steps 5600 --resume --out runs/mnist60k-dcgan
  both dcgan60k-5600 mnist --reference mnist60k --checkpoint runs/mnist60k-dcgan/checkpoint.safetensors --classifier "$E3" --count 5000
  run wgan-gp-ring8-lambda10 $N train wgan-gp --data ring8 --seed 1 --device "$device" --steps "${STEPS:-6240}" --set gp_lambda=10 --sample-every 1000 --out runs/wgan-gp-ring8-lambda10
  both wgan-gp-ring8-lambda10 modes --checkpoint runs/wgan-gp-ring8-lambda10/checkpoint.safetensors
  for seed in ${SEEDS:-1 2 3 4 5}; do
    for data in ring8 grid25; do
      run "wgan-gp-$data-s$seed" $N train wgan-gp --data "$data" --seed "$seed" --device "$device" --steps "${STEPS:-6240}" --sample-every 1000 --out "runs/wgan-gp-$data-s$seed"
      both "wgan-gp-$data-s$seed" modes --checkpoint "runs/wgan-gp-$data-s$seed/checkpoint.safetensors"
      run "gan-mbd-$data-s$seed" $N train gan --data "$data" --seed "$seed" --set minibatch_disc=true --device "$device" --steps "${STEPS:-6240}" --sample-every 1000 --out "runs/gan-mbd-$data-s$seed"
      both "gan-mbd-$data-s$seed" modes --checkpoint "runs/gan-mbd-$data-s$seed/checkpoint.safetensors"
    done
  done
  for data in ring8 grid25; do # the plain GAN, seed 1
    run "gan-$data-s1" $N train gan --data "$data" --seed 1 --device "$device" --steps "${STEPS:-6240}" --sample-every 1000 --out "runs/gan-$data-s1"
    both "gan-$data-s1" modes --checkpoint "runs/gan-$data-s1/checkpoint.safetensors"
  done
fi

if [[ $what == longer ]]; then
  # Training length and the learning-rate schedule (docs/RESULTS.md, 2026-11-24). Continues `long`'s full-MNIST
  # DCGAN (runs/mnist60k-dcgan at 5,600 steps). The 2D runs used one core each; the DCGAN run both cores from step
  # 9,704 on (before that one core): the cpu's parallel sums add in another order with another thread count, so a
  # rerun on two cores throughout gives close but not identical scores.
  for seed in 1 2 3; do
    run "gan-mbd-grid25-25k-s$seed" $N train gan --data grid25 --seed "$seed" --set minibatch_disc=true --device "$device" --steps 25000 --sample-every 1000 --out "runs/gan-mbd-grid25-25k-s$seed"
    both "gan-mbd-grid25-25k-s$seed" modes --checkpoint "runs/gan-mbd-grid25-25k-s$seed/checkpoint.safetensors"
  done
  run gan-mbd-grid25-decay $N train gan --data grid25 --seed 1 --set minibatch_disc=true --set lr_decay_end=6240 --device "$device" --steps 6240 --sample-every 1000 --out runs/gan-mbd-grid25-decay
  both gan-mbd-grid25-decay modes --checkpoint runs/gan-mbd-grid25-decay/checkpoint.safetensors
  run wgan-gp-grid25-decay $N train wgan-gp --data grid25 --seed 1 --set lr_decay_end=6240 --device "$device" --steps 6240 --sample-every 1000 --out runs/wgan-gp-grid25-decay
  both wgan-gp-grid25-decay modes --checkpoint runs/wgan-gp-grid25-decay/checkpoint.safetensors
  for s in 8600 12000 16000 20000; do
    run "dcgan60k-$s" $N train dcgan --data mnist60k --device "$device" --steps "$s" --resume --out runs/mnist60k-dcgan
    run "dcgan60k-$s-eval" $N eval mnist --reference mnist60k --checkpoint runs/mnist60k-dcgan/checkpoint.safetensors --device "$device" --classifier "$E3" --count 5000
  done
  # From step 20,000, 3,000 more steps twice: at the constant rate, and cooled down linearly to 0.
  rm -rf runs/mnist60k-dcgan-cool && cp -r runs/mnist60k-dcgan runs/mnist60k-dcgan-cool
  run dcgan60k-23000 $N train dcgan --data mnist60k --device "$device" --steps 23000 --resume --out runs/mnist60k-dcgan
  both dcgan60k-23000 mnist --reference mnist60k --checkpoint runs/mnist60k-dcgan/checkpoint.safetensors --classifier "$E3" --count 5000
  run dcgan60k-cool $N train dcgan --data mnist60k --device "$device" --steps 23000 --resume --out runs/mnist60k-dcgan-cool --set lr_decay_start=20000 --set lr_decay_end=23000
  both dcgan60k-cool mnist --reference mnist60k --checkpoint runs/mnist60k-dcgan-cool/checkpoint.safetensors --classifier "$E3" --count 5000
fi

if [[ $what == wgan-gp-long ]]; then
  # WGAN-GP at four times the protocol's 6,240 steps (docs/RESULTS.md, 2026-11-24, sixth session): the ring in
  # all five seeds, the grid in seed 1, then ring seed 1 continued to 40,000 steps. One core each, two at a time.
  for seed in 1 2 3 4 5; do
    run "wgan-gp-ring8-25k-s$seed" $N train wgan-gp --data ring8 --seed "$seed" --device "$device" --steps 25000 --sample-every 1000 --out "runs/wgan-gp-ring8-25k-s$seed"
    both "wgan-gp-ring8-25k-s$seed" modes --checkpoint "runs/wgan-gp-ring8-25k-s$seed/checkpoint.safetensors"
  done
  run wgan-gp-grid25-25k-s1 $N train wgan-gp --data grid25 --seed 1 --device "$device" --steps 25000 --sample-every 1000 --out runs/wgan-gp-grid25-25k-s1
  both wgan-gp-grid25-25k-s1 modes --checkpoint runs/wgan-gp-grid25-25k-s1/checkpoint.safetensors
  rm -rf runs/wgan-gp-ring8-40k-s1 && cp -r runs/wgan-gp-ring8-25k-s1 runs/wgan-gp-ring8-40k-s1
  run wgan-gp-ring8-40k-s1 $N train wgan-gp --data ring8 --seed 1 --device "$device" --steps 40000 --resume --sample-every 1000 --out runs/wgan-gp-ring8-40k-s1
  both wgan-gp-ring8-40k-s1 modes --checkpoint runs/wgan-gp-ring8-40k-s1/checkpoint.safetensors
fi

if [[ $what == wgan-gp-longer ]]; then
  # The five ring runs of wgan-gp-long continued (docs/RESULTS.md, 2026-11-24, seventh session): each leg copies the
  # previous leg's run folder and resumes it, so every length keeps its own checkpoint and scores.
  for leg in "25k 40k 40000" "40k 50k 50000"; do
    read -r from to steps <<<"$leg"
    for seed in 1 2 3 4 5; do
      [[ $to == 40k && $seed == 1 ]] && continue # made by wgan-gp-long
      rm -rf "runs/wgan-gp-ring8-$to-s$seed" && cp -r "runs/wgan-gp-ring8-$from-s$seed" "runs/wgan-gp-ring8-$to-s$seed"
      run "wgan-gp-ring8-$to-s$seed" $N train wgan-gp --data ring8 --seed "$seed" --device "$device" --steps "$steps" --resume --sample-every 1000 --out "runs/wgan-gp-ring8-$to-s$seed"
      both "wgan-gp-ring8-$to-s$seed" modes --checkpoint "runs/wgan-gp-ring8-$to-s$seed/checkpoint.safetensors"
    done
  done
fi

if [[ $what == cool ]]; then
  # A cool-down at length (eighth session): the 50,000-step ring runs of wgan-gp-longer and the 30,000-step grid
  # seed 1 of wgan-gp-long, each copied and resumed for 10,000 more steps with both learning rates falling
  # linearly to 0 (--set lr_decay_start/lr_decay_end: a resumed run may change its schedule and nothing else).
  cooldown() { # DATA SEED FROM TO FROMSTEP STEPS
    local src="runs/wgan-gp-$1-$3-s$2" dst="runs/wgan-gp-$1-$4-s$2"
    rm -rf "$dst" && cp -r "$src" "$dst"
    run "wgan-gp-$1-$4-s$2" $N train wgan-gp --data "$1" --seed "$2" --device "$device" --steps "$6" --resume --sample-every 1000 --out "$dst" --set lr_decay_start="$5" --set lr_decay_end="$6"
    both "wgan-gp-$1-$4-s$2" modes --checkpoint "$dst/checkpoint.safetensors"
  }
  for seed in 1 2 3 4 5; do cooldown ring8 "$seed" 50k 60kcool 50000 60000; done
  # grid seed 1: 25,000 -> 30,000 at the constant rate (seventh session), then the cool-down from there
  rm -rf runs/wgan-gp-grid25-30k-s1 && cp -r runs/wgan-gp-grid25-25k-s1 runs/wgan-gp-grid25-30k-s1
  run wgan-gp-grid25-30k-s1 $N train wgan-gp --data grid25 --seed 1 --device "$device" --steps 30000 --resume --sample-every 1000 --out runs/wgan-gp-grid25-30k-s1
  both wgan-gp-grid25-30k-s1 modes --checkpoint runs/wgan-gp-grid25-30k-s1/checkpoint.safetensors
  cooldown grid25 1 30k 40kcool 30000 40000
  cooldown grid25 1 30k 50kcool 30000 50000   # a cool-down twice as long
fi

if [[ $what == smoothing ]]; then
  # One-sided label smoothing (real_label 0.9) for the minibatch-discrimination GAN on the grid (eighth session):
  # seeds 1 and 3 at 6,240 steps, continued to 25,000, then cooled to 0 over 5,000 more; seed 2 the same from scratch;
  # then one ring run.
  for seed in 1 3; do
    run "gan-mbd-ls-grid25-s$seed" $N train gan --data grid25 --seed "$seed" --device "$device" --steps 6240 --set minibatch_disc=true --set real_label=0.9 --sample-every 1000 --out "runs/gan-mbd-ls-grid25-s$seed"
    both "gan-mbd-ls-grid25-s$seed" modes --checkpoint "runs/gan-mbd-ls-grid25-s$seed/checkpoint.safetensors"
    for leg in "s 25k 25000" "25k 30kcool 30000"; do
      read -r from to steps <<<"$leg"
      src="runs/gan-mbd-ls-grid25-s$seed"; [[ $from != s ]] && src="runs/gan-mbd-ls-grid25-$from-s$seed"
      dst="runs/gan-mbd-ls-grid25-$to-s$seed"
      rm -rf "$dst" && cp -r "$src" "$dst"
      schedule=(); [[ $to == 30kcool ]] && schedule=(--set lr_decay_start=25000 --set lr_decay_end=30000)
      run "gan-mbd-ls-grid25-$to-s$seed" $N train gan --data grid25 --seed "$seed" --device "$device" --steps "$steps" --resume --sample-every 1000 --out "$dst" "${schedule[@]}"
      both "gan-mbd-ls-grid25-$to-s$seed" modes --checkpoint "$dst/checkpoint.safetensors"
    done
  done
  run gan-mbd-ls-grid25-25k-s2 $N train gan --data grid25 --seed 2 --device "$device" --steps 25000 --set minibatch_disc=true --set real_label=0.9 --sample-every 1000 --out runs/gan-mbd-ls-grid25-25k-s2
  both gan-mbd-ls-grid25-25k-s2 modes --checkpoint runs/gan-mbd-ls-grid25-25k-s2/checkpoint.safetensors
  rm -rf runs/gan-mbd-ls-grid25-30kcool-s2 && cp -r runs/gan-mbd-ls-grid25-25k-s2 runs/gan-mbd-ls-grid25-30kcool-s2
  run gan-mbd-ls-grid25-30kcool-s2 $N train gan --data grid25 --seed 2 --device "$device" --steps 30000 --resume --sample-every 1000 --out runs/gan-mbd-ls-grid25-30kcool-s2 --set lr_decay_start=25000 --set lr_decay_end=30000
  both gan-mbd-ls-grid25-30kcool-s2 modes --checkpoint runs/gan-mbd-ls-grid25-30kcool-s2/checkpoint.safetensors
  # one ring run, the schedule set from the start
  run gan-mbd-ls-ring8-25kcool-s1 $N train gan --data ring8 --seed 1 --device "$device" --steps 25000 --set minibatch_disc=true --set real_label=0.9 --set lr_decay_start=20000 --set lr_decay_end=25000 --sample-every 1000 --out runs/gan-mbd-ls-ring8-25kcool-s1
  both gan-mbd-ls-ring8-25kcool-s1 modes --checkpoint runs/gan-mbd-ls-ring8-25kcool-s1/checkpoint.safetensors
fi

if [[ $what == grid-seeds ]]; then
  # The grid's other seeds at length (ninth session): wgan-gp as seed 1 of `cool` (30,000 steps at the constant
  # rate, then cooled to 0 over 20,000 more; the session ran them on from their 6,240-step runs, which resuming
  # makes the same), and the label-smoothed minibatch-discrimination GAN of `smoothing` in seeds 4 and 5.
  # The ninth session finished wgan-gp seeds 2, 3 and 4; the tenth ran seed 5 (from scratch: the same numbers).
  for seed in 2 3 4 5; do
    run "wgan-gp-grid25-30k-s$seed" $N train wgan-gp --data grid25 --seed "$seed" --device "$device" --steps 30000 --sample-every 1000 --out "runs/wgan-gp-grid25-30k-s$seed"
    both "wgan-gp-grid25-30k-s$seed" modes --checkpoint "runs/wgan-gp-grid25-30k-s$seed/checkpoint.safetensors"
    rm -rf "runs/wgan-gp-grid25-50kcool-s$seed" && cp -r "runs/wgan-gp-grid25-30k-s$seed" "runs/wgan-gp-grid25-50kcool-s$seed"
    run "wgan-gp-grid25-50kcool-s$seed" $N train wgan-gp --data grid25 --seed "$seed" --device "$device" --steps 50000 --resume --sample-every 1000 --out "runs/wgan-gp-grid25-50kcool-s$seed" --set lr_decay_start=30000 --set lr_decay_end=50000
    both "wgan-gp-grid25-50kcool-s$seed" modes --checkpoint "runs/wgan-gp-grid25-50kcool-s$seed/checkpoint.safetensors"
  done
  for seed in 4 5; do
    run "gan-mbd-ls-grid25-25k-s$seed" $N train gan --data grid25 --seed "$seed" --device "$device" --steps 25000 --set minibatch_disc=true --set real_label=0.9 --sample-every 1000 --out "runs/gan-mbd-ls-grid25-25k-s$seed"
    both "gan-mbd-ls-grid25-25k-s$seed" modes --checkpoint "runs/gan-mbd-ls-grid25-25k-s$seed/checkpoint.safetensors"
    rm -rf "runs/gan-mbd-ls-grid25-30kcool-s$seed" && cp -r "runs/gan-mbd-ls-grid25-25k-s$seed" "runs/gan-mbd-ls-grid25-30kcool-s$seed"
    run "gan-mbd-ls-grid25-30kcool-s$seed" $N train gan --data grid25 --seed "$seed" --device "$device" --steps 30000 --resume --sample-every 1000 --out "runs/gan-mbd-ls-grid25-30kcool-s$seed" --set lr_decay_start=25000 --set lr_decay_end=30000
    both "gan-mbd-ls-grid25-30kcool-s$seed" modes --checkpoint "runs/gan-mbd-ls-grid25-30kcool-s$seed/checkpoint.safetensors"
  done
fi

if [[ $what == grid-longer ]]; then
  # Tenth session, one core each: does a longer constant-rate phase help the grid? Seed 1 at 50,000 steps, then cooled
  # to 0 at 70,000 (against `cool`'s 30,000 cooled to 50,000). Then two tries at the minibatch-discrimination GAN's
  # lost grid lines on its worst seed (4): a latent of 8 dimensions instead of 2 (25,000 steps + 5,000 cooled, as
  # `grid-seeds`), and batches of 256 instead of 100 (15,000 steps: the time there was).
  run wgan-gp-grid25-50k-s1 $N train wgan-gp --data grid25 --seed 1 --device "$device" --steps 50000 --sample-every 1000 --out runs/wgan-gp-grid25-50k-s1
  both wgan-gp-grid25-50k-s1 modes --checkpoint runs/wgan-gp-grid25-50k-s1/checkpoint.safetensors
  rm -rf runs/wgan-gp-grid25-70kcool-s1 && cp -r runs/wgan-gp-grid25-50k-s1 runs/wgan-gp-grid25-70kcool-s1
  run wgan-gp-grid25-70kcool-s1 $N train wgan-gp --data grid25 --seed 1 --device "$device" --steps 70000 --resume --sample-every 1000 --out runs/wgan-gp-grid25-70kcool-s1 --set lr_decay_start=50000 --set lr_decay_end=70000
  both wgan-gp-grid25-70kcool-s1 modes --checkpoint runs/wgan-gp-grid25-70kcool-s1/checkpoint.safetensors
  run gan-mbd-z8-25k-s4 $N train gan --data grid25 --seed 4 --device "$device" --steps 25000 --set minibatch_disc=true --set real_label=0.9 --set latent=8 --sample-every 1000 --out runs/gan-mbd-z8-25k-s4
  both gan-mbd-z8-25k-s4 modes --checkpoint runs/gan-mbd-z8-25k-s4/checkpoint.safetensors
  rm -rf runs/gan-mbd-z8-30kcool-s4 && cp -r runs/gan-mbd-z8-25k-s4 runs/gan-mbd-z8-30kcool-s4
  run gan-mbd-z8-30kcool-s4 $N train gan --data grid25 --seed 4 --device "$device" --steps 30000 --resume --sample-every 1000 --out runs/gan-mbd-z8-30kcool-s4 --set lr_decay_start=25000 --set lr_decay_end=30000
  both gan-mbd-z8-30kcool-s4 modes --checkpoint runs/gan-mbd-z8-30kcool-s4/checkpoint.safetensors
  run gan-mbd-b256-15k-s4 $N train gan --data grid25 --seed 4 --device "$device" --steps 15000 --batch 256 --set minibatch_disc=true --set real_label=0.9 --sample-every 1000 --out runs/gan-mbd-b256-15k-s4
  both gan-mbd-b256-15k-s4 modes --checkpoint runs/gan-mbd-b256-15k-s4/checkpoint.safetensors
fi

if [[ $what == bridges ]]; then
  # Eleventh session, one core each: where the grid's other samples lie (eval modes prints the clusters' core width and
  # centre offset; --points writes every point), then the grid's cool-down with batches of 256 instead of 64 (seed 5 from
  # `grid-seeds`' 30,000-step run, seed 1 from `grid-longer`'s 50,000) and with a weaker penalty (gp_lambda 0.1 -> 0.01).
  # The table re-scores at the protocol's 2,500 points; the shares along the grid lines come from 20,000 written out.
  for r in wgan-gp-grid25-30k-s5 wgan-gp-grid25-50kcool-s5 wgan-gp-grid25-50k-s1 wgan-gp-grid25-70kcool-s1; do
    run "$r-rescore" $N eval modes --checkpoint runs/$r/checkpoint.safetensors --device "$device"
    run "$r-points" $N eval modes --checkpoint runs/$r/checkpoint.safetensors --device "$device" --count 20000 --points runs/$r/points.csv
  done
  rm -rf runs/wgan-gp-grid25-50kcool-b256-s5 && cp -r runs/wgan-gp-grid25-30k-s5 runs/wgan-gp-grid25-50kcool-b256-s5
  run wgan-gp-grid25-50kcool-b256-s5 $N train wgan-gp --data grid25 --seed 5 --device "$device" --steps 50000 --batch 256 --resume --sample-every 1000 --out runs/wgan-gp-grid25-50kcool-b256-s5 --set lr_decay_start=30000 --set lr_decay_end=50000
  both wgan-gp-grid25-50kcool-b256-s5 modes --checkpoint runs/wgan-gp-grid25-50kcool-b256-s5/checkpoint.safetensors
  rm -rf runs/wgan-gp-grid25-50kcool-gp001-s5 && cp -r runs/wgan-gp-grid25-30k-s5 runs/wgan-gp-grid25-50kcool-gp001-s5
  run wgan-gp-grid25-50kcool-gp001-s5 $N train wgan-gp --data grid25 --seed 5 --device "$device" --steps 50000 --resume --sample-every 1000 --out runs/wgan-gp-grid25-50kcool-gp001-s5 --set lr_decay_start=30000 --set lr_decay_end=50000 --set gp_lambda=0.01
  both wgan-gp-grid25-50kcool-gp001-s5 modes --checkpoint runs/wgan-gp-grid25-50kcool-gp001-s5/checkpoint.safetensors
  rm -rf runs/wgan-gp-grid25-60kcool-b256-s1 && cp -r runs/wgan-gp-grid25-50k-s1 runs/wgan-gp-grid25-60kcool-b256-s1
  run wgan-gp-grid25-60kcool-b256-s1 $N train wgan-gp --data grid25 --seed 1 --device "$device" --steps 60000 --batch 256 --resume --sample-every 1000 --out runs/wgan-gp-grid25-60kcool-b256-s1 --set lr_decay_start=50000 --set lr_decay_end=60000
  both wgan-gp-grid25-60kcool-b256-s1 modes --checkpoint runs/wgan-gp-grid25-60kcool-b256-s1/checkpoint.safetensors
fi

if [[ $what == cool-batch ]]; then
  # Twelfth session, one core each: the grid's cool-down at equal samples and at larger batches. Seed 1 from
  # `grid-longer`'s 50,000 constant-rate steps, cooled to 0 over 40,000 steps of 64 (the samples of `bridges`' 10,000 of
  # 256), over 5,000 of 256, and over 5,000 of 1,024.
  for cfg in "90000 64" "55000 256" "55000 1024"; do
    read -r end batch <<< "$cfg"
    r=wgan-gp-grid25-$((end / 1000))kcool-b$batch-s1
    rm -rf runs/$r && cp -r runs/wgan-gp-grid25-50k-s1 runs/$r
    run $r $N train wgan-gp --data grid25 --seed 1 --device "$device" --steps $end --batch $batch --resume --sample-every 1000 --out runs/$r --set lr_decay_start=50000 --set lr_decay_end=$end
    both $r modes --checkpoint runs/$r/checkpoint.safetensors
  done
fi

if [[ $what == pacgan ]]; then
  # Twelfth session: PacGAN4 (`gan --set pack=4`, batches of 100 packs = 400 samples, as PacGAN's code) on the grid,
  # seed 1, 25,000 steps and then cooled to 0 at 30,000; the plain GAN at the same 400 samples a step, unpacked; PacGAN2
  # for 8,000 steps (its losses.jsonl says whether D leaves chance).
  run pacgan4-grid25-25k-s1 $N train gan --data grid25 --seed 1 --device "$device" --steps 25000 --batch 400 --set pack=4 --sample-every 1000 --out runs/pacgan4-grid25-s1
  both pacgan4-grid25-25k-s1 modes --checkpoint runs/pacgan4-grid25-s1/checkpoint.safetensors
  run pacgan4-grid25-30kcool-s1 $N train gan --data grid25 --seed 1 --device "$device" --steps 30000 --batch 400 --set pack=4 --resume --sample-every 1000 --out runs/pacgan4-grid25-s1 --set lr_decay_start=25000 --set lr_decay_end=30000
  both pacgan4-grid25-30kcool-s1 modes --checkpoint runs/pacgan4-grid25-s1/checkpoint.safetensors
  run gan-b400-grid25-25k-s1 $N train gan --data grid25 --seed 1 --device "$device" --steps 25000 --batch 400 --sample-every 1000 --out runs/gan-b400-grid25-s1
  both gan-b400-grid25-25k-s1 modes --checkpoint runs/gan-b400-grid25-s1/checkpoint.safetensors
  run pacgan2-grid25-8k-s1 $N train gan --data grid25 --seed 1 --device "$device" --steps 8000 --batch 200 --set pack=2 --sample-every 1000 --out runs/pacgan2-grid25-s1
fi

if [[ $what == grid-b256 ]]; then
  # Thirteenth session, one core each: one cool-down recipe in every seed: `grid-seeds`' 30,000 constant-rate steps
  # (seeds 1 and 4 from scratch: `cool` and the ninth session cooled theirs in place), then batches of 256 cooled to 0
  # at 40,000.
  # Then two levers on seed 1's 50,000-step checkpoint (`grid-longer`): 10 critic updates a step instead of 5 in a
  # 5,000-step cool-down of 256 (`cool-batch`'s row with 5); and two tries at PacGAN4's dead D (`pacgan`): PacGAN's
  # initialisation, N(0, 0.02), and a critic rate 4 times G's.
  for seed in 1 4; do
    run wgan-gp-grid25-30k-s$seed $N train wgan-gp --data grid25 --seed $seed --device "$device" --steps 30000 --sample-every 1000 --out runs/wgan-gp-grid25-30k-s$seed
  done
  for seed in 1 2 3 4 5; do
    r=wgan-gp-grid25-40kcool-b256-s$seed
    rm -rf runs/$r && cp -r runs/wgan-gp-grid25-30k-s$seed runs/$r
    run $r $N train wgan-gp --data grid25 --seed $seed --device "$device" --steps 40000 --batch 256 --resume --sample-every 1000 --out runs/$r --set lr_decay_start=30000 --set lr_decay_end=40000
    both $r modes --checkpoint runs/$r/checkpoint.safetensors
  done
  r=wgan-gp-grid25-55kcool-b256-c10-s1
  rm -rf runs/$r && cp -r runs/wgan-gp-grid25-50k-s1 runs/$r
  run $r $N train wgan-gp --data grid25 --seed 1 --device "$device" --steps 55000 --batch 256 --resume --sample-every 1000 --out runs/$r --set lr_decay_start=50000 --set lr_decay_end=55000 --set n_critic=10
  both $r modes --checkpoint runs/$r/checkpoint.safetensors
  run pacgan4-init02-grid25-8k-s1 $N train gan --data grid25 --seed 1 --device "$device" --steps 8000 --batch 400 --set pack=4 --set init_std=0.02 --sample-every 1000 --out runs/pacgan4-init02-grid25-s1
  run pacgan4-lrd4-grid25-6k-s1 $N train gan --data grid25 --seed 1 --device "$device" --steps 6000 --batch 400 --set pack=4 --set lr_d=0.0004 --sample-every 1000 --out runs/pacgan4-lrd4-grid25-s1
fi

if [[ $what == grid-fast ]]; then
  # Fourteenth session, one core each: faster rates before the cool-down. From each seed's 30,000-step checkpoint
  # (`grid-b256`), both start rates 4e-4 instead of 1e-4 (`--resume` may change them) for 20,000 steps at batch 64,
  # then batches of 256 cooled to 0 at 60,000. Seed 1 also with G's rate alone raised.
  for seed in 1 2 3 4 5; do
    grid_phase $seed wgan-gp-grid25-30k-s$seed wgan-gp-grid25-50k-lr4-s$seed 50000 --set lr_g=0.0004 --set lr_d=0.0004
    grid_cool $seed wgan-gp-grid25-50k-lr4-s$seed wgan-gp-grid25-50k-lr4-60kcool-b256-s$seed 50000
  done
  grid_phase 1 wgan-gp-grid25-30k-s1 wgan-gp-grid25-50k-lrg4-s1 50000 --set lr_g=0.0004
  grid_cool 1 wgan-gp-grid25-50k-lrg4-s1 wgan-gp-grid25-50k-lrg4-60kcool-b256-s1 50000
fi

if [[ $what == grid-rates ]]; then
  # Fifteenth session, one core each: how fast and how long the phase before the cool-down should be. Each run goes
  # on from a checkpoint of `grid-b256` (30,000 steps at 1e-4) or `grid-fast` (then 20,000 at 4e-4), and ends with
  # 10,000 steps in batches of 256 cooled linearly to 0.
  # The cool-down from 4e-4 straight after 30,000 steps (no fast phase).
  grid_cool 5 wgan-gp-grid25-30k-s5 wgan-gp-grid25-40kcool-from-lr4-b256-s5 30000 --set lr_g=0.0004 --set lr_d=0.0004
  # 20,000 steps at 8e-4 and at 1.6e-3 instead of 4e-4 (seed 5, the lowest with 4e-4), then 1.6e-3 in seeds 2 and 1,
  # and (sixteenth session) in seeds 3 and 4.
  for run in 5:0.0008 5:0.0016 2:0.0016 1:0.0016 3:0.0016 4:0.0016; do
    seed=${run%%:*} rate=${run#*:}
    grid_phase $seed wgan-gp-grid25-30k-s$seed wgan-gp-grid25-50k-lr$rate-s$seed 50000 --set lr_g=$rate --set lr_d=$rate
    grid_cool $seed wgan-gp-grid25-50k-lr$rate-s$seed wgan-gp-grid25-50k-lr$rate-60kcool-b256-s$seed 50000
  done
  # 40,000 steps at 4e-4 instead of 20,000 (`grid-fast`'s 50,000-step run on to 70,000), and at 8e-4 (scored before
  # any cool-down only: its cool-down gave way to the seeds above).
  grid_phase 5 wgan-gp-grid25-50k-lr4-s5 wgan-gp-grid25-70k-lr4-s5 70000
  grid_cool 5 wgan-gp-grid25-70k-lr4-s5 wgan-gp-grid25-70k-lr4-80kcool-b256-s5 70000
  grid_phase 5 wgan-gp-grid25-50k-lr0.0008-s5 wgan-gp-grid25-70k-lr0.0008-s5 70000
fi

if [[ $what == grid-recipe ]]; then
  # Sixteenth session, one core each. The grid recipe of `grid-rates` (30,000 steps at 1e-4, 20,000 at 1.6e-3, then
  # 10,000 with batches of 256 cooled to 0) as one command from scratch, seed 5: lr_schedule and --batch-from.
  run wgan-gp-grid25-onecmd-60k-s5 $N train wgan-gp --data grid25 --seed 5 --device "$device" --steps 60000 --batch-from 50000:256 \
    --set lr_schedule=30000:1,30000:16,50000:16,60000:0 --sample-every 1000 --out runs/wgan-gp-grid25-onecmd-60k-s5
  both wgan-gp-grid25-onecmd-60k-s5 modes --checkpoint runs/wgan-gp-grid25-onecmd-60k-s5/checkpoint.safetensors
  # The smoothed minibatch-discrimination GAN of `grid-seeds` with both rates 4 times faster (4e-4) for its 25,000
  # steps, then cooled to 0 at 30,000, in its two weakest seeds.
  for seed in 4 2; do
    run gan-mbd-ls-x4-grid25-30kcool-s$seed $N train gan --data grid25 --seed $seed --device "$device" --steps 30000 --set minibatch_disc=true \
      --set real_label=0.9 --set lr_schedule=0:4,25000:4,30000:0 --sample-every 1000 --out runs/gan-mbd-ls-x4-grid25-30kcool-s$seed
    both gan-mbd-ls-x4-grid25-30kcool-s$seed modes --checkpoint runs/gan-mbd-ls-x4-grid25-30kcool-s$seed/checkpoint.safetensors
  done
  # The same two seeds with D 4 times slower than G instead (lr_d 2.5e-5, lr_g 1e-4): a discriminator that wins less.
  for seed in 4 2; do
    run gan-mbd-ls-d4slow-grid25-30kcool-s$seed $N train gan --data grid25 --seed $seed --device "$device" --steps 30000 --set minibatch_disc=true \
      --set real_label=0.9 --set lr_d=0.000025 --set lr_decay_start=25000 --set lr_decay_end=30000 --sample-every 1000 --out runs/gan-mbd-ls-d4slow-grid25-30kcool-s$seed
    both gan-mbd-ls-d4slow-grid25-30kcool-s$seed modes --checkpoint runs/gan-mbd-ls-d4slow-grid25-30kcool-s$seed/checkpoint.safetensors
  done
fi

if [[ $what == grid-r1 ]]; then
  # Seventeenth session, one core each: the R1 penalty on the minibatch-discrimination GAN's D (`--set r1_gamma=G`,
  # new; lazily every 4th step, weighted 4x) with `grid-seeds`' recipe (real_label 0.9, 25,000 steps, cooled to 0 at
  # 30,000). Gamma 1 and 0.1 in the worst seed (4), then 0.1 in all five seeds.
  r1_run() { # NAME SEED GAMMA
    run "$1" $N train gan --data grid25 --seed "$2" --device "$device" --steps 30000 --set minibatch_disc=true --set real_label=0.9 \
      --set lr_decay_start=25000 --set lr_decay_end=30000 --set r1_gamma="$3" --set r1_every=4 --sample-every 1000 --out "runs/$1"
    both "$1" modes --checkpoint "runs/$1/checkpoint.safetensors"
  }
  r1_run gan-mbd-r1g1-grid25-30kcool-s4 4 1
  for seed in 4 2 3 1 5; do r1_run gan-mbd-r1g0.1-grid25-30kcool-s$seed $seed 0.1; done
  # Seed 4's cool-down varied, from its 25,000-step checkpoint (the same run trained to 25,000 alone, then copied):
  # R1 off for the cool-down, and batches of 256 for it. (A third, 10,000 steps at 16 times the rate before the
  # cool-down, WGAN-GP's fast phase, collapsed G to one blob within 5,000 steps and was stopped.)
  base=runs/gan-mbd-r1g0.1-grid25-25k-s4
  run gan-mbd-r1g0.1-grid25-25k-s4 $N train gan --data grid25 --seed 4 --device "$device" --steps 25000 --set minibatch_disc=true \
    --set real_label=0.9 --set lr_decay_start=25000 --set lr_decay_end=30000 --set r1_gamma=0.1 --set r1_every=4 --sample-every 1000 --out "$base"
  for v in cool0 b256cool; do
    out=runs/gan-mbd-r1g0.1-grid25-$v-s4
    rm -rf "$out" && cp -r "$base" "$out"
    case $v in
      cool0) extra=(--set r1_gamma=0) ;;
      b256cool) extra=(--batch 256) ;;
    esac
    run "gan-mbd-r1g0.1-grid25-$v-s4" $N train gan --data grid25 --seed 4 --device "$device" --steps 30000 --resume "${extra[@]}" --sample-every 1000 --out "$out"
    both "gan-mbd-r1g0.1-grid25-$v-s4" modes --checkpoint "$out/checkpoint.safetensors"
  done
  # The ring, seed 1: `smoothing`'s ring run (25,000 steps, cooled to 0 from 20,000) with the same R1.
  run gan-mbd-r1g0.1-ring8-25kcool-s1 $N train gan --data ring8 --seed 1 --device "$device" --steps 25000 --set minibatch_disc=true --set real_label=0.9 \
    --set lr_decay_start=20000 --set lr_decay_end=25000 --set r1_gamma=0.1 --set r1_every=4 --sample-every 1000 --out runs/gan-mbd-r1g0.1-ring8-25kcool-s1
  both gan-mbd-r1g0.1-ring8-25kcool-s1 modes --checkpoint runs/gan-mbd-r1g0.1-ring8-25kcool-s1/checkpoint.safetensors
fi

if [[ $what == grid-r1-levers ]]; then
  # Nineteenth session, one core each: levers on `grid-r1`'s recipe in its lowest seed (2), each from the same
  # 25,000-step checkpoint, then the recipe without one-sided label smoothing (real_label 1) in all five seeds.
  r1_base() { # NAME SEED [--set ...]: the R1 recipe (gamma 0.1 every 4th step, cooled from 25,000 to 30,000) trained to 25,000 alone
    local name=$1 seed=$2; shift 2
    run "$name" $N train gan --data grid25 --seed "$seed" --device "$device" --steps 25000 --set minibatch_disc=true \
      --set lr_decay_start=25000 --set lr_decay_end=30000 --set r1_gamma=0.1 --set r1_every=4 --sample-every 1000 --out "runs/$name" "$@"
  }
  branch() { # SEED BASE NAME ARGS...: run BASE copied to NAME, resumed with ARGS, scored (on cpu the same as one run)
    local seed=$1 base=$2 name=$3; shift 3
    rm -rf "runs/$name" && cp -r "runs/$base" "runs/$name"
    run "$name" $N train gan --data grid25 --seed "$seed" --device "$device" --sample-every 1000 --out "runs/$name" --resume "$@"
    both "$name" modes --checkpoint "runs/$name/checkpoint.safetensors"
  }
  base=gan-mbd-r1g0.1-grid25-25k-s2
  r1_base $base 2 --set real_label=0.9
  later=(--steps 40000 --set lr_decay_start=35000 --set lr_decay_end=40000) # 10,000 more steps, then cooled to 0 at 40,000
  branch 2 $base gan-mbd-r1g0.1-grid25-30kcool-s2 --steps 30000            # the recipe itself
  branch 2 $base gan-mbd-r1g0.1-grid25-40kcool-s2 "${later[@]}"
  branch 2 $base gan-mbd-r1g0.1-grid25-40kcool-x4-s2 "${later[@]}" --set lr_g=0.0004 --set lr_d=0.0004
  branch 2 $base gan-mbd-r1g0.1-grid25-40kcool-dx4-s2 "${later[@]}" --set lr_d=0.0004
  branch 2 $base gan-mbd-r1g0.1-grid25-40kcool-gx4-s2 "${later[@]}" --set lr_g=0.0004
  branch 2 $base gan-mbd-r1g0.001-grid25-40kcool-x4-s2 "${later[@]}" --set lr_g=0.0004 --set lr_d=0.0004 --set r1_gamma=0.001
  # (n_critic 5 from the same checkpoint was stopped at 29,600 steps: 75.3% against 77.3% at 25,000, at a quarter of the speed.)
  run gan-mbd-r1g0.01-grid25-30kcool-s2 $N train gan --data grid25 --seed 2 --device "$device" --steps 30000 --set minibatch_disc=true \
    --set real_label=0.9 --set lr_decay_start=25000 --set lr_decay_end=30000 --set r1_gamma=0.01 --set r1_every=4 --sample-every 1000 --out runs/gan-mbd-r1g0.01-grid25-30kcool-s2
  both gan-mbd-r1g0.01-grid25-30kcool-s2 modes --checkpoint runs/gan-mbd-r1g0.01-grid25-30kcool-s2/checkpoint.safetensors
  # The recipe without label smoothing (real_label 1, the default), five seeds: to 25,000, then cooled to 30,000.
  for seed in 2 4 5 1 3; do
    r1_base gan-mbd-r1-rl1-grid25-25k-s$seed "$seed"
    branch "$seed" gan-mbd-r1-rl1-grid25-25k-s$seed gan-mbd-r1-rl1-grid25-30kcool-s$seed --steps 30000
  done
  # The ring, seed 1, as in grid-r1 but with real_label 1.
  run gan-mbd-r1-rl1-ring8-25kcool-s1 $N train gan --data ring8 --seed 1 --device "$device" --steps 25000 --set minibatch_disc=true \
    --set lr_decay_start=20000 --set lr_decay_end=25000 --set r1_gamma=0.1 --set r1_every=4 --sample-every 1000 --out runs/gan-mbd-r1-rl1-ring8-25kcool-s1
  both gan-mbd-r1-rl1-ring8-25kcool-s1 modes --checkpoint runs/gan-mbd-r1-rl1-ring8-25kcool-s1/checkpoint.safetensors
  # Seed 3 from its 25,000-step checkpoint: 10,000 steps at 4x both rates, then cooled to 0 at 40,000.
  branch 3 gan-mbd-r1-rl1-grid25-25k-s3 gan-mbd-r1-rl1-grid25-40kcool-x4-s3 "${later[@]}" --set lr_g=0.0004 --set lr_d=0.0004
fi

if [[ $what == grid-nobn ]]; then
  # Twentieth session, one core each. `grid-r1-levers`' real_label-1 recipe: its 25,000-step checkpoints (seeds 3 and 4)
  # cooled over 20,000 steps instead of 5,000, and seed 3's with G's BatchNorms frozen (g_bn_frozen) in the usual
  # cool-down; then the recipe with no BatchNorm in G (g_batchnorm=false) from scratch, five grid seeds and five ring seeds.
  # (Run by hand as the same commands; `python3 docs/experiments/bn_jitter.py CHECKPOINT generator` is the numpy look at the jitter.)
  branch() { # SEED BASE NAME ARGS...: run BASE copied to NAME, resumed with ARGS, scored
    local seed=$1 base=$2 name=$3; shift 3
    rm -rf "runs/$name" && cp -r "runs/$base" "runs/$name"
    run "$name" $N train gan --data grid25 --seed "$seed" --device "$device" --sample-every 1000 --out "runs/$name" --resume "$@"
    both "$name" modes --checkpoint "runs/$name/checkpoint.safetensors"
  }
  for seed in 3 4; do
    branch $seed gan-mbd-r1-rl1-grid25-25k-s$seed gan-mbd-r1-rl1-grid25-45kcool-s$seed --steps 45000 --set lr_decay_start=25000 --set lr_decay_end=45000
  done
  branch 3 gan-mbd-r1-rl1-grid25-25k-s3 gan-mbd-r1-rl1-grid25-30kcool-bnfrozen-s3 --steps 30000 --set g_bn_frozen=true
  nobn() { # DATA SEED STEPS: the R1 recipe (real_label 1) with no BatchNorm in G, cooled to 0 over its last 5,000 steps, scored
    local data=$1 seed=$2 steps=$3 name=gan-mbd-r1-nobn-$1-$(($3 / 1000))kcool-s$2
    run $name $N train gan --data $data --seed $seed --device "$device" --steps $steps --set minibatch_disc=true --set g_batchnorm=false \
      --set lr_decay_start=$((steps - 5000)) --set lr_decay_end=$steps --set r1_gamma=0.1 --set r1_every=4 --sample-every 1000 --out runs/$name
    both $name modes --checkpoint runs/$name/checkpoint.safetensors
  }
  for seed in 4 3 5 1 2; do nobn grid25 $seed 30000; done
  for seed in 1 2 3 4 5; do nobn ring8 $seed 25000; done
fi

if [[ $what == wgan-gp-mnist-long ]]; then
  # Eleventh session: `wgan-gp-mnist`'s run from scratch at length on one core (~1.5 generator steps/s), a copy of the
  # checkpoint every 2,000 steps, each scored with the recipe's 10-epoch judge (`eval mnist` trains and caches it on first use).
  out=runs/wgan-gp-mnist60k-long
  for s in 2000 4000 6000 8000 10000 12000 14000 16000 18000 20000; do
    [[ -f $out/checkpoint.safetensors ]] && resume=--resume || resume=
    run wgan-gp-mnist60k-long-$s $N train wgan-gp --data mnist60k --device "$device" --steps $s $resume --set g_width=32 --set d_width=32 --sample-every 500 --out $out
    cp $out/checkpoint.safetensors $out/checkpoint-$s.safetensors
    both wgan-gp-mnist60k-long-$s mnist --checkpoint $out/checkpoint-$s.safetensors --reference mnist60k --count 10000
  done
  # Twelfth session: the score at 18,000 and 20,000 steps with a second draw of latents.
  for s in 18000 20000; do
    run wgan-gp-mnist60k-long-$s-seed1 $N eval mnist --checkpoint $out/checkpoint-$s.safetensors --reference mnist60k --count 10000 --seed 1 --device "$device"
  done
fi

if [[ $what == wgan-gp-mnist ]]; then
  # WGAN-GP on the full MNIST with the DCGAN networks at width 32 (the paper's defaults otherwise: lambda 10,
  # 5 critic updates, Adam 1e-4, betas (0, 0.9)), scored after 1,000 and 2,000 generator steps with the 10-epoch
  # classifier of `classifier10` (run that first) and, at 2,000, the 3-epoch one of `long`.
  run wgan-gp-mnist60k-1000 $N train wgan-gp --data mnist60k --device "$device" --steps 1000 --set g_width=32 --set d_width=32 --sample-every 250 --out runs/wgan-gp-mnist60k
  both wgan-gp-mnist60k-1000 mnist --checkpoint runs/wgan-gp-mnist60k/checkpoint.safetensors --reference mnist60k --count 5000 --classifier runs/classifier60k-e10.safetensors
  run wgan-gp-mnist60k-2000 $N train wgan-gp --data mnist60k --device "$device" --steps 2000 --resume --sample-every 250 --out runs/wgan-gp-mnist60k
  both wgan-gp-mnist60k-2000 mnist --checkpoint runs/wgan-gp-mnist60k/checkpoint.safetensors --reference mnist60k --count 10000 --classifier runs/classifier60k-e10.safetensors
  run wgan-gp-mnist60k-2000-e3 $N eval mnist --checkpoint runs/wgan-gp-mnist60k/checkpoint.safetensors --reference mnist60k --classifier "$E3" --count 10000 --device "$device"
fi

if [[ $what == classifier10 ]]; then
  # The full-MNIST classifier trained 10 epochs instead of 3 (99.14% held out; real test digits IS 9.84, near the
  # 9.88 the issue quotes for a good classifier), then the DCGAN run of `longer` scored with it, two latent seeds.
  run classifier60k-e10 $N eval classifier --reference mnist60k --epochs 10 --device "$device" --out runs/classifier60k-e10.safetensors
  for seed in 0 1; do
    both "dcgan60k-e10-seed$seed" mnist --checkpoint runs/mnist60k-dcgan/checkpoint.safetensors --reference mnist60k --count 10000 --seed "$seed" --classifier runs/classifier60k-e10.safetensors
  done
fi

if [[ $what == truncation ]]; then
  # The truncation trick on the 23,000-step DCGAN of `longer` (the 3-epoch classifier of `long`) and on ring seed 1 at
  # 40,000 steps (`wgan-gp-long`).
  for t in 0 2 1.5 1 0.7 0.5; do
    run "dcgan60k-trunc$t" $N eval mnist --reference mnist60k --checkpoint runs/mnist60k-dcgan/checkpoint.safetensors --device "$device" --classifier "$E3" --count 10000 --truncation "$t"
  done
  for t in 0 2.5 2 1.5; do
    run "wgan-gp-ring8-40k-s1-trunc$t" $N eval modes --checkpoint runs/wgan-gp-ring8-40k-s1/checkpoint.safetensors --device "$device" --truncation "$t"
  done
fi

if [[ $what == radialgan || $what == all ]]; then
  # RadialGAN's protocol (5 repetitions of a stratified 64/16/20 split; logistic regression on target only, target +
  # translated rows, pooled shared features) on the three vega-datasets tables with the reference's settings
  # (alpha 0.1, BCE, Adam 1e-3, one tanh layer of F units), 2,000 training steps a repetition.
  mkdir -p runs/radialgan
  for d in cars penguins weather; do
    run "radialgan-$d-2000" $N eval radialgan --data "$d" --steps 2000 --batching shuffled --device "$device" --json "runs/radialgan/$d-2000.json"
  done
fi

if [[ $what == radialgan-variants ]]; then
  # The same protocol on cars and penguins with a stronger cycle loss (alpha 1, 10) and the WGAN-GP losses.
  mkdir -p runs/radialgan
  for d in cars penguins; do
    for a in 1 10; do
      run "radialgan-$d-2000-alpha$a" $N eval radialgan --data "$d" --steps 2000 --batching shuffled --set "alpha=$a" --device "$device" --json "runs/radialgan/$d-2000-alpha$a.json"
    done
    run "radialgan-$d-2000-wgan-gp" $N eval radialgan --data "$d" --steps 2000 --batching shuffled --set loss=wgan-gp --device "$device" --json "runs/radialgan/$d-2000-wgan-gp.json"
  done
fi

if [[ $what == radialgan-long ]]; then
  # The reference's length, 20,000 iterations, on the three tables.
  mkdir -p runs/radialgan
  for d in cars penguins weather; do
    run "radialgan-$d-20000" $N eval radialgan --data "$d" --steps 20000 --batching shuffled --device "$device" --json "runs/radialgan/$d-20000.json"
  done
fi

if [[ $what == radialgan-sweep ]]; then
  # The reference's batches (128 rows of each domain a step, the default since these runs; the runs above name the
  # trainer's shuffled batches they were measured with), 2,000 steps, and 28 ways of adding the translated rows scored
  # on every target's validation and test rows (docs/RESULTS.md, "How many translated rows, and how much they count").
  mkdir -p runs/radialgan
  for d in cars penguins weather; do
    run "radialgan-$d-2000-sweep" $N eval radialgan --data "$d" --steps 2000 --sweep grid --device "$device" --json "runs/radialgan/$d-2000-sweep.json"
  done
fi

if [[ $what == radialgan-sweep-long ]]; then
  # The same sweep at the reference's 20,000 iterations on cars and penguins.
  mkdir -p runs/radialgan
  for d in cars penguins; do
    run "radialgan-$d-20000-sweep" $N eval radialgan --data "$d" --steps 20000 --sweep grid --device "$device" --json "runs/radialgan/$d-20000-sweep.json"
  done
fi

if [[ $what == radialgan-cyclegan ]]; then
  # The paper's pairwise baseline: a cycle-GAN trained on each pair of domains alone, beside RadialGAN, 2,000 steps.
  mkdir -p runs/radialgan
  for d in cars penguins weather; do
    run "radialgan-$d-2000-cyclegan" $N eval radialgan --data "$d" --steps 2000 --cycle-gan --device "$device" --json "runs/radialgan/$d-2000-cyclegan.json"
  done
fi

if [[ $what == radialgan-small-cyclegan ]]; then
  # Small targets (about 20 training rows), the reference's per-domain batches, with the pairwise cycle-GAN baseline beside.
  mkdir -p runs/radialgan
  for d in cars penguins weather; do
    run "radialgan-$d-2000-target20-cyclegan" $N eval radialgan --data "$d" --steps 2000 --target-rows 20 --cycle-gan --device "$device" --json "runs/radialgan/$d-2000-target20-cyclegan.json"
  done
fi

if [[ $what == radialgan-small ]]; then
  # The paper's small-target setting: each target's training rows cut to about 20 (validation and test rows unchanged),
  # one RadialGAN per target and repetition, the reference's settings, 2,000 steps.
  mkdir -p runs/radialgan
  for d in cars penguins weather; do
    run "radialgan-$d-2000-target20" $N eval radialgan --data "$d" --steps 2000 --batching shuffled --target-rows 20 --device "$device" --json "runs/radialgan/$d-2000-target20.json"
  done
fi

if [[ $what == music ]]; then
  # The two music models on the game music (docs/RESULTS.md, "Music: game music"): lstm-melody at its defaults (10
  # epochs, 1,090 steps), crnn-gan at the reference code's width (100 units) under a 70-minute budget; then the
  # statistics of 200 pieces each against the training excerpts, and two 16-bar pieces of each.
  run lstm-melody $N train lstm-melody --device "$device" --out runs/music/lstm-melody --overwrite
  run lstm-melody-eval $N eval music --checkpoint runs/music/lstm-melody/checkpoint.safetensors --count 200 --device "$device"
  # crnn-gan (issue 36, third round): today's defaults (the pitch remedies, time_floor softplus with time_snap) at 64
  # units, 100 pretraining steps, 1,000 steps, one thread, seed 2 (the table's row); seed 1 (it diverged: at 551
  # steps under --minutes 30) and the ReLU floor (the second round's settings) beside it.
  run crnn-gan $N train crnn-gan --set hidden_g=64 --set hidden_d=64 --set pretrain_steps=100 --steps 1000 --epochs 1000 --seed 2 --threads 1 --device "$device" --out runs/music/crnn-gan --overwrite
  run crnn-gan-eval $N eval music --checkpoint runs/music/crnn-gan/checkpoint.safetensors --count 200 --device "$device"
  run crnn-gan-seed1 $N train crnn-gan --set hidden_g=64 --set hidden_d=64 --set pretrain_steps=100 --steps 551 --epochs 1000 --threads 1 --device "$device" --out runs/music/crnn-gan-seed1 --overwrite
  run crnn-gan-seed1-eval $N eval music --checkpoint runs/music/crnn-gan-seed1/checkpoint.safetensors --count 200 --device "$device"
  run crnn-gan-relu $N train crnn-gan --set hidden_g=64 --set hidden_d=64 --set pretrain_steps=100 --set time_floor=relu --set time_snap=0 --steps 1000 --epochs 1000 --threads 1 --device "$device" --out runs/music/crnn-gan-relu --overwrite
  run crnn-gan-relu-eval $N eval music --checkpoint runs/music/crnn-gan-relu/checkpoint.safetensors --count 200 --device "$device"
  for s in 1 2; do
    run "lstm-melody-song$s" $N generate --checkpoint runs/music/lstm-melody/checkpoint.safetensors --bars 16 --seed $s --out docs/music/lstm-melody-seed$s.mid --device "$device"
    run "crnn-gan-song$s" $N generate --checkpoint runs/music/crnn-gan/checkpoint.safetensors --bars 16 --seed $s --out docs/music/crnn-gan-seed$s.mid --device "$device"
  done
fi

if [[ $what == crnn-gan-diagnosis ]]; then
  # Why crnn-gan collapsed, and what fixes it (docs/RESULTS.md "C-RNN-GAN: why it collapsed and what fixes it"):
  # small runs (32 units, excerpts of 32 events, batch 20, seed 1, one thread) at a fixed step count, each scored by
  # the statistics of 100 pieces against the 11,074 excerpts of 32 events.
  diag() { # NAME STEPS [--set ...]
    local name=$1 steps=$2; shift 2
    run "crnn-$name" $N train crnn-gan --set hidden_g=32 --set hidden_d=32 --length 32 --steps "$steps" --threads 1 --device "$device" --out "runs/crnn-diag/$name" --overwrite "$@"
    run "crnn-$name-eval" $N eval music --checkpoint "runs/crnn-diag/$name/checkpoint.safetensors" --count 100 --device "$device"
  }
  paper="--set relu_times=false --set minibatch_std=false --set adversarial_weight=0"
  diag pretrain-only 100 --set pretrain_steps=100 $paper
  diag paper 400 --set pretrain_steps=100 $paper
  diag paper-nopre 400 --set pretrain_steps=0 $paper
  diag adversarial-nopre 400 --set pretrain_steps=0 $paper --set feature_matching=false
  diag relu 400 --set pretrain_steps=100 --set minibatch_std=false --set adversarial_weight=0
  diag relu-mbstd 400 --set pretrain_steps=100 --set adversarial_weight=0
  diag relu-adv 400 --set pretrain_steps=100 --set minibatch_std=false
  diag defaults 400 --set pretrain_steps=100
  diag defaults-800 800 --set pretrain_steps=100
  diag relu-mbstd-nopre 400 --set pretrain_steps=0 --set adversarial_weight=0
  diag relu-mbstd-nofreeze 400 --set pretrain_steps=100 --set adversarial_weight=0 --set freeze=false
  diag relu-mbstd-smooth-instance 400 --set pretrain_steps=100 --set adversarial_weight=0 --set label_smoothing=0.1 --set instance_noise=0.1
  diag relu-mbstd-noise3 400 --set pretrain_steps=100 --set adversarial_weight=0 --set noise_scale=3
  diag defaults-adversarial 400 --set pretrain_steps=100 --set feature_matching=false
  diag defaults-smooth 400 --set pretrain_steps=100 --set label_smoothing=0.1
  diag defaults-adversarial3 400 --set pretrain_steps=100 --set adversarial_weight=3
fi

if [[ $what == musegan ]]; then
  # MuseGAN's three models on the game music at 16 steps a bar, the defaults (lr 1e-3, batch 16 a critic update, 5
  # critic updates a step), seed 1 (docs/RESULTS.md "MuseGAN: game music"). The runs were cut by --minutes (hybrid in
  # two legs: 30 minutes, then --resume for 40; resumes are bit-identical on the cpu); these step counts repeat them.
  for m in hybrid:1223 composer:743 jamming:500; do
    run "musegan-${m%%:*}" $N train musegan --data game-music --set steps_per_bar=16 --set model=${m%%:*} --steps ${m##*:} --sample-every 100 --device "$device" --out "runs/musegan/${m%%:*}" --overwrite
    run "musegan-${m%%:*}-eval" $N eval musegan --checkpoint "runs/musegan/${m%%:*}/checkpoint.safetensors" --count 500 --device "$device"
  done
  run musegan-hybrid-song $N generate --checkpoint runs/musegan/hybrid/checkpoint.safetensors --bars 8 --seed 1 --out docs/music/musegan-hybrid-seed1.mid --device "$device"
fi
if [[ $what == musegan-diagnosis ]]; then
  # The hybrid at lr 2e-4 (a fifth of the default) beside the default run: how fast G leaves its half-on start
  # (on_drums ... on_real in losses.jsonl), stopped at 369 steps.
  run musegan-lr2e-4 $N train musegan --data game-music --set steps_per_bar=16 --set lr=2e-4 --steps 369 --sample-every 100 --device "$device" --out runs/musegan/hybrid-lr2e-4 --overwrite
  run musegan-lr2e-4-eval $N eval musegan --checkpoint runs/musegan/hybrid-lr2e-4/checkpoint.safetensors --count 500 --device "$device"
fi
if [[ $what == crnn-gan-time ]]; then
  # The time axis (docs/RESULTS.md "C-RNN-GAN: the time axis"): the diagnosis size, the pitch remedies on, and the
  # ways of flooring G's times at 0 (time_floor, the default softplus since this round), a moment term on the times
  # (time_moments) and D seeing onsets (d_onsets); seed 1, and seed 2 for the two floors that matter.
  diag() { # NAME STEPS [--set ...]
    local name=$1 steps=$2; shift 2
    run "crnn-$name" $N train crnn-gan --set hidden_g=32 --set hidden_d=32 --length 32 --steps "$steps" --threads 1 --device "$device" --out "runs/crnn-diag/$name" --overwrite --set pretrain_steps=100 "$@"
    run "crnn-$name-eval" $N eval music --checkpoint "runs/crnn-diag/$name/checkpoint.safetensors" --count 100 --device "$device"
  }
  relu="--set time_floor=relu --set time_snap=0"
  soft="--set time_floor=softplus --set time_snap=0.0625"
  diag relu 400 $relu
  diag relu-seed2 400 $relu --seed 2
  diag straight-through 400 --set time_floor=straight-through --set time_snap=0
  diag straight-through-moments 400 --set time_floor=straight-through --set time_snap=0 --set time_moments=10
  diag straight-through-onsets 400 --set time_floor=straight-through --set time_snap=0 --set d_onsets=true
  diag softplus 400 $soft
  diag softplus-seed2 400 $soft --seed 2
  diag softplus-moments 400 $soft --set time_moments=10
  diag softplus-onsets 400 $soft --set d_onsets=true
  diag softplus-moments-onsets 400 $soft --set time_moments=10 --set d_onsets=true
  diag softplus-800 800 $soft
fi

if [[ $what == progan-fashion ]]; then
  # ProGAN's first run: phases of 10,000 images so that 25 minutes reach 32x32 (docs/RESULTS.md "ProGAN on Fashion-MNIST").
  run progan-fashion $N train progan --set phase_images=10000 --minutes 25 --sample-every 200 --device "$device" --out runs/progan-fashion --overwrite
fi
if [[ $what == stylegan-stacked ]]; then
  # StyleGAN's first run on stacked MNIST, in two legs (50 + 40 minutes) on a machine shared by five engineers, then its
  # mode count (docs/RESULTS.md "StyleGAN on stacked MNIST").
  run stylegan-stacked $N train stylegan --data stacked-mnist --set phase_images=10000 --minutes 50 --seed 1 --device "$device" --out runs/stylegan-stacked --overwrite
  run stylegan-stacked-2 $N train stylegan --resume --minutes 40 --device "$device" --out runs/stylegan-stacked
  run stylegan-stacked-eval $N eval stacked-mnist --checkpoint runs/stylegan-stacked/checkpoint.safetensors --device "$device"
  run stylegan-stacked-pictures $N pictures --checkpoint runs/stylegan-stacked/checkpoint.safetensors --out runs/stylegan-stacked/pictures --device "$device"
fi
if [[ $what == stacked-modes ]]; then
  # The first stacked-MNIST mode counts (docs/RESULTS.md "Stacked MNIST: the first mode counts"): a small DCGAN and a
  # small ProGAN, one thread each side by side on a shared 2-core machine. The runs asked for 2,000 and 2,500 steps with
  # --minutes 36, which stopped them at 1,310 and 1,337; these step counts repeat them (cpu runs are deterministic per
  # seed, and neither schedule depends on the step budget). Scored on 26,000 samples with G's average and the live G.
  run stacked-dcgan $N train dcgan --data stacked-mnist --image-size 32 --set g_width=32 --set d_width=32 --steps 1310 --threads 1 --seed 1 --sample-every 250 --checkpoint-every 250 --device "$device" --out runs/stacked-dcgan --overwrite
  both stacked-dcgan stacked-mnist --checkpoint runs/stacked-dcgan/checkpoint.safetensors
  run stacked-progan $N train progan --data stacked-mnist --set phase_images=4000 --set widths=64,64,32,16 --steps 1337 --threads 1 --seed 1 --sample-every 250 --checkpoint-every 250 --device "$device" --out runs/stacked-progan --overwrite
  both stacked-progan stacked-mnist --checkpoint runs/stacked-progan/checkpoint.safetensors
fi
if [[ $what == stackgan-emoji ]]; then
  # StackGAN's first run on emoji (docs/RESULTS.md "StackGAN: emoji"): 1,500 pretraining steps, 1,500 of stage I, stage II for the rest of 48 minutes.
  run stackgan-emoji $N train stackgan --data emoji --minutes 48 --epochs 1000 --set pretrain_steps=1500 --set stage1_steps=1500 --set lr_g=4e-4 --set lr_d=4e-4 --sample-every 200 --device "$device" --out runs/stackgan-emoji --overwrite
  run stackgan-emoji-eval $N eval stackgan --checkpoint runs/stackgan-emoji/checkpoint.safetensors --device "$device"
fi
if [[ $what == stackgan-emoji-long ]]; then
  # StackGAN on emoji, the second round (docs/RESULTS.md "StackGAN: emoji"). The runs were cut by --minutes (40; the
  # second in two legs, 7,500 steps then --resume for 50 minutes); these step counts repeat them (cpu runs are
  # deterministic per seed and machine). First the paper's losses (the first run's recipe), then the new defaults (stage
  # II's text-blind logit, stage2_tie 1, match_weight 1) with a longer stage I and D at the paper's rate; then the two
  # continuations from 12,253 steps that collapsed. Each scored with the independent matcher (and FID-R18).
  run stackgan-emoji-paper $N train stackgan --data emoji --steps 6732 --epochs 1000 --set pretrain_steps=1500 --set stage1_steps=1500 --set lr_g=4e-4 --set lr_d=4e-4 --set uncond_logit=false --set stage2_tie=0 --set match_weight=0 --sample-every 500 --device "$device" --out runs/stackgan-emoji-paper --overwrite
  run stackgan-emoji-paper-eval $N eval stackgan --checkpoint runs/stackgan-emoji-paper/checkpoint.safetensors --fid-r18 --device "$device"
  run stackgan-emoji-new $N train stackgan --data emoji --steps 12253 --epochs 1000 --set pretrain_steps=1500 --set stage1_steps=6000 --set lr_g=4e-4 --set lr_d=2e-4 --sample-every 500 --device "$device" --out runs/stackgan-emoji-new --overwrite
  run stackgan-emoji-new-eval $N eval stackgan --checkpoint runs/stackgan-emoji-new/checkpoint.safetensors --fid-r18 --device "$device"
  mkdir -p runs/stackgan-emoji-tie && cp runs/stackgan-emoji-new/checkpoint.safetensors runs/stackgan-emoji-new/losses.jsonl runs/stackgan-emoji-tie/
  run stackgan-emoji-on $N train stackgan --resume --out runs/stackgan-emoji-new --steps 14393 --epochs 1000 --sample-every 500 --device "$device"
  run stackgan-emoji-on-eval $N eval stackgan --checkpoint runs/stackgan-emoji-new/checkpoint.safetensors --out runs/stackgan-emoji-new/eval-14393 --device "$device"
  run stackgan-emoji-tie $N train stackgan --resume --out runs/stackgan-emoji-tie --steps 13697 --epochs 1000 --set stage2_tie=5 --set match_weight=3 --sample-every 500 --device "$device"
  run stackgan-emoji-tie-eval $N eval stackgan --checkpoint runs/stackgan-emoji-tie/checkpoint.safetensors --device "$device"
fi
