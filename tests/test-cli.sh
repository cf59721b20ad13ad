#!/bin/sh
# test-cli.sh — the pmsim program's surface: --help, --version, an unknown
# command (exit 2), a bad option (exit 2), and the demo (exit 0, "demo ok").
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
exit $fail
