#!/bin/sh
# Runs every tests/e2e/test_*.sh (the SSH end-to-end tests; each enters its
# own namespaces) and prints one closing line with the totals. A script
# that dies without finishing counts as one failure.
set -u
B=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$B" && pwd)
passed=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if [ ! -x "$B/airlock-sshd" ]; then
    echo "e2e: $B/airlock-sshd not built (make SSH=no): nothing to test"
    echo "0 passed, 0 failed"
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! unshare --mount --net true 2>/dev/null; then
    echo "e2e: needs root and namespaces; skipped"
    echo "0 passed, 1 failed"
    exit 1
fi
for t in "$here"/test_*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    echo "--- $name"
    timeout -k 5 240 env AIRLOCK_BUILD="$B" bash "$t" >"$out" 2>&1
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
