#!/bin/sh
# run.sh — run one fuzz harness with the options docs/fuzzing.md uses.
#
#   fuzz/run.sh BUILD_DIR scenario|ops [libFuzzer options…]
#
# BUILD_DIR is a build configured with -Dfuzz=true (docs/fuzzing.md).  The
# corpus grows in BUILD_DIR/fuzz-corpus/NAME; crashes, timeouts and leaks
# are written to BUILD_DIR/fuzz-artifacts/NAME-*.  The scenario harness
# runs in scenarios/ (so relative trace and cost paths resolve as for the
# shipped files) with the shipped scenarios as its seed corpus and
# fuzz/scenario.dict as its dictionary.  One process, no -jobs: add
# -runs=N or -max_total_time=S to bound it (by default it runs until a
# crash).
set -eu
if [ $# -lt 2 ]; then
    echo "usage: $0 BUILD_DIR scenario|ops [libFuzzer options...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
name=$2
shift 2
src=$(cd "$(dirname "$0")/.." && pwd)
corpus=$build/fuzz-corpus/$name
mkdir -p "$corpus" "$build/fuzz-artifacts"
common="-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$build/fuzz-artifacts/$name-"
case $name in
scenario)
    cd "$src/scenarios"
    # shellcheck disable=SC2086
    exec "$build/fuzz/fuzz-scenario" $common -dict="$src/fuzz/scenario.dict" "$@" \
        "$corpus" "$src/scenarios"
    ;;
ops)
    # shellcheck disable=SC2086
    exec "$build/fuzz/fuzz-ops" $common -max_len=256 "$@" "$corpus"
    ;;
*)
    echo "$0: no harness '$name' (scenario or ops)" >&2
    exit 2
    ;;
esac
