#!/usr/bin/env bash
# MPICH for data-parallel training (`train ... --distributed mpi`), from Debian bookworm's packages (mpich 4.0.2 and the
# libraries it needs), fetched once into the git-ignored cache .cache/mpich and never installed: `apt-get download`, then
# `dpkg -x`. Where the machine has no package lists, apt reads a private list of bookworm main (as tools/fetch-ptxas.sh).
# Then runs MPICH's launcher (hydra's mpiexec) with the cache's libraries on LD_LIBRARY_PATH, which every rank inherits,
# so the engine's P/Invoke finds libmpich.so.12 there.
#
#   bash tools/mpi.sh --fetch                     # fetch (or check) only; exit 0 when mpiexec runs
#   bash tools/mpi.sh -n 2 nativegan train wgan-gp --data ring8 --distributed mpi ...
#   bash tools/mpi.sh -hosts a,b -n 8 nativegan train dcgan --distributed mpi ...   # several machines (ssh; same paths)
#
# `nativegan` stands for the built CLI (dotnet tools/NativeGan.Cli/bin/Release/net10.0/nativegan.dll: build it first);
# any other program runs as given. NATIVEGAN_MPICH=DIR takes another cache folder. With MPICH installed system-wide
# (`apt-get install mpich`), plain `mpiexec -n 2 dotnet .../nativegan.dll train ... --distributed mpi` works too.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${NATIVEGAN_MPICH:-$repo/.cache/mpich}
lib=$dest/usr/lib/x86_64-linux-gnu
# mpich ships hydra (mpiexec.hydra, hydra_pmi_proxy); libmpich12 the library; the rest are its shared libraries, most
# present on a Debian system already but fetched so that a bare container works too.
packages=(mpich libmpich12 libhwloc15 libucx0 libslurm38 libgfortran5 libquadmath0 libnuma1 libibverbs1 librdmacm1)

works() { LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$dest/usr/bin/mpiexec.hydra" --version >/dev/null 2>&1 && [[ -e $lib/libmpich.so.12 ]]; }
fail() { echo "mpi.sh: $*" >&2; exit 1; }

fetch() {
  command -v apt-get >/dev/null && command -v dpkg >/dev/null \
    || fail "needs apt-get and dpkg (a Debian-like system); elsewhere install MPICH and run its mpiexec"
  local work; work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  mkdir -p "$work/deb"
  if ! (cd "$work/deb" && apt-get -qq download "${packages[@]}") >"$work/apt.log" 2>&1; then
    # No package lists here (a fresh container): a private list of bookworm main, the system's apt untouched.
    local mirror keyring=/usr/share/keyrings/debian-archive-keyring.gpg signed=""
    mirror=$(grep -hoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -1 | tr -d ' ' || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    [[ -f $keyring ]] && signed="[signed-by=$keyring] "
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
    echo "deb ${signed}${mirror%/} bookworm main" > "$work/sources.list"
    local apt_private=(-o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=$work/none"
                       -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "Debug::NoLocking=1"
                       -o "APT::Sandbox::User=$(id -un)")
    echo "mpi.sh: reading bookworm main from ${mirror%/}" >&2
    apt-get "${apt_private[@]}" -qq update >>"$work/apt.log" 2>&1 \
      || { cat "$work/apt.log" >&2; fail "apt-get update of the private bookworm list failed (see above)"; }
    (cd "$work/deb" && apt-get "${apt_private[@]}" -qq download "${packages[@]}") >>"$work/apt.log" 2>&1 \
      || { cat "$work/apt.log" >&2; fail "apt-get download ${packages[*]} failed (see above)"; }
  fi
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  for deb in "$work/deb"/*.deb; do dpkg -x "$deb" "$dest.tmp"; basename "$deb"; done > "$dest.tmp/SOURCES"
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  works || fail "the fetched MPICH does not run here ($(uname -m)); see $dest"
  echo "mpi.sh: fetched $(grep -m1 '^mpich_' "$dest/SOURCES") into $dest" >&2
}

works || fetch
if [[ ${1:-} == --fetch ]]; then
  echo "mpi.sh: present: $(LD_LIBRARY_PATH=$lib "$dest/usr/bin/mpiexec.hydra" --version | grep -m1 -i version | tr -s ' ') in $dest" >&2
  exit 0
fi
# The launcher's options come first, up to the program; `nativegan` is the built CLI.
args=()
while (($#)); do
  if [[ $1 == nativegan ]]; then
    cli=$repo/tools/NativeGan.Cli/bin/Release/net10.0/nativegan.dll
    [[ -f $cli ]] || fail "no $cli: build it first (dotnet build tools/NativeGan.Cli -c Release)"
    args+=(dotnet "$cli"); shift; args+=("$@"); break
  fi
  args+=("$1"); shift
done
export LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PATH=$dest/usr/bin:$PATH   # hydra starts hydra_pmi_proxy from PATH on other hosts
# A rank that dies (killed, out of memory, a crash) makes hydra end the others at once (its "BAD TERMINATION" block);
# then one plain line says what that means for the run: rank 0's checkpoints are written atomically, so the last one
# stays whole and --resume continues from it (with the same or another number of ranks).
set +e
"$dest/usr/bin/mpiexec.hydra" "${args[@]}"
rc=$?
set -e
if ((rc != 0 && rc != 130 && rc != 143)); then
  out=""
  for ((i = 0; i < ${#args[@]}; i++)); do [[ ${args[i]} == --out ]] && out=${args[i+1]:-}; done
  kept="no checkpoint was written"
  if [[ -n $out && -f $out/checkpoint.safetensors ]]; then kept="the last checkpoint, $out/checkpoint.safetensors, is whole: run again with --resume to continue"; fi
  echo "mpi.sh: the job stopped: a rank ended with an error or was killed (mpiexec exit code $rc, see above); $kept" >&2
fi
exit "$rc"
