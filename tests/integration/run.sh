#!/bin/sh
# Runs every tests/integration/test_*.sh (each prints "ok NAME" or
# "not ok NAME" per case) and prints one closing line with the totals.
# A script that dies without finishing counts as one failure.
set -u
B=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$B" && pwd)
passed=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$here"/test_*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    echo "--- $name"
    # Every script is bounded; 300 s is far above any of them.
    timeout -k 5 300 env AIRLOCK_BUILD="$B" bash "$t" >"$out" 2>&1
    rc=$?
    cat "$out"
    p=$(grep -c '^ok ' "$out")
    f=$(grep -c '^not ok ' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok $name: script exited $rc"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
