#!/bin/sh
# Runs every test suite (unit, unit under ASan+UBSan, integration, e2e, rootfs) and
# prints one closing line with the totals.
set -u
B=${1:-build}
here=$(dirname "$0")
total_pass=0
total_fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_suite() {
    name=$1
    shift
    echo "=== $name"
    "$@" 2>&1 | tee "$log"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "$name: no summary line; counting the suite as one failure"
        total_fail=$((total_fail + 1))
        return
    fi
    p=${line%% passed*}
    f=${line#*passed, }
    f=${f%% failed*}
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
}

run_suite unit sh "$here/unit/run.sh" "$B"
run_suite integration sh "$here/integration/run.sh" "$B"
if [ -x "$here/e2e/run.sh" ]; then
    run_suite e2e sh "$here/e2e/run.sh" "$B"
fi
run_suite rootfs bash "$here/rootfs/run.sh" "$B"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]
