#!/bin/sh
# Runs every test_*.sh of a directory (tests/integration by default; each
# prints "ok NAME" or "not ok NAME" per case) and prints one closing line
# with the totals. A script that dies, or runs past LIMIT seconds, counts
# as one failure. Usage: run.sh BUILD_DIR [TEST_DIR [LIMIT]]
set -u
B=${1:-build}
here=$(cd "${2:-$(dirname "$0")}" && pwd)
limit=${3:-300}
B=$(cd "$B" && pwd)
passed=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$here"/test_*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    echo "--- $name"
    timeout -k 5 "$limit" env AIRLOCK_BUILD="$B" bash "$t" >"$out" 2>&1
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
