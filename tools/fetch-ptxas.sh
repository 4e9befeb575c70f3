#!/usr/bin/env bash
# Fetches NVIDIA's PTX assembler (ptxas) and SASS lister (cuobjdump), CUDA 11.8, from Debian bookworm's
# package nvidia-cuda-toolkit (component non-free) into the git-ignored cache .cache/cuda-tools/bin.
# No GPU and no CUDA driver are needed; nothing is installed system-wide: apt reads a private sources
# list and keeps its package lists in a private folder, the .deb is unpacked with dpkg -x.
#
#   bash tools/fetch-ptxas.sh            # once; later runs return at once if the tools work
#   NATIVEGAN_CUDA_TOOLS=DIR bash ...    # another cache folder (the tools land in DIR/bin)
#
# Exit status 0 when ptxas and cuobjdump run, non-zero with a one-line reason otherwise.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${NATIVEGAN_CUDA_TOOLS:-$repo/.cache/cuda-tools}
package=nvidia-cuda-toolkit   # ships usr/bin/ptxas, usr/bin/cuobjdump, usr/bin/nvdisasm (84 MB .deb)

works() { "$dest/bin/ptxas" --version >/dev/null 2>&1 && "$dest/bin/cuobjdump" --version >/dev/null 2>&1; }

if works; then
  echo "fetch-ptxas: present: $("$dest/bin/ptxas" --version | grep -m1 release) in $dest/bin"
  exit 0
fi

fail() { echo "fetch-ptxas: $*" >&2; exit 1; }
command -v apt-get >/dev/null && command -v dpkg >/dev/null \
  || fail "needs apt-get and dpkg (a Debian-like system); elsewhere install the CUDA toolkit and set NATIVEGAN_PTXAS=/path/to/ptxas"

# The Debian mirror this machine already uses (deb822 .sources or one-line sources.list), else the default.
mirror=$(grep -hoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
           | head -1 | tr -d ' ' || true)
mirror=${mirror:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""; [[ -f $keyring ]] && signed="[signed-by=$keyring] "

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/deb"
echo "deb ${signed}${mirror%/} bookworm non-free" > "$work/sources.list"
apt_private=(-o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=$work/none"
             -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "Debug::NoLocking=1"
             -o "APT::Sandbox::User=$(id -un)")

echo "fetch-ptxas: reading bookworm non-free from ${mirror%/}"
apt-get "${apt_private[@]}" -qq update >"$work/apt.log" 2>&1 \
  || { cat "$work/apt.log" >&2; fail "apt-get update of the private bookworm non-free list failed (see above)"; }
(cd "$work/deb" && apt-get "${apt_private[@]}" -qq download "$package") >>"$work/apt.log" 2>&1 \
  || { cat "$work/apt.log" >&2; fail "apt-get download $package failed (see above)"; }
deb=$(ls "$work/deb"/*.deb)
dpkg -x "$deb" "$work/x"

mkdir -p "$dest/bin"
# cuobjdump -sass hands the cubin to nvdisasm, so it comes along.
for tool in ptxas cuobjdump nvdisasm; do
  install -m 0755 "$work/x/usr/bin/$tool" "$dest/bin/$tool"
done
basename "$deb" > "$dest/SOURCE"
works || fail "the fetched tools do not run here ($(uname -m)); see $dest/bin"
echo "fetch-ptxas: fetched $(basename "$deb"): $("$dest/bin/ptxas" --version | grep -m1 release) into $dest/bin"
