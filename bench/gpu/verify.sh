#!/usr/bin/env bash
# bench/gpu/verify.sh - the one command for a GPU machine (issue 12). Run from anywhere in the repository:
#   1. versions: device, driver, CUDA, ptxas/nvcc, cuBLAS and cuDNN (file names, pip wheels, a tiny ctypes query);
#   2. ptxas:    writes the generated PTX modules (two tests, no GPU needed), then assembles them and every
#                native/cuda/*.ptx with `ptxas -arch=sm_90 -v` (and for the .target each
#                file declares), keeping the register/stack/spill report;
#   3. tests:    runs the whole `Gpu` test category from the packed .device/ folder (.device/run.sh, no .NET needed)
#                and prints the CUDA backend's name as the tests report it;
#   4. benches:  runs each bench/gpu/bench-*.sh (none exist yet: the step says so);
#   then prints a summary table. Everything goes under one folder: $OUT when set, else --out DIR, else
#   BenchmarkDotNet.Artifacts/gpu-verify/<UTC time>. Exits 1 if any step failed; every step runs regardless.
#
# It only reads the GPU's state (nvidia-smi queries). It never changes clocks, power, compute mode, MIG or
# persistence, and never resets the GPU.
#
# Usage: bench/gpu/verify.sh [--rehearse] [--pack] [--out DIR] [--test-timeout SECONDS]
#   --rehearse  CPU-only rehearsal: the GPU steps print "skipped: no GPU", everything else runs for real
#               (the packed runner with the Gpu filter then reports the GPU tests as skipped). Chosen
#               automatically when nvidia-smi is missing or lists no GPU.
#   --pack      first pack tests/Nabla.Tests/bin/Release/net10.0 and a .NET runtime into .device/ with
#               ../shared/device/pack.sh (needs .NET and a Release build: dotnet build Engine.sln -c Release),
#               drop the native libraries the Gpu tests never load, record the commit, check the 64 MiB limit.
#   --out DIR   output folder when $OUT is not set.
#   --test-timeout S  wall-clock limit of the test step (default 300).
# On the device machine (see README, "GPU status"): run tool, command `bash bench/gpu/verify.sh`,
# carry [".device"], timeout_s 540.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 2

usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

rehearse=auto pack=0 out="" test_timeout=300
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rehearse) rehearse=1; shift ;;
    --pack) pack=1; shift ;;
    --out) [[ $# -ge 2 && -n "$2" ]] || { echo "verify.sh: --out needs a directory" >&2; exit 2; }; out=$2; shift 2 ;;
    --out=*) out=${1#--out=}; [[ -n "$out" ]] || { echo "verify.sh: --out needs a directory" >&2; exit 2; }; shift ;;
    --test-timeout) test_timeout=${2:-}; shift 2 || shift ;;
    --test-timeout=*) test_timeout=${1#--test-timeout=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "verify.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ "$test_timeout" =~ ^[1-9][0-9]*$ ]] || { echo "verify.sh: --test-timeout needs a positive number of seconds, got '$test_timeout'" >&2; exit 2; }
# $OUT (the device machine's output folder) wins over --out.
out=${OUT:-${out:-$root/BenchmarkDotNet.Artifacts/gpu-verify/$(date -u +%Y%m%dT%H%M%SZ)}}
mkdir -p "$out" || { echo "verify.sh: cannot create the output folder $out" >&2; exit 2; }
out=$(cd "$out" && pwd)

# Files under $out (the device tool brings back at most 8 files, at most 2 folders down):
#   verify.log  everything printed      versions.txt  step 1      ptxas.txt  step 2
#   tests/log.txt  step 3 (written by .device/run.sh)      benches.txt  step 4      summary.txt
names=() statuses=() details=()
record() { names+=("$1"); statuses+=("$2"); details+=("$3"); echo "-- $1: $2${3:+ ($3)}"; }
ok() { record "$1" ok "${2:-}"; }
fail() { record "$1" FAIL "$2"; }
skip() { record "$1" skipped "$2"; }
section() { echo; echo "== $* =="; }

# --- helpers ------------------------------------------------------------------------------------

gpu_present() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; }

# The folders .device/run.sh puts on LD_LIBRARY_PATH, searched the same way, for the same sonames.
cuda_libs=""
find_cuda_libs() {
  cuda_libs=$(find /usr/local /opt /usr/lib /lib \( -name 'libcublas.so.1[23]' -o -name 'libcudnn.so.9' \) 2>/dev/null | sort -u)
}

find_ptxas() {
  local p
  p=$(command -v ptxas 2>/dev/null) && { echo "$p"; return 0; }
  for p in /usr/local/cuda/bin/ptxas /usr/local/cuda-*/bin/ptxas; do [[ -x "$p" ]] && { echo "$p"; return 0; }; done
  # The pip wheels of the CUDA toolkit (nvidia-cuda-nvcc, cuda-toolkit) carry one too.
  p=$(find /usr/local /opt -name ptxas -type f -perm -u+x 2>/dev/null | head -n 1)
  [[ -n "$p" ]] && { echo "$p"; return 0; }
  return 1
}

tree_bytes() {
  # What the device tool sends besides carried paths: tracked and untracked-not-ignored files.
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null | awk 'END { print $1 + 0 }'
  else
    echo 0
  fi
}

# pack.sh appends '/.device/' to .git/info/exclude, which does not exist in a linked worktree (there
# .git is a file), and stops there. In a worktree, run a fresh copy of it without that line when
# .device/ is already ignored (this repository's .gitignore names it), else writing the shared exclude file.
run_pack_sh() {
  local dir=$root/../shared/device
  [[ -f "$dir/pack.sh" && -f "$dir/run.sh" ]] || { echo "no $dir/pack.sh and run.sh"; return 2; }
  if [[ -d "$root/.git" ]]; then
    bash "$dir/pack.sh" "$@"
  else
    local tmp rc exclude
    tmp=$(mktemp -d) || return 2
    cp "$dir/pack.sh" "$dir/run.sh" "$tmp"/
    if git check-ignore -q .device/; then
      sed -i '/\.git\/info\/exclude/d' "$tmp/pack.sh"
      echo "(a linked worktree: .device/ is already ignored; packing with a copy of pack.sh that leaves .git alone)"
    else
      exclude=$(git rev-parse --git-path info/exclude)
      mkdir -p "$(dirname "$exclude")"
      sed -i "s#\.git/info/exclude#'$exclude'#g" "$tmp/pack.sh"
      echo "(a linked worktree: packing with a copy of pack.sh that writes $exclude)"
    fi
    bash "$tmp/pack.sh" "$@"; rc=$?
    rm -rf "$tmp"
    return $rc
  fi
}

# --- steps --------------------------------------------------------------------------------------

step_pack() {
  section "pack: .device/ from tests/Nabla.Tests/bin/Release/net10.0"
  local build=tests/Nabla.Tests/bin/Release/net10.0
  if [[ ! -f "$build/Nabla.Tests.dll" ]]; then fail pack "no $build/Nabla.Tests.dll: run dotnet build Engine.sln -c Release first"; return; fi
  if ! command -v dotnet >/dev/null 2>&1; then fail pack "no dotnet here to pack a runtime from"; return; fi
  # The one GPU run must not test an old build: no source may be newer than the test assembly.
  local newer
  newer=$(find src tests native \( -name '*.cs' -o -name '*.csproj' -o -name '*.ptx' \) -newer "$build/Nabla.Tests.dll" \
    -not -path '*/bin/*' -not -path '*/obj/*' 2>/dev/null | head -n 3)
  if [[ -n "$newer" ]]; then fail pack "sources newer than the build ($(echo $newer)): run dotnet build Engine.sln -c Release first"; return; fi
  if ! run_pack_sh "$build"; then fail pack "pack.sh failed"; return; fi
  # Native libraries that only the ONNX Runtime and plotting tests load (about 42 MB): the Gpu
  # category needs none of them, and without them .device/ fits the device tool's 64 MiB.
  find .device/tests/runtimes -type f \( -name 'libonnxruntime*' -o -name 'libSkiaSharp*' -o -name 'libHarfBuzzSharp*' \) -print -delete
  { echo "commit $(git rev-parse HEAD 2>/dev/null || echo unknown)"
    echo "uncommitted changes: $(git status --porcelain --untracked-files=no 2>/dev/null | wc -l) tracked file(s)"
    echo "packed $(date -u +%Y-%m-%dT%H:%M:%SZ) from $build"; } > .device/commit.txt
  cat .device/commit.txt
  local device tree limit=$((64 * 1024 * 1024))
  device=$(du -sb .device | cut -f1)
  tree=$(tree_bytes)
  echo "size: .device $((device / 1024 / 1024)) MiB + working tree $((tree / 1024 / 1024)) MiB of the device tool's 64 MiB"
  if (( device + tree > limit )); then fail pack ".device ($device bytes) and the tree ($tree bytes) exceed 64 MiB"; return; fi
  ok pack "$((device / 1024 / 1024)) MiB packed, $(head -n 1 .device/commit.txt)"
}

step_versions() {
  section "versions"
  local f=$out/versions.txt
  {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host: $(uname -srm)"
    if [[ -f .device/commit.txt ]]; then sed 's/^/.device: /' .device/commit.txt
    else echo "commit: $(git rev-parse HEAD 2>/dev/null || echo 'unknown (no .device/commit.txt, no git)')"; fi
    if [[ $rehearse == 1 ]]; then
      echo "gpu: skipped: no GPU ($mode_reason)"
    else
      echo "gpu:"; nvidia-smi --query-gpu=index,name,pci.bus_id,compute_cap,memory.total,driver_version --format=csv 2>&1 | sed 's/^/  /'
      echo "gpu state (read only):"
      nvidia-smi --query-gpu=clocks.sm,clocks.mem,temperature.gpu,power.draw,persistence_mode,compute_mode,mig.mode.current \
        --format=csv 2>&1 | sed 's/^/  /'
      echo "driver's CUDA version: $(nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' | head -n 1 | cut -d' ' -f3)"
    fi
    local p
    if p=$(find_ptxas); then echo "ptxas: $p: $("$p" --version 2>&1 | tail -n 1)"; else echo "ptxas: not found"; fi
    if p=$(command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null); then echo "nvcc: $p: $("$p" --version 2>&1 | tail -n 1)"; else echo "nvcc: not found"; fi
    echo "cuBLAS / cuDNN files (the sonames .device/run.sh looks for, and what they point at):"
    if [[ -z "$cuda_libs" ]]; then echo "  none found under /usr/local /opt /usr/lib /lib"; fi
    local lib
    for lib in $cuda_libs; do echo "  $lib -> $(basename "$(readlink -f "$lib")")"; done
    if command -v python3 >/dev/null 2>&1; then
      local wheels
      wheels=$(python3 -m pip list 2>/dev/null | awk 'tolower($1) ~ /^nvidia-(cublas|cudnn|cuda-runtime|cuda-nvrtc)/ { printf "%s %s; ", $1, $2 }')
      echo "pip wheels ($(command -v python3)): ${wheels:-none of nvidia-cublas/cudnn/cuda-runtime/cuda-nvrtc}"
      # The loaded libraries' own answer: cublasGetProperty(MAJOR/MINOR/PATCH) and cudnnGetVersion()
      # need no device, only the files.
      local blas dnn
      blas=$(echo "$cuda_libs" | grep -m 1 'libcublas.so.13' || echo "$cuda_libs" | grep -m 1 'libcublas.so.12')
      dnn=$(echo "$cuda_libs" | grep -m 1 'libcudnn.so.9')
      python3 - "$blas" "$dnn" <<'PY' 2>&1
import ctypes, sys
blas, dnn = sys.argv[1], sys.argv[2]
if blas:
    try:
        lib = ctypes.CDLL(blas)
        v = []
        for prop in (0, 1, 2):
            x = ctypes.c_int(-1)
            status = lib.cublasGetProperty(prop, ctypes.byref(x))
            v.append(str(x.value) if status == 0 else f"status {status}")
        print(f"cuBLAS query: {'.'.join(v)} ({blas})")
    except Exception as e:
        print(f"cuBLAS query failed: {e}")
else:
    print("cuBLAS query: no library found")
if dnn:
    try:
        lib = ctypes.CDLL(dnn)
        lib.cudnnGetVersion.restype = ctypes.c_size_t
        print(f"cuDNN query: cudnnGetVersion() = {lib.cudnnGetVersion()} ({dnn})")
    except Exception as e:
        print(f"cuDNN query failed: {e}")
else:
    print("cuDNN query: no library found")
PY
    else
      echo "python3: not found (no pip or ctypes queries)"
    fi
  } > "$f" 2>&1
  cat "$f"
  local missing=""
  echo "$cuda_libs" | grep -q 'libcublas.so.1[23]' || missing+=" cuBLAS 12/13"
  echo "$cuda_libs" | grep -q 'libcudnn.so.9' || missing+=" cuDNN 9"
  if [[ $rehearse == 1 ]]; then
    ok versions "GPU lines skipped: no GPU${missing:+; not found here:$missing}"
  elif [[ -n "$missing" ]]; then
    fail versions "not found:$missing"
  else
    ok versions "$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1)"
  fi
}

# The generated PTX modules (PtxWriter: math library, unary, pow, fused samples; the compute families) are written
# by two tests into $out/ptx-generated, so that step_ptxas assembles them with the hand-written ones. Needs no GPU.
step_generated() {
  section "generated PTX modules -> $out/ptx-generated"
  if [[ ! -f .device/run.sh ]] || ! ls .device/tests/*.Tests.dll >/dev/null 2>&1; then
    fail generated "no packed .device/ (run with --pack on a machine with .NET)"; return
  fi
  mkdir -p "$out/ptx-generated" "$out/generated"
  NABLA_PTX_DUMP="$out/ptx-generated" OUT="$out/generated" timeout -k 10 300 bash .device/run.sh tests \
    --filter "FullyQualifiedName~GeneratedModulesAreWrittenForPtxas" --no-ansi --progress off > "$out/generated.txt" 2>&1
  local rc=$? n
  n=$(find "$out/ptx-generated" -name '*.ptx' | wc -l)
  if (( rc == 0 && n > 0 )); then ok generated "$n modules written"
  else fail generated "exit $rc, $n modules written; see generated.txt"; fi
}

step_ptxas() {
  section "ptxas: native/cuda/*.ptx and the generated modules"
  local f=$out/ptxas.txt ptxas
  shopt -s nullglob
  local files=(native/cuda/*.ptx "$out"/ptx-generated/*.ptx)
  shopt -u nullglob
  if [[ ${#files[@]} -eq 0 ]]; then fail ptxas "no native/cuda/*.ptx"; return; fi
  if ! ptxas=$(find_ptxas); then
    if [[ $rehearse == 1 ]]; then
      echo "skipped: no GPU (and no ptxas here) for ${#files[@]} files: ${files[*]}" | tee "$f"
      skip ptxas "no GPU: no ptxas here"
    else
      echo "ptxas not found (PATH, /usr/local/cuda*/bin, /usr/local, /opt)" | tee "$f"
      fail ptxas "ptxas not found"
    fi
    return
  fi
  local tmp failures=0 n=0 file target arch
  tmp=$(mktemp -d)
  : > "$f"
  for file in "${files[@]}"; do
    target=$(grep -m 1 -oE '^\s*\.target\s+sm_[0-9a-z]+' "$file" | awk '{ print $2 }')
    # sm_90 as the issue asks (the H100/H200), and the target the file declares, which must assemble too.
    local archs=(sm_90)
    [[ -n "$target" && "$target" != sm_90 ]] && archs+=("$target")
    for arch in "${archs[@]}"; do
      n=$((n + 1))
      echo "### $file -arch=$arch" >> "$f"
      if "$ptxas" -arch="$arch" -v "$file" -o "$tmp/$(basename "$file" .ptx).$arch.cubin" >> "$f" 2>&1; then
        echo "### ok" >> "$f"
      else
        echo "### FAILED (exit $?)" >> "$f"; failures=$((failures + 1))
      fi
    done
  done
  rm -rf "$tmp"
  echo "ptxas: $("$ptxas" --version 2>&1 | tail -n 1)"
  # One line per entry and architecture: registers, stack frame, spills.
  awk '
    /Compiling entry function/ { match($0, /'\''[^'\'']+'\''/); entry = substr($0, RSTART + 1, RLENGTH - 2)
                                 match($0, /for '\''sm_[0-9a-z]+'\''/); arch = substr($0, RSTART + 5, RLENGTH - 6) }
    /bytes stack frame/        { stack = $1; st = $5; ld = $9 }
    /Used [0-9]+ registers/    { match($0, /Used [0-9]+ registers/); regs = substr($0, RSTART + 5, RLENGTH - 15)
                                 printf "  %-14s %-6s %3s registers  stack %s B  spill stores %s B  loads %s B%s\n", entry, arch, regs, stack, st, ld, (st + ld > 0 ? "  <- SPILLS" : "") }
  ' "$f" | tee -a "$f.summary"
  if [[ -f "$f.summary" ]]; then { echo; echo "### summary"; cat "$f.summary"; } >> "$f"; rm -f "$f.summary"; fi
  if (( failures > 0 )); then fail ptxas "$failures of $n assemblies failed; see ptxas.txt"
  else ok ptxas "$n assemblies of ${#files[@]} files"; fi
}

step_tests() {
  section "tests: the Gpu category from .device/"
  if [[ ! -f .device/run.sh || ! -f .device/dotnet.tar.xz ]] || ! ls .device/tests/*.Tests.dll >/dev/null 2>&1; then
    fail tests "no packed .device/ (on a machine with .NET: dotnet build Engine.sln -c Release; bash bench/gpu/verify.sh --pack --rehearse; then carry .device)"
    return
  fi
  mkdir -p "$out/tests"
  local rc
  OUT="$out/tests" timeout -k 10 "$test_timeout" bash .device/run.sh tests --filter "TestCategory=Gpu" \
    --output Detailed --no-ansi --progress off
  rc=$?
  local log=$out/tests/log.txt total failed succeeded skipped
  total=$(grep -m 1 -oE '^\s*total: [0-9]+' "$log" 2>/dev/null | grep -oE '[0-9]+')
  failed=$(grep -m 1 -oE '^\s*failed: [0-9]+' "$log" 2>/dev/null | grep -oE '[0-9]+')
  succeeded=$(grep -m 1 -oE '^\s*succeeded: [0-9]+' "$log" 2>/dev/null | grep -oE '[0-9]+')
  skipped=$(grep -m 1 -oE '^\s*skipped: [0-9]+' "$log" 2>/dev/null | grep -oE '[0-9]+')
  # GpuCudaSessionTests.DeviceCudaNamesTheDevice prints "CUDA backend: <IBackend.Name>" (e.g. cuda:0 (NVIDIA H200)).
  local backend
  backend=$(grep -m 1 -oE 'CUDA backend: .*' "$log" 2>/dev/null | sed 's/^CUDA backend: //')
  echo "backend under test: ${backend:-not reported (no Gpu session test ran)}"
  local counts="backend ${backend:-none}; total ${total:-?}, passed ${succeeded:-?}, failed ${failed:-?}, skipped ${skipped:-?}, exit $rc"
  if (( rc == 124 || rc == 137 )); then fail tests "timed out after ${test_timeout}s; $counts"; return; fi
  if [[ -z "$total" || -z "$failed" || -z "$skipped" || -z "$succeeded" ]]; then fail tests "no test summary in tests/log.txt; exit $rc"; return; fi
  if (( total == 0 )); then fail tests "the Gpu filter matched no test; $counts"; return; fi
  if [[ $rehearse == 1 ]]; then
    # Without a GPU every Gpu test must be reported as skipped (ignored with the probe's reason).
    if (( failed == 0 && succeeded == 0 && skipped == total )); then skip tests "no GPU: all $total Gpu tests reported as skipped by the packed runner, exit $rc"
    else fail tests "rehearsal expected every Gpu test skipped; $counts"; fi
  else
    # On a GPU a skipped test is an unverified one.
    if (( rc == 0 && failed == 0 && skipped == 0 && succeeded == total )); then ok tests "$counts"
    else fail tests "$counts"; fi
  fi
}

step_benches() {
  section "benchmarks: bench/gpu/bench-*.sh"
  local f=$out/benches.txt
  shopt -s nullglob
  local benches=(bench/gpu/bench-*.sh)
  shopt -u nullglob
  if [[ ${#benches[@]} -eq 0 ]]; then
    echo "none: no GPU benchmarks exist yet (issue 12's W2 step, 4096² GEMM, fused element-wise and peak-memory measurements need the CUDA backend)" | tee "$f"
    skip benches "no GPU benchmarks exist yet"
    return
  fi
  if [[ $rehearse == 1 ]]; then
    echo "skipped: no GPU for ${benches[*]}" | tee "$f"
    skip benches "no GPU: ${#benches[@]} benchmark script(s) not run"
    return
  fi
  local b failures=0
  : > "$f"
  for b in "${benches[@]}"; do
    echo "### $b" | tee -a "$f"
    if ! OUT="$out" bash "$b" 2>&1 | tee -a "$f"; then failures=$((failures + 1)); echo "### FAILED" | tee -a "$f"; fi
  done
  if (( failures > 0 )); then fail benches "$failures of ${#benches[@]} failed"; else ok benches "${#benches[@]} ran"; fi
}

main() {
  local started=$SECONDS
  mode_reason=""
  if [[ $rehearse == auto ]]; then
    if gpu_present; then rehearse=0; else rehearse=1; mode_reason="nvidia-smi missing or lists no GPU"; fi
  elif [[ $rehearse == 1 ]]; then
    mode_reason="--rehearse"
  fi
  echo "verify.sh: $( [[ $rehearse == 1 ]] && echo "REHEARSAL, GPU steps skipped ($mode_reason)" || echo "GPU run" ); output in $out"
  find_cuda_libs
  [[ $pack == 1 ]] && step_pack
  step_versions
  step_generated
  step_ptxas
  step_tests
  step_benches

  section "summary ($((SECONDS - started)) s; $( [[ $rehearse == 1 ]] && echo rehearsal || echo GPU run ))"
  local i failed=0
  for i in "${!statuses[@]}"; do [[ ${statuses[$i]} == FAIL ]] && failed=$((failed + 1)); done
  {
    for i in "${!names[@]}"; do printf '%-9s %-8s %s\n' "${names[$i]}" "${statuses[$i]}" "${details[$i]}"; done
    if (( failed > 0 )); then echo "RESULT: $failed step(s) failed"; else echo "RESULT: all steps passed or were skipped"; fi
    echo "output: $out"
  } | tee "$out/summary.txt"
  (( failed == 0 ))
}

main 2>&1 | tee "$out/verify.log"
exit "${PIPESTATUS[0]}"
