#!/usr/bin/env bash
# The project's test command (README, .ci/run): builds in Release and runs the xunit.v3 test
# executable. Set-up it needs is done here, so a fresh machine runs it as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# NVIDIA's ptxas and cuobjdump (no GPU needed) let the tests assemble every GPU kernel for sm_90; fetched
# once into a git-ignored cache. CI must have them; elsewhere those tests report themselves skipped.
export NATIVEGAN_CUDA_TOOLS=${NATIVEGAN_CUDA_TOOLS:-$PWD/.cache/cuda-tools}
if ! bash tools/fetch-ptxas.sh; then
  if [[ ${CI:-} == true ]]; then echo "test.sh: CI needs ptxas: tools/fetch-ptxas.sh failed" >&2; exit 1; fi
  echo "test.sh: warning: no ptxas; the tests that assemble kernels for sm_90 will be skipped" >&2
fi
# MPICH (Debian's mpich 4.0.2, unpacked, not installed) for the data-parallel tests on 2 ranks; fetched once into
# .cache/mpich. Without it those tests report themselves skipped, saying why.
if ! bash tools/mpi.sh --fetch; then
  if [[ ${CI:-} == true ]]; then echo "test.sh: CI needs MPICH: tools/mpi.sh --fetch failed" >&2; exit 1; fi
  echo "test.sh: warning: no MPICH; the distributed-training tests will be skipped" >&2
fi
dotnet build tests/NativeGan.Tests -c Release --nologo -v quiet -clp:ErrorsOnly
log=$(mktemp)
set +e
dotnet tests/NativeGan.Tests/bin/Release/net10.0/NativeGan.Tests.dll -noColor "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# One plain closing line, 'N passed, N failed, N skipped', from xunit's summary.
summary=$(grep -E 'Total: [0-9]+, Errors: [0-9]+, Failed: [0-9]+, Skipped: [0-9]+' "$log" | tail -1 || true)
if [[ -n $summary ]]; then
  total=$(sed -E 's/.*Total: ([0-9]+).*/\1/' <<<"$summary")
  errors=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$summary")
  failed=$(sed -E 's/.*Failed: ([0-9]+).*/\1/' <<<"$summary")
  skipped=$(sed -E 's/.*Skipped: ([0-9]+).*/\1/' <<<"$summary")
  notrun=$(sed -E 's/.*Not Run: ([0-9]+).*/\1/' <<<"$summary")
  echo "$((total - failed - skipped - notrun)) passed, $((failed + errors)) failed, $skipped skipped"
fi
rm -f "$log"
exit "$rc"
