#!/usr/bin/env bash
# Issue 33: recipes for the README's main job (a DCGAN on MNIST within five minutes on two cores), compared at
# the step budget that fits the time, each scored by `eval mnist` (5,000 samples, the cached 10-epoch judge on the
# bundled digits). The table they fill is docs/experiments/main-job.md.
#
#   bash docs/experiments/main-job.sh NAME...     # one or more runs by name (see the case below), or `all`
#
# Each run trains into runs/main-job/NAME (replaced if there) and logs the training, its wall time, its cpu time and
# its scores to runs/main-job/NAME.log. Runs go one after another, under `nice -n 19`, on the cpu device. NG_DLL
# names another build of the CLI (a copy, so rebuilding the tree does not disturb a long run). Runs whose name ends
# in -t1 train with `--threads 1` (so that two can go side by side on two cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
NG=(nice -n 19 dotnet "${NG_DLL:-tools/NativeGan.Cli/bin/Release/net10.0/nativegan.dll}")
mkdir -p runs/main-job

# train NAME ARGS...: train dcgan ARGS into runs/main-job/NAME, then score its checkpoint.
train() {
  local name=$1; shift
  local dir=runs/main-job/$name log=runs/main-job/$name.log
  [[ $name == *-t1 ]] && set -- "$@" --threads 1
  echo "== $name: train dcgan $*" | tee "$log"
  local t0; t0=$(date +%s.%N)
  /usr/bin/time -f "cpu_seconds user %U sys %S" -a -o "$log" "${NG[@]}" train dcgan --device cpu --out "$dir" --overwrite "$@" >>"$log" 2>&1
  local t1; t1=$(date +%s.%N)
  echo "wall_seconds $(echo "$t1 - $t0" | bc)" | tee -a "$log"
  echo "load_after $(cat /proc/loadavg)" >>"$log"
  score "$name"
}

# score NAME: IS, Fréchet distance and classes of runs/main-job/NAME's final checkpoint.
score() {
  local name=$1 log=runs/main-job/$1.log
  "${NG[@]}" eval mnist --checkpoint "runs/main-job/$name/checkpoint.safetensors" --count 5000 --device cpu >>"$log" 2>&1
  tail -n 12 "$log"
}

# The README's main job: half widths, batch 64, 6 epochs of the 8,995 digits = 840 steps.
W32=(--set g_width=32 --set d_width=32)

one() {
  case $1 in
    # timing probes: 100 steps each (steps/s from losses.jsonl's seconds)
    probe-w32-b64) train "$1" --steps 100 "${W32[@]}" ;;
    probe-w16-b64) train "$1" --steps 100 --set g_width=16 --set d_width=16 ;;
    probe-w24-b64) train "$1" --steps 100 --set g_width=24 --set d_width=24 ;;
    probe-w32-b32) train "$1" --steps 100 --batch 32 "${W32[@]}" ;;
    probe-w32-b128) train "$1" --steps 100 --batch 128 "${W32[@]}" ;;
    # (a) today's recipe
    a-baseline) train "$1" --epochs 6 "${W32[@]}" ;;
    # (b) higher rates, lr_g = lr_d, beta1 0.5
    b-lr5e-4) train "$1" --epochs 6 "${W32[@]}" --set lr_g=5e-4 --set lr_d=5e-4 ;;
    b-lr1e-3) train "$1" --epochs 6 "${W32[@]}" --set lr_g=1e-3 --set lr_d=1e-3 ;;
    b-lr4e-3) train "$1" --epochs 6 "${W32[@]}" --set lr_g=4e-3 --set lr_d=4e-3 ;;
    b-lr2e-3) train "$1" --epochs 6 "${W32[@]}" --set lr_g=2e-3 --set lr_d=2e-3 ;;
    b-lr2e-3-seed2) train "$1" --epochs 6 "${W32[@]}" --set lr_g=2e-3 --set lr_d=2e-3 --seed 2 ;;
    b-lr2e-3-seed3) train "$1" --epochs 6 "${W32[@]}" --set lr_g=2e-3 --set lr_d=2e-3 --seed 3 ;;
    b-lr4e-3-seed2) train "$1" --epochs 6 "${W32[@]}" --set lr_g=4e-3 --set lr_d=4e-3 --seed 2 ;;
    b-lr4e-3-seed3) train "$1" --epochs 6 "${W32[@]}" --set lr_g=4e-3 --set lr_d=4e-3 --seed 3 ;;
    # (g) the full MNIST (60,000 digits) at the same 840 steps
    g-60k-lr2e-3) train "$1" --data mnist60k --steps 840 "${W32[@]}" --set lr_g=2e-3 --set lr_d=2e-3 ;;
    # (h) more steps (the quiet machine here runs ~12 steps/s at half widths: 3,360 steps would fit five minutes): 16 epochs = 2,240
    h-lr2e-3-cool-e16) train "$1" --epochs 16 "${W32[@]}" --set lr_g=2e-3 --set lr_d=2e-3 --set lr_decay_start=1792 --set lr_decay_end=2240 ;;
    # (i) 3,360 steps = about five minutes on this machine when quiet (12 steps/s)
    i-lr2e-3-cool-e24) train "$1" --epochs 24 "${W32[@]}" --set lr_g=2e-3 --set lr_d=2e-3 --set lr_decay_start=2688 --set lr_decay_end=3360 ;;
    # (c) a shorter generator average
    c-lr1e-3-ema995) train "$1" --epochs 6 "${W32[@]}" --set lr_g=1e-3 --set lr_d=1e-3 --set g_ema=0.995 ;;
    # (f) a linear cool-down to 0 over the last 20% (steps 672 to 840)
    f-lr1e-3-ema995-cool) train "$1" --epochs 6 "${W32[@]}" --set lr_g=1e-3 --set lr_d=1e-3 --set g_ema=0.995 --set lr_decay_start=672 --set lr_decay_end=840 ;;
    # (e) quarter widths: about twice the steps in the same time (12 epochs = 1,680 steps)
    e-w16-lr1e-3-cool) train "$1" --epochs 12 --set g_width=16 --set d_width=16 --set lr_g=1e-3 --set lr_d=1e-3 --set lr_decay_start=1344 --set lr_decay_end=1680 ;;
    e-w16-lr2e-3-cool) train "$1" --epochs 12 --set g_width=16 --set d_width=16 --set lr_g=2e-3 --set lr_d=2e-3 --set lr_decay_start=1344 --set lr_decay_end=1680 ;;
    # (j) 2026-12-07, twenty-fourth session, a Zen 3 where the main job's net runs ~8 steps/s quiet: what fits ~4 minutes
    j-lr2e-3-cool-2100) train "$1" --steps 2100 "${W32[@]}" --set lr_g=2e-3 --set lr_d=2e-3 --set lr_decay_start=1680 --set lr_decay_end=2100 ;;
    # (o) the README's main job since the twenty-fifth session: what five minutes hold with the build on a 2-core Zen 3
    o-lr2e-3-cool-1700|o-lr2e-3-cool-1700-seed2|o-lr2e-3-cool-1700-seed3)
      seed=1; [[ $1 == *-seed2 ]] && seed=2; [[ $1 == *-seed3 ]] && seed=3
      train "$1" --seed "$seed" --steps 1700 "${W32[@]}" --set lr_g=2e-3 --set lr_d=2e-3 --set lr_decay_start=1360 --set lr_decay_end=1700 ;;
    # (q) twenty-sixth session, the faster convolutions: 2,000 steps (279 s on a fresh clone with the build)
    q-lr2e-3-cool-2000|q-lr2e-3-cool-2000-seed2|q-lr2e-3-cool-2000-seed3)
      seed=1; [[ $1 == *-seed2 ]] && seed=2; [[ $1 == *-seed3 ]] && seed=3
      train "$1" --seed "$seed" --steps 2000 "${W32[@]}" --set lr_g=2e-3 --set lr_d=2e-3 --set lr_decay_start=1600 --set lr_decay_end=2000 ;;
    # (k) batch 32 for the same time (it runs ~1.5x the steps a second of batch 64)
    k-b32-lr2e-3-cool-3400) train "$1" --batch 32 --steps 3400 "${W32[@]}" --set lr_g=2e-3 --set lr_d=2e-3 --set lr_decay_start=2720 --set lr_decay_end=3400 ;;
    k-b32-lr3e-3-cool-3400) train "$1" --batch 32 --steps 3400 "${W32[@]}" --set lr_g=3e-3 --set lr_d=3e-3 --set lr_decay_start=2720 --set lr_decay_end=3400 ;;
    # (m) twenty-fifth session: MNIST at its own 28x28 (G 7 -> 14 -> 28, D mirrored): about half the cpu time of a
    # 32x32 step at the same widths, so twice the steps for the compute of j's 2,100 (4,200 steps at batch 64)
    probe-s32-t1) train "$1" --steps 150 --image-size 32 "${W32[@]}" --sample-every 1000 ;;
    probe-s28-t1) train "$1" --steps 150 --image-size 28 "${W32[@]}" --sample-every 1000 ;;
    m-28-lr2e-3-cool-4200-t1) train "$1" --image-size 28 --steps 4200 "${W32[@]}" --set lr_g=2e-3 --set lr_d=2e-3 --set lr_decay_start=3360 --set lr_decay_end=4200 ;;
    m-28-60k-lr2e-3-cool-4200-t1) train "$1" --data mnist60k --image-size 28 --steps 4200 "${W32[@]}" --set lr_g=2e-3 --set lr_d=2e-3 --set lr_decay_start=3360 --set lr_decay_end=4200 ;;
    # (n) k's batch-32 run (3,400 steps) with one change each: the cool-down over the last half; the full 60,000 digits
    # (3,400 x 32 = 12 epochs of the bundled 8,995, under 2 of the 60,000)
    n-b32-lr2e-3-cool50-3400-t1) train "$1" --batch 32 --steps 3400 "${W32[@]}" --set lr_g=2e-3 --set lr_d=2e-3 --set lr_decay_start=1700 --set lr_decay_end=3400 ;;
    n-b32-60k-lr2e-3-cool-3400-t1) train "$1" --data mnist60k --batch 32 --steps 3400 "${W32[@]}" --set lr_g=2e-3 --set lr_d=2e-3 --set lr_decay_start=2720 --set lr_decay_end=3400 ;;
    *) echo "unknown run: $1" >&2; return 2 ;;
  esac
}

# `all`: the table's runs, in the order they were made (probe-w32-b32, probe-w32-b128 and e-w16-lr1e-3-cool are
# defined but were not run).
if [[ ${1:-} == all ]]; then set -- probe-w32-b64 probe-w16-b64 probe-w24-b64 a-baseline b-lr1e-3 b-lr5e-4 \
  c-lr1e-3-ema995 f-lr1e-3-ema995-cool b-lr2e-3 e-w16-lr2e-3-cool b-lr4e-3 b-lr2e-3-seed2 b-lr2e-3-seed3 \
  g-60k-lr2e-3 b-lr4e-3-seed2 h-lr2e-3-cool-e16 b-lr4e-3-seed3 i-lr2e-3-cool-e24 j-lr2e-3-cool-2100 k-b32-lr2e-3-cool-3400 \
  k-b32-lr3e-3-cool-3400; fi
for name in "$@"; do one "$name"; done
exit 0
