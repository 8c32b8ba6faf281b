#!/bin/sh
# Runs every tests/e2e/test_*.sh (the SSH end-to-end tests; each enters its
# own namespaces) and prints one closing line with the totals. A script
# that dies without finishing counts as one failure.
set -u
B=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$B" && pwd)
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
exec sh "$here/../integration/run.sh" "$B" "$here" 240
