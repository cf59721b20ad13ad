#!/bin/sh
# bench-sweep.sh — the speed-up of `pmsim sweep` across cores (issue 8: goal
# >= 1.8x on 2 cores): the same grid of 16 independent points run with
# --jobs 1 and with --jobs N (N: the CPUs online), wall time of each, the
# best of 3, and their ratio.  Each point replays a Zipf stream of 300,000
# references over a 16 MiB range through the default pager (256 frames).
#
# Run: bench/bench-sweep.sh [PMSIM]   (default: build-rel/tools/pmsim; a
# release build with -Db_lto=true gives the figures that count)
set -eu
pmsim=${1:-build-rel/tools/pmsim}
cpus=$(getconf _NPROCESSORS_ONLN)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pmsim-bench-sweep.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/point.yaml" <<'YAML'
name: a sweep point
params: { seed_offset: 0 }
machine: { frames: 4096 }
policy: { kind: fixed }
tasks:
  t: { guaranteed: 256 }
steps:
  - { task: t, do: mmap, at: 0x10000000, bytes: 16MiB }
  - { task: t, do: access, region: { at: 0x10000000, bytes: 16MiB }, pattern: zipf, alpha: 1, count: 300000, write_ratio: "0.${seed_offset}" }
YAML
best() { # jobs -> the best wall time of 3 runs, in seconds
    b=""
    for _ in 1 2 3; do
        s=$(date +%s.%N)
        "$pmsim" sweep "$tmp/point.yaml" -p seed_offset=0..15:+1 --jobs "$1" --csv /dev/null
        e=$(date +%s.%N)
        t=$(awk "BEGIN { print $e - $s }")
        if [ -z "$b" ] || [ "$(awk "BEGIN { print ($t < $b) }")" = 1 ]; then b=$t; fi
    done
    echo "$b"
}
one=$(best 1)
all=$(best "$cpus")
ratio=$(awk "BEGIN { print $one / $all }")
printf 'bench-sweep: 16 points, best of 3\n'
printf '  --jobs 1          : %6.3f s\n' "$one"
printf '  --jobs %-2s         : %6.3f s\n' "$cpus" "$all"
printf '  speed-up          : %6.2fx on %s CPUs (goal >= 1.8 on 2: %s)\n' "$ratio" "$cpus" \
    "$(if [ "$(awk "BEGIN { print ($ratio >= 1.8) }")" = 1 ]; then echo met; else echo NOT met; fi)"
