#!/bin/sh
# test-cli.sh — the pmsim program's surface: --help, --version, an unknown
# command (exit 2), a bad option (exit 2), the demo (exit 0, "demo ok"), and
# `pmsim run`: 0 for a scenario that holds, 1 for one that does not, 2 for a
# bad or missing file ("file:line:col: " on stderr, nothing on stdout) or a
# bad command line; --json, --trace and --check.
set -u
pmsim=$1
fail=0
check() { # description, expected status, actual status
    if [ "$2" -ne "$3" ]; then echo "FAIL: $1: exit $3, want $2"; fail=1; else echo "ok: $1"; fi
}
out=$("$pmsim" --help 2>&1); check "--help" 0 $?
echo "$out" | grep -q "demo" || { echo "FAIL: --help lists no commands"; fail=1; }
out=$("$pmsim" --version 2>&1); check "--version" 0 $?
echo "$out" | grep -qE '^pmsim [0-9]+\.[0-9]+' || { echo "FAIL: --version: $out"; fail=1; }
out=$("$pmsim" frobnicate 2>&1); check "unknown command" 2 $?
echo "$out" | grep -q "unknown command 'frobnicate'" || { echo "FAIL: message: $out"; fail=1; }
"$pmsim" --no-such-option >/dev/null 2>&1; check "unknown option" 2 $?
"$pmsim" >/dev/null 2>&1; check "no command" 2 $?
"$pmsim" demo --frames=-3 >/dev/null 2>&1; check "demo with bad frames" 2 $?
"$pmsim" demo --page-size=5000 >/dev/null 2>&1; check "demo with bad page size" 2 $?
out=$("$pmsim" demo 2>&1); check "demo" 0 $?
echo "$out" | grep -q "^demo ok$" || { echo "FAIL: demo output"; fail=1; }
echo "$out" | grep -q "FAIL" && { echo "FAIL: a demo step failed"; fail=1; }
out=$("$pmsim" demo --quiet --page-size 16384 --frames 64 2>&1); check "demo, 16 KiB pages" 0 $?
# pmsim run (SCENARIO.md, "The run").
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pmsim-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
scenario() { # file name, the expected pattern of the last read
    cat >"$tmp/$1" <<EOF
name: $1
machine: { frames: 16 }
tasks: { a: {} }
steps:
  - { task: a, do: create, as: C }
  - { task: a, do: allocate, container: C, count: 2 }
  - { task: a, do: map, container: C, count: 2, at: 0x100000 }
  - { task: a, do: write, at: 0x100000, bytes: 8KiB, pattern: 7 }
  - { task: a, do: read, at: 0x101000, bytes: 4KiB, expect_pattern: $2 }
expect:
  tasks.a.allocated: 2
EOF
}
scenario ok.yaml 7
scenario fail.yaml 8
printf 'name: bad\nmachine: { frames: 16 }\ntasks: { a: {} }\nsteps:\n  - { task: a, do: create, as: C }\n  - { task: a, do: allocate, container: C, count: -1 }\n' >"$tmp/bad.yaml"

out=$("$pmsim" run "$tmp/ok.yaml" 2>&1); check "run, a scenario that holds" 0 $?
echo "$out" | grep -q "^result: ok$" || { echo "FAIL: run: no 'result: ok': $out"; fail=1; }
echo "$out" | grep -q "FAILURE" && { echo "FAIL: run: a failure in a scenario that holds"; fail=1; }
"$pmsim" run --check "$tmp/ok.yaml" >/dev/null 2>&1; check "run --check" 0 $?
out=$("$pmsim" run "$tmp/fail.yaml" 2>&1); check "run, a scenario that does not hold" 1 $?
echo "$out" | grep -q "1 FAILURE" || { echo "FAIL: run: no FAILURE: $out"; fail=1; }
echo "$out" | grep -q "fail.yaml:9): read by a: the byte at 0x101000 is 0x07, expected 0x08" ||
    { echo "FAIL: run: the failure is not named: $out"; fail=1; }
out=$("$pmsim" run "$tmp/bad.yaml" 2>"$tmp/err"); check "run, a bad file" 2 $?
[ -z "$out" ] || { echo "FAIL: run, a bad file: stdout: $out"; fail=1; }
grep -q "^$tmp/bad.yaml:6:51: count must not be negative" "$tmp/err" ||
    { echo "FAIL: run, a bad file: stderr: $(cat "$tmp/err")"; fail=1; }
"$pmsim" run "$tmp/none.yaml" >/dev/null 2>"$tmp/err"; check "run, a missing file" 2 $?
grep -q "^$tmp/none.yaml:1:1: " "$tmp/err" || { echo "FAIL: missing file: $(cat "$tmp/err")"; fail=1; }
"$pmsim" run >/dev/null 2>&1; check "run without a file" 2 $?
"$pmsim" run "$tmp/ok.yaml" "$tmp/ok.yaml" >/dev/null 2>&1; check "run with two files" 2 $?
"$pmsim" run --no-such-option "$tmp/ok.yaml" >/dev/null 2>&1; check "run, a bad option" 2 $?
out=$("$pmsim" run --json "$tmp/ok.yaml" 2>&1); check "run --json" 0 $?
case $out in "{"*"}") ;; *) echo "FAIL: run --json is not a JSON object: $out"; fail=1 ;; esac
echo "$out" | grep -q '"failures" : \[ *\]' || { echo "FAIL: run --json: failures: $out"; fail=1; }
if command -v python3 >/dev/null 2>&1; then
    echo "$out" | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if d["ok"] and d["tasks"]["a"]["allocated"] == 2 else 1)' ||
        { echo "FAIL: run --json does not parse, or says something else"; fail=1; }
fi
"$pmsim" run --json "$tmp/fail.yaml" >/dev/null 2>&1; check "run --json, a failing scenario" 1 $?
out=$("$pmsim" run --trace "$tmp/ok.yaml" 2>&1); check "run --trace" 0 $?
echo "$out" | grep -q "^trace .* map " || { echo "FAIL: run --trace: no trace lines: $out"; fail=1; }
echo "$out" | grep -q "^result: ok$" || { echo "FAIL: run --trace: no report"; fail=1; }
# pmsim calibrate (docs/costs.md): a table a scenario can use.
"$pmsim" --help 2>&1 | grep -q "calibrate" || { echo "FAIL: --help lists no calibrate"; fail=1; }
"$pmsim" calibrate --quick --name mine -o "$tmp/mine.yaml" 2>"$tmp/err"; check "calibrate -o" 0 $?
grep -q "^name: 'mine'$" "$tmp/mine.yaml" || { echo "FAIL: calibrate: no name: $(cat "$tmp/mine.yaml")"; fail=1; }
grep -q "^# ipc: " "$tmp/mine.yaml" || { echo "FAIL: calibrate: no account of what was measured"; fail=1; }
sed 's/^machine: { frames: 16 }$/machine: { frames: 16, cost: mine.yaml }/' "$tmp/ok.yaml" >"$tmp/costed.yaml"
out=$("$pmsim" run "$tmp/costed.yaml" 2>&1); check "run with the calibrated table" 0 $?
echo "$out" | grep -q "of which the operations (cost table mine)" ||
    { echo "FAIL: run with the calibrated table: no cost: $out"; fail=1; }
out=$("$pmsim" calibrate --quick 2>/dev/null); check "calibrate to stdout" 0 $?
echo "$out" | grep -q "^name: 'host'$" || { echo "FAIL: calibrate: default name"; fail=1; }
"$pmsim" calibrate --name "" >/dev/null 2>&1; check "calibrate, an empty name" 2 $?
"$pmsim" calibrate extra >/dev/null 2>&1; check "calibrate, an argument" 2 $?
"$pmsim" calibrate --quick -o "$tmp/no/such/dir.yaml" >/dev/null 2>&1; check "calibrate, an unwritable file" 1 $?
sed 's/^machine: { frames: 16 }$/machine: { frames: 16, cost: nothing.yaml }/' "$tmp/ok.yaml" >"$tmp/nocost.yaml"
"$pmsim" run "$tmp/nocost.yaml" >/dev/null 2>"$tmp/err"; check "run, a missing cost table" 2 $?
grep -q "^$tmp/nocost.yaml:2:30: machine.cost: no cost table file" "$tmp/err" ||
    { echo "FAIL: a missing cost table: $(cat "$tmp/err")"; fail=1; }
# pmsim sweep: a parameterised scenario over a grid, in parallel; a jobs
# file run by hand, merged back.
cat >"$tmp/p.yaml" <<EOF
name: sweep
params: { n: 2, fill: 7 }
machine: { frames: 32 }
tasks: { a: {} }
steps:
  - { task: a, do: create, as: C }
  - { task: a, do: allocate, container: C, count: "\${n}" }
  - { task: a, do: map, container: C, count: "\${n}", at: 0x100000 }
  - { task: a, do: write, at: 0x100000, bytes: 4KiB, pattern: "\${fill}" }
  - { task: a, do: read, at: 0x100000, bytes: 4KiB, expect_pattern: 7 }
expect:
  tasks.a.allocated: "\${n}"
EOF
"$pmsim" run --param n=3 "$tmp/p.yaml" >/dev/null 2>&1; check "run --param" 0 $?
"$pmsim" run --param m=3 "$tmp/p.yaml" >/dev/null 2>&1; check "run --param, undeclared" 2 $?
"$pmsim" sweep -p n=1..4:+1 -p fill=7,8 --jobs 2 --csv "$tmp/s.csv" --json "$tmp/s.json" "$tmp/p.yaml" 2>/dev/null
check "sweep, a point fails" 1 $?
[ "$(wc -l <"$tmp/s.csv")" -eq 9 ] || { echo "FAIL: sweep: 8 points and a header: $(cat "$tmp/s.csv")"; fail=1; }
head -1 "$tmp/s.csv" | grep -q "^point,status,n,fill,simulated_ns,cost_ns,measured_cost_ns,measured_host_ns,host_ns,host_cpu_ns,rpcs," ||
    { echo "FAIL: sweep: header: $(head -1 "$tmp/s.csv")"; fail=1; }
[ "$(grep -c ',ok,' "$tmp/s.csv")" -eq 4 ] && [ "$(grep -c ',failed,' "$tmp/s.csv")" -eq 4 ] ||
    { echo "FAIL: sweep: statuses: $(cat "$tmp/s.csv")"; fail=1; }
grep -q "^8,failed,4,8," "$tmp/s.csv" || { echo "FAIL: sweep: grid order: $(cat "$tmp/s.csv")"; fail=1; }
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if len(d["points"]) == 8 and d["points"][2]["params"]["n"] == "2" and d["points"][2]["counters"]["rpcs"] > 0 else 1)' "$tmp/s.json" ||
        { echo "FAIL: sweep --json"; fail=1; }
fi
"$pmsim" sweep -p n=1,2 -p fill=7 --jobs-file "$tmp/jobs" --out-dir "$tmp/out" "$tmp/p.yaml" 2>/dev/null
check "sweep --jobs-file" 0 $?
[ "$(wc -l <"$tmp/jobs")" -eq 2 ] || { echo "FAIL: jobs file: $(cat "$tmp/jobs")"; fail=1; }
sh "$tmp/jobs" >/dev/null 2>&1
out=$("$pmsim" sweep --merge "$tmp"/out/*.json 2>&1); check "sweep --merge" 0 $?
echo "$out" | grep -q "^2,ok,2,7," || { echo "FAIL: merge: $out"; fail=1; }
"$pmsim" sweep -p n=4..1:x2 "$tmp/p.yaml" >/dev/null 2>&1; check "sweep, a range that goes down" 2 $?
"$pmsim" sweep -p q=1 "$tmp/p.yaml" >/dev/null 2>&1; check "sweep, an undeclared parameter" 2 $?
"$pmsim" sweep --merge "$tmp/p.yaml" >/dev/null 2>&1; check "sweep --merge, not a report" 1 $?
# pmsim plot (gnuplot): a sweep's CSV, a timeline; the script alone.
"$pmsim" sweep -p n=1..8:x2 -p fill=7 --csv "$tmp/g.csv" "$tmp/p.yaml" >/dev/null 2>&1
check "sweep for a plot" 0 $?
"$pmsim" plot "$tmp/g.csv" -x n -y rpcs --by fill --script "$tmp/g.gp" -o "$tmp/g.svg" 2>/dev/null
check "plot --script" 0 $?
grep -q "^set logscale x 2" "$tmp/g.gp" || { echo "FAIL: plot: no log scale for 1..8:x2: $(cat "$tmp/g.gp")"; fail=1; }
grep -q "^set ylabel 'rpcs (count)'" "$tmp/g.gp" || { echo "FAIL: plot: y label: $(cat "$tmp/g.gp")"; fail=1; }
[ "$(grep -c '^e$' "$tmp/g.gp")" -eq 1 ] || { echo "FAIL: plot: one line for one fill"; fail=1; }
if command -v gnuplot >/dev/null 2>&1; then
    "$pmsim" plot "$tmp/g.csv" -x n -y host_ns -o "$tmp/g.svg" 2>/dev/null; check "plot, SVG" 0 $?
    grep -q "<svg" "$tmp/g.svg" || { echo "FAIL: plot: not an SVG"; fail=1; }
    "$pmsim" run --timeline "$tmp/t.csv" "$tmp/ok.yaml" >/dev/null 2>&1; check "run --timeline" 0 $?
    head -1 "$tmp/t.csv" | grep -q "^time_ns,step,task,guaranteed,allocated,extra$" ||
        { echo "FAIL: timeline header: $(head -1 "$tmp/t.csv")"; fail=1; }
    "$pmsim" plot --timeline "$tmp/t.csv" -o "$tmp/t.png" 2>/dev/null; check "plot --timeline, PNG" 0 $?
    [ "$(head -c 4 "$tmp/t.png" | tail -c 3)" = "PNG" ] || { echo "FAIL: plot: not a PNG"; fail=1; }
fi
"$pmsim" plot "$tmp/g.csv" -x nothing >/dev/null 2>&1; check "plot, an unknown column" 2 $?
"$pmsim" plot "$tmp/g.csv" -x n -o "$tmp/g.pdf" >/dev/null 2>&1; check "plot, a PDF" 2 $?
"$pmsim" plot "$tmp/g.csv" >/dev/null 2>&1; check "plot without -x" 2 $?
"$pmsim" plot --timeline "$tmp/g.csv" >/dev/null 2>&1; check "plot --timeline of a sweep" 2 $?
# The host-MMU back end: the same scenario, real mappings.
out=$("$pmsim" run --json --backend host-mmu "$tmp/ok.yaml" 2>&1); check "run --backend host-mmu" 0 $?
echo "$out" | grep -q '"backend" : "host-mmu"' || { echo "FAIL: host-mmu: backend not reported"; fail=1; }
PMSIM_BACKEND=host-mmu "$pmsim" run --json "$tmp/ok.yaml" 2>&1 | grep -q '"backend" : "host-mmu"' ||
    { echo "FAIL: PMSIM_BACKEND=host-mmu not taken"; fail=1; }
"$pmsim" run --backend warp "$tmp/ok.yaml" >/dev/null 2>&1; check "run, an unknown back end" 2 $?
# The third review of issue 8: sweep values, merge, plot output, calibrate names.
"$pmsim" sweep -p n= "$tmp/p.yaml" >/dev/null 2>&1; check "sweep, an empty list" 2 $?
"$pmsim" sweep -p n=0..64:x4 "$tmp/p.yaml" >/dev/null 2>&1; check "sweep, a geometric range from 0" 2 $?
"$pmsim" sweep -p n=2 --csv "$tmp/no/such/dir.csv" "$tmp/p.yaml" >/dev/null 2>&1
check "sweep, an unwritable CSV" 2 $?
: >"$tmp/out/point-bad.json"
out=$("$pmsim" sweep --merge "$tmp"/out/*.json 2>/dev/null); check "sweep --merge, a point without a report" 1 $?
echo "$out" | grep -q "^3,invalid,,," || { echo "FAIL: merge: the invalid point: $out"; fail=1; }
"$pmsim" plot "$tmp/g.csv" -x n -o "$tmp/no/such/dir.svg" >"$tmp/plot.out" 2>/dev/null
check "plot into a missing folder" 1 $?
[ -s "$tmp/plot.out" ] && { echo "FAIL: plot into a missing folder printed the plot"; fail=1; }
"$pmsim" calibrate --quick --name "it's: #1" -o "$tmp/odd.yaml" 2>/dev/null
sed "s|^machine: { frames: 16 }$|machine: { frames: 16, cost: odd.yaml }|" "$tmp/ok.yaml" >"$tmp/odd-run.yaml"
"$pmsim" run "$tmp/odd-run.yaml" 2>&1 | grep -q "cost table it's: #1" ||
    { echo "FAIL: calibrate: an odd name does not read back"; fail=1; }
# calibrate --fit: prices fitted to a sweep's measured steps.
cat >"$tmp/m.yaml" <<EOF
name: measured
params: { n: 2 }
machine: { frames: 64 }
tasks: { a: { pager: none } }
steps:
  - { task: a, do: create, as: C }
  - { task: a, do: allocate, container: C, count: "\${n}", measure: true }
  - { task: a, do: map, container: C, count: "\${n}", at: 0x100000, all: true, measure: true }
  - { task: a, do: write, at: 0x100000, bytes: "\${n*4096}", pattern: 1, measure: true }
EOF
"$pmsim" sweep -p n=1..32:x2 --json "$tmp/m.json" --csv /dev/null "$tmp/m.yaml" 2>/dev/null
check "sweep with measured steps" 0 $?
"$pmsim" calibrate --fit "$tmp/m.json" --name fitted -o "$tmp/fitted.yaml" 2>/dev/null; check "calibrate --fit" 0 $?
grep -q "error per point: mean" "$tmp/fitted.yaml" || { echo "FAIL: fit: no error said"; fail=1; }
sed "s|^machine: { frames: 16 }$|machine: { frames: 16, cost: fitted.yaml }|" "$tmp/ok.yaml" >"$tmp/fit-run.yaml"
"$pmsim" run "$tmp/fit-run.yaml" >/dev/null 2>&1; check "run with a fitted table" 0 $?
"$pmsim" calibrate --fit "$tmp/s.json" >/dev/null 2>&1; check "calibrate --fit, no measured steps" 1 $?
exit $fail
