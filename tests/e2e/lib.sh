#!/bin/bash
# Shared setup for the SSH end-to-end tests. A test script sources this
# file first: it re-executes the script in private mount, network and PID
# namespaces (loopback only, nothing reachable from outside), gives it test
# users through bind-mounted copies of /etc/passwd and /etc/group (the real
# files are never touched), then sources tests/integration/lib.sh for
# ok/not_ok/check/wait_until/finish and $T/$B.

if [ -z "${AIRLOCK_E2E_NS:-}" ]; then
    export AIRLOCK_E2E_NS=1
    exec unshare --mount --net --pid --fork --mount-proc --kill-child \
        bash "$0" "$@"
fi

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
source "$E2E_DIR/../integration/lib.sh"

SSHD=$B/airlock-sshd
PORT=2222
SSHD_PID=
export AIRLOCK_ROOT=$T/root

# Stop the server politely before lib.sh's cleanup removes $T.
trap 'stop_sshd; cleanup' EXIT

mount --make-rprivate /
ip link set lo up

# Test users: root with /bin/sh (so no rc file of the build machine runs),
# alice (uid 2001, also in group 'staff2'), bob (nologin shell).
mkdir -p "$T/etc" "$T/home/alice" "$T/home/bob" "$AIRLOCK_ROOT/etc"
cat >"$T/etc/passwd" <<PW
root:x:0:0:root:/root:/bin/sh
alice:x:2001:2001:Alice:$T/home/alice:/bin/sh
bob:x:2002:2002:Bob:$T/home/bob:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PW
cat >"$T/etc/group" <<GR
root:x:0:
alice:x:2001:
bob:x:2002:
staff2:x:2100:alice
nogroup:x:65534:
GR
chmod 644 "$T/etc/passwd" "$T/etc/group"
mount --bind "$T/etc/passwd" /etc/passwd
mount --bind "$T/etc/group" /etc/group
cp "$T/etc/passwd" "$T/etc/group" "$AIRLOCK_ROOT/etc/"
chown 2001:2001 "$T/home/alice"
chown 2002:2002 "$T/home/bob"

# Keys, generated now, never stored in the repository.
mkdir -p "$T/keys"
newkey() { # newkey NAME [ssh-keygen args...]
    local name=$1
    shift
    ssh-keygen -q -N '' -C "test-$name" -f "$T/keys/$name" "$@" </dev/null
}
pub() { cat "$T/keys/$1.pub"; }

# sshc [-k KEY] [-u USER] [-b SRCADDR] [ssh options...] [-- CMD...]: runs
# the OpenSSH client, bounded in time, against the server on loopback.
sshc() {
    local key=root user=root src=127.0.0.1 opts=()
    while [ $# -gt 0 ]; do
        case $1 in
        -k) key=$2; shift 2 ;;
        -u) user=$2; shift 2 ;;
        -b) src=$2; shift 2 ;;
        --) shift; break ;;
        *) opts+=("$1"); shift ;;
        esac
    done
    timeout -k 2 "${SSH_TIMEOUT:-30}" ssh -p "$PORT" -i "$T/keys/$key" \
        -o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes \
        -o LogLevel=ERROR -o BindAddress="$src" "${opts[@]}" \
        "$user@127.0.0.1" "$@"
}

sshd_ready() { grep -q 'info: ready:' "$T/sshd.err"; }

# start_sshd [VAR=value...]: starts airlock-sshd with the test settings
# plus the given variables; waits (bounded) for its readiness line.
start_sshd() {
    : >"$T/sshd.out"
    : >"$T/sshd.err"
    env AIRLOCK_SSH_LISTEN=127.0.0.1 AIRLOCK_SSH_PORT=$PORT "$@" \
        "$SSHD" >>"$T/sshd.out" 2>>"$T/sshd.err" &
    SSHD_PID=$!
    CLEANUP_PIDS+=("$SSHD_PID")
    if ! wait_until 10 sshd_ready; then
        echo "# airlock-sshd did not become ready:"
        sed 's/^/#   /' "$T/sshd.err"
        return 1
    fi
}

stop_sshd() {
    local i
    [ -n "$SSHD_PID" ] || return 0
    kill -TERM "$SSHD_PID" 2>/dev/null
    for ((i = 0; i < 250; i++)); do
        kill -0 "$SSHD_PID" 2>/dev/null || break
        sleep 0.02
    done
    kill -KILL "$SSHD_PID" 2>/dev/null
    wait "$SSHD_PID" 2>/dev/null
    SSHD_PID=
}

# audit_has PATTERN: the audit log (stdout) has a matching line.
audit_has() { grep -qE "$1" "$T/sshd.out"; }
