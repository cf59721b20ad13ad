#!/bin/sh
# copy-vs-map.sh — the study of docs/copy-vs-map.md: where mapping data
# starts to beat copying it.  Sweeps a scenario over strategy
# (physical-copy, direct-map) x blocks (1 … MAX pages, x2), under
# l4-published and this host's calibrated table (simulated time, exact),
# and on the host-MMU back end (the host's time, REPS sweeps, the best of
# them for each point: the machine is shared and noisy), and prints for each
# the measured time of both strategies by size and the crossover: the size
# at which direct-map becomes cheaper than physical-copy (or the reverse),
# interpolated geometrically between the two sizes around the first change.
# Last, how far the calibrated table's crossover is from the timed one.
#
# Run: bench/copy-vs-map.sh [PMSIM [HOST-TABLE]]
#   PMSIM: default build-rel/tools/pmsim (a release build with -Db_lto=true)
#   HOST-TABLE: a table from `pmsim calibrate` (default: made now, ~6 s)
# Environment:
#   CVM_SCENARIO  default scenarios/copy-vs-map-steady.yaml (the steady
#                 stream); scenarios/copy-vs-map.yaml is the first request
#   CVM_BLOCKS    the largest transfer in pages (default 65536: 256 MiB)
#   CVM_REPS      host-MMU sweeps, the best of them kept (default 5)
set -eu
pmsim=${1:-build-rel/tools/pmsim}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pmsim-cvm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if [ $# -ge 2 ]; then host=$2; else host=$tmp/host.yaml; "$pmsim" calibrate -o "$host" 2>/dev/null; fi
scenario=${CVM_SCENARIO:-$here/scenarios/copy-vs-map-steady.yaml}
max=${CVM_BLOCKS:-65536}
reps=${CVM_REPS:-5}

# crossover COLUMN CSV…: the table of COLUMN by size for both strategies
# (the least of the CSVs' values for each point), and where their order
# first changes; the crossover in KiB (or "none") goes to $tmp/x.
crossover() {
    col=$1
    shift
    awk -F, -v col="$col" -v out="$tmp/x" '
        FNR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $c["status"] == "ok" {
            k = $c["strategy"] SUBSEP $c["blocks"]
            if (!(k in v) || $c[col] + 0 < v[k]) v[k] = $c[col] + 0
            s[$c["blocks"]] = 1
        }
        END {
            n = 0
            for (b in s) sizes[++n] = b + 0
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
                if (sizes[j] < sizes[i]) { t = sizes[i]; sizes[i] = sizes[j]; sizes[j] = t }
            printf "    %8s %14s %14s %7s  %s\n", "KiB", "physical-copy", "direct-map", "map/copy", "cheaper"
            prev = ""; found = 0; x = "none"
            for (i = 1; i <= n; i++) {
                b = sizes[i]; cp = v["physical-copy", b]; dm = v["direct-map", b]
                if (cp == "" || dm == "" || cp <= 0 || dm <= 0) continue
                w = dm < cp ? "map" : "copy"
                printf "    %8d %14d %14d %7.2f  %s\n", b * 4, cp, dm, dm / cp, w
                d = log(cp / dm)
                if (prev != "" && w != prevw && !found) {
                    y = log(pb) + (log(b) - log(pb)) * (-pd) / (d - pd)
                    x = sprintf("%.0f", exp(y) * 4)
                    printf "    crossover: %s cheaper from about %s KiB\n", w, x
                    found = 1
                }
                prev = b; pb = b; pd = d; prevw = w; first = first == "" ? b : first; last = b
            }
            if (!found) printf "    no crossover from %d to %d KiB: %s cheaper throughout\n", first * 4, last * 4, w
            print x > out
        }' "$@"
}

sweep() {
    "$pmsim" sweep "$scenario" -p strategy=physical-copy,direct-map -p blocks=1..$max:x2 "$@" 2>/dev/null || true
}

echo "scenario: $(basename "$scenario"), 4 KiB to $((max * 4)) KiB"
for table in l4-published "$host"; do
    sweep -p cost="$table" --jobs 1 --csv "$tmp/sim.csv"
    echo "cost table $(basename "$table" .yaml): time.measured_cost_ns (simulated)"
    crossover measured_cost_ns "$tmp/sim.csv"
done
predicted=$(cat "$tmp/x")
i=1
while [ "$i" -le "$reps" ]; do
    sweep --backend host-mmu --jobs 1 --csv "$tmp/host$i.csv"
    i=$((i + 1))
done
echo "host-MMU back end: time.measured_host_ns (the host's wall time of the measured steps, best of $reps)"
crossover measured_host_ns "$tmp"/host*.csv
timed=$(cat "$tmp/x")
if [ "$predicted" != none ] && [ "$timed" != none ]; then
    awk -v p="$predicted" -v t="$timed" 'BEGIN {
        printf "calibrated table against host-MMU timing: crossover %d KiB predicted, %d KiB timed: %+.0f %% (%s +-20 %%)\n",
            p, t, (p / t - 1) * 100, (p / t >= 0.8 && p / t <= 1.2) ? "within" : "not within" }'
else
    echo "calibrated table against host-MMU timing: crossover $predicted predicted, $timed timed"
fi
