#!/usr/bin/env bash
# Set-up time on a fresh clone: how long from `git clone` to the demo's answer, and to the test
# suite's set-up (and, with `test`, to a green `make test`). Prints one line per step.
#
#   bench/bench_setup.sh            # clone + make demo
#   bench/bench_setup.sh test-setup # ... then the rest of `make test`'s set-up (no suite)
#   bench/bench_setup.sh test       # ... then the whole `make test` (the suite too)
#
# Cold caches: pip's and npm's caches are fresh empty folders and the llama.cpp wheel cache
# (Makefile) is empty, so every package is fetched and built again. What a new machine of this
# kind already has is NOT cold and is stated in the output: pip also reads the machine's local
# package mirror (pip.conf: find-links / extra-index-url on local disk) and Debian's Chromium
# may already be installed. The clone is of this checkout's HEAD, laid out like the workspace
# (shared/ beside it, for the sample corpus).
#
# Each step prints its wall time and the CPU time (user + system) of everything it ran: on a
# machine shared with other work the wall time stretches, the CPU time barely moves, and
# CPU / 2 is the least wall time it can take on 2 idle cores (plus download waits).
# KEEP=1 keeps the clone and the logs.
set -euo pipefail
mode="${1:-demo}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/ragline-bench-setup.XXXXXX)"
[[ "${KEEP:-}" == 1 ]] && echo "work folder: $work" || trap 'rm -rf "$work"' EXIT
export PIP_CACHE_DIR="$work/pip-cache" npm_config_cache="$work/npm-cache" XDG_CACHE_HOME="$work/cache"
ln -s "$(cd "$repo/.." && pwd)/shared" "$work/shared"

now() { date +%s.%N; }
cpu_total=0
step() {  # step NAME COMMAND...: run it in the clone, print its wall and CPU seconds
  local name="$1"; shift
  if ! (cd "$work/ragline" && /usr/bin/time -f "%e %U %S" -o "$work/$name.time" "$@") >"$work/$name.log" 2>&1; then
    echo "FAILED: $name (tail of $work/$name.log follows)"; tail -30 "$work/$name.log"; exit 1
  fi
  read -r wall user sys <"$work/$name.time"
  cpu_total=$(echo "$cpu_total + $user + $sys" | bc)
  printf '%-22s %7.1f s wall %7.1f s CPU\n' "$name" "$wall" "$(echo "$user + $sys" | bc)"
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start; $(python3 --version)"
echo "pip mirror on disk: $(pip config get global.extra-index-url 2>/dev/null || echo none)"
echo "chromium already installed: $(command -v chromium >/dev/null && echo yes || echo no)"
t0=$(now)
git clone --quiet --no-local "$repo" "$work/ragline"
printf '%-22s %7.1f s\n' "git clone" "$(echo "$(now) - $t0" | bc)"
step "demo install" make setup-local
step "demo run" make demo
grep -m1 -E "^Answer" "$work/demo run.log" >/dev/null || { echo "no answer in the demo's output"; exit 1; }
echo "demo: $(grep -m1 -oE 'embedder: [a-z0-9]+' "$work/demo run.log"), $(grep -m1 -oE '[0-9]+ documents' "$work/demo run.log"), $(grep -m1 -E '^Answer' "$work/demo run.log")"
printf '%-22s %7.1f s wall %7.1f s CPU   <- goal: 180 s wall\n' "clone -> demo answer" "$(echo "$(now) - $t0" | bc)" "$cpu_total"
if [[ "$mode" == test-setup || "$mode" == test ]]; then
  step "test install" make setup-dev
  step "web build" make web
  step "chromium" make browser
  printf '%-22s %7.1f s wall %7.1f s CPU\n' "clone -> test set-up" "$(echo "$(now) - $t0" | bc)" "$cpu_total"
fi
if [[ "$mode" == test ]]; then
  step "make test" make test
  printf '%-22s %7.1f s wall %7.1f s CPU\n' "clone -> green tests" "$(echo "$(now) - $t0" | bc)" "$cpu_total"
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
