#!/bin/sh
# copy-vs-map.sh — the study of docs/copy-vs-map.md: where mapping data
# starts to beat copying it.  Sweeps scenarios/copy-vs-map.yaml over
# strategy (physical-copy, direct-map) x blocks (1 … 4096 pages, x2), under
# each cost table and on the host-MMU back end, and prints for each the
# measured time of both strategies by size and the crossover: the size at
# which direct-map becomes cheaper than physical-copy, or the reverse,
# interpolated geometrically between the two sizes around the change.
#
# Run: bench/copy-vs-map.sh [PMSIM [HOST-TABLE]]
#   PMSIM: default build-rel/tools/pmsim (a release build with -Db_lto=true)
#   HOST-TABLE: a table from `pmsim calibrate` (default: made now, ~6 s)
set -eu
pmsim=${1:-build-rel/tools/pmsim}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pmsim-cvm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if [ $# -ge 2 ]; then host=$2; else host=$tmp/host.yaml; "$pmsim" calibrate -o "$host" 2>/dev/null; fi
scenario=$here/scenarios/copy-vs-map.yaml

# crossover CSV COLUMN: the table of COLUMN by size for both strategies, and
# where their order changes.
crossover() {
    awk -F, -v col="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        { v[$c["strategy"], $c["blocks"]] = $c[col]; s[$c["blocks"]] = 1 }
        END {
            n = 0
            for (b in s) sizes[++n] = b + 0
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
                if (sizes[j] < sizes[i]) { t = sizes[i]; sizes[i] = sizes[j]; sizes[j] = t }
            printf "    %8s %14s %14s  %s\n", "KiB", "physical-copy", "direct-map", "cheaper"
            prev = ""; found = 0
            for (i = 1; i <= n; i++) {
                b = sizes[i]; cp = v["physical-copy", b]; dm = v["direct-map", b]
                w = dm < cp ? "map" : "copy"
                printf "    %8d %14d %14d  %s\n", b * 4, cp, dm, w
                d = log(cp / dm)
                if (prev != "" && w != prevw && !found) {
                    x = log(pb) + (log(b) - log(pb)) * (-pd) / (d - pd)
                    printf "    crossover: %s cheaper from about %.0f KiB\n", w, exp(x) * 4
                    found = 1
                }
                prev = b; pb = b; pd = d; prevw = w
            }
            if (!found) printf "    no crossover from %d to %d KiB: %s cheaper throughout\n", sizes[1] * 4, sizes[n] * 4, w
        }' "$1"
}

for table in l4-published "$host"; do
    "$pmsim" sweep "$scenario" -p strategy=physical-copy,direct-map -p blocks=1..4096:x2 \
        -p cost="$table" --jobs 1 --csv "$tmp/sim.csv" 2>/dev/null || true
    echo "cost table $(basename "$table" .yaml): time.measured_cost_ns (simulated)"
    crossover "$tmp/sim.csv" measured_cost_ns
done
"$pmsim" sweep "$scenario" -p strategy=physical-copy,direct-map -p blocks=1..4096:x2 \
    -p cost="$host" --backend host-mmu --jobs 1 --csv "$tmp/host.csv" 2>/dev/null || true
echo "host-MMU back end: time.measured_host_ns (the host's wall time of the measured steps)"
crossover "$tmp/host.csv" measured_host_ns
