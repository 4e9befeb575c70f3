#!/usr/bin/env bash
# The style-transfer figures of docs/RESULTS.md ("Style transfer") and docs/images/adain-*: AdaIN with a trained decoder
# and Gatys et al. on the same content/style pairs, timed and measured alike, then the pictures.
#   bash docs/experiments/style_transfer.sh RUN_DIR OUT_DIR [NATIVEGAN]
# RUN_DIR holds the decoder (`nativegan train adain --batch 4 --set lr=1e-3 --minutes 32 --out RUN_DIR`); NATIVEGAN is
# how to run the program (default: dotnet tools/NativeGan.Cli/bin/Release/net10.0/nativegan.dll). Everything runs under
# nice -n 19 (the machine is shared). Needs /usr/bin/python3 with Pillow for the grids.
set -euo pipefail
run=$1; out=$2; ng=${3:-"dotnet tools/NativeGan.Cli/bin/Release/net10.0/nativegan.dll"}
ck=$run/checkpoint.safetensors
photos=.cache/data/stdlib-photos
mkdir -p "$out"
n() { nice -n 19 $ng "$@" --device cpu; }

contents="locomotion-house-cat nagasaki-boats french-alpine-landscape"
styles="acanthus-mollis black-canyon march-pastoral"
# The content x style grid (AdaIN, 256 x 256).
for c in $contents; do for s in $styles; do
  [ -f "$out/adain-$c-$s.png" ] || n stylize --method adain --checkpoint "$ck" --content stdlib:$c --style stdlib:$s --size 256 --out "$out/adain-$c-$s.png" | tee "$out/adain-$c-$s.txt"
done; done
# The alpha sweep and a two-style mix, colour preservation.
for a in 0 0.25 0.5 0.75 1; do
  [ -f "$out/alpha-$a.png" ] || n stylize --method adain --checkpoint "$ck" --content stdlib:french-alpine-landscape --style stdlib:acanthus-mollis --alpha $a --size 256 --out "$out/alpha-$a.png"
done
for w in 1,0 3,1 1,1 1,3 0,1; do
  [ -f "$out/mix-${w/,/-}.png" ] || n stylize --method adain --checkpoint "$ck" --content stdlib:nagasaki-boats --style stdlib:acanthus-mollis,stdlib:march-pastoral --weights $w --size 256 --out "$out/mix-${w/,/-}.png"
done
[ -f "$out/preserve.png" ] || n stylize --method adain --checkpoint "$ck" --content stdlib:nagasaki-boats --style stdlib:allium-oreophilum --preserve-color --size 256 --out "$out/preserve.png"

# AdaIN against Gatys on the same pairs, 160 x 160 (Gatys: 150 steps, its defaults); the content image itself measured
# alike (Gatys with 0 steps returns it) as the baseline. Times: wall and cpu (the latter is unaffected by pauses).
for pair in french-alpine-landscape:acanthus-mollis locomotion-house-cat:black-canyon; do
  c=${pair%%:*}; s=${pair##*:}
  n stylize --method adain --checkpoint "$ck" --content stdlib:$c --style stdlib:$s --size 160 --out "$out/cmp-adain-$c-$s.png" | tee "$out/cmp-adain-$c-$s.txt"
  n stylize --method gatys --content stdlib:$c --style stdlib:$s --size 160 --steps 150 --every 0 --out "$out/cmp-gatys-$c-$s.png" | tee "$out/cmp-gatys-$c-$s.txt"
  n stylize --method gatys --content stdlib:$c --style stdlib:$s --size 160 --steps 0 --every 0 --out "$out/cmp-none-$c-$s.png" | tee "$out/cmp-none-$c-$s.txt"
done

py=/usr/bin/python3
g=docs/experiments/style_grid.py
$py $g "$out/adain-grid.jpg" 192 --contents "$(for c in $contents; do printf "%s," $photos/$c.jpg; done | sed 's/,$//')" \
  --styles "$(for s in $styles; do printf "%s," $photos/$s.jpg; done | sed 's/,$//')" --cells "$out/adain-{c}-{s}.png"
$py $g "$out/adain-alpha.jpg" 192 --row $photos/french-alpine-landscape.jpg --cells "$(for a in 0 0.25 0.5 0.75 1; do printf "%s," $out/alpha-$a.png; done | sed 's/,$//')"
$py $g "$out/adain-mix.jpg" 192 --row $photos/nagasaki-boats.jpg --cells "$(for w in 1-0 3-1 1-1 1-3 0-1; do printf "%s," $out/mix-$w.png; done | sed 's/,$//')"
$py $g "$out/cmp-1.jpg" 160 --row $photos/french-alpine-landscape.jpg --cells $photos/acanthus-mollis.jpg,$out/cmp-adain-french-alpine-landscape-acanthus-mollis.png,$out/cmp-gatys-french-alpine-landscape-acanthus-mollis.png
$py $g "$out/cmp-2.jpg" 160 --row $photos/locomotion-house-cat.jpg --cells $photos/black-canyon.jpg,$out/cmp-adain-locomotion-house-cat-black-canyon.png,$out/cmp-gatys-locomotion-house-cat-black-canyon.png
grep -h "wrote\|measured" "$out"/cmp-*.txt
