#!/bin/bash
# The listener as the one authority on logins (issue 9): no snapshot, no
# file grants access. Attacks driven by paramiko (raw messages) and the
# OpenSSH client: the revocation race between key exchange and the signed
# request, revocation and expiry of an open connection, a stale key store
# on a read-only /run, keys for a user that does not exist.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

# Debian's python3 has python3-paramiko; a python3 earlier in PATH (pyenv,
# a venv) may not.
PY=/usr/bin/python3
ATTACK=$E2E_DIR/authority_attack.py
attack() { timeout -k 2 45 "$PY" "$ATTACK" "$@"; }

newkey keeper -t ed25519
newkey victim -t ed25519
newkey stale -t ed25519
KF=$AIRLOCK_ROOT/keys/file
mkdir -p "$AIRLOCK_ROOT/keys"
put_keys() { # put_keys NAME...: the file source holds exactly these keys
    local n
    for n in "$@"; do pub "$n"; done >"$KF.new"
    chmod 644 "$KF.new"
    mv "$KF.new" "$KF"
}
# hold_victim SRC OUT: a paramiko client from SRC logs in with the victim
# key, runs `sleep 60` and reports to OUT when the server closes it; apid
# is its pid; returns once it is logged in (bounded).
hold_victim() {
    rm -f "$T/ready"
    attack hold "$1" "$PORT" "$T/keys/victim" root "$T/ready" >"$2" &
    apid=$!
    wait_until 15 test -e "$T/ready"
}

# log_count WHAT: how many "WHAT key for 'root'" lines name the victim key.
log_count() { grep -c "$1 key for 'root'.*test-victim" "$T/sshd.err"; }
# log_count_ge WHAT N: at least N such lines.
log_count_ge() { [ "$(log_count "$1")" -ge "$2" ]; }

# --- the revocation race -------------------------------------------------
# Every key belongs to root, so the connection process drops before key
# exchange; it used to check a snapshot of the store taken at accept.
put_keys keeper victim
start_sshd AIRLOCK_AUTHORIZED_KEYS_FILE=/keys/file || { finish; exit 1; }
logged=0
for i in 1 2 3 4 5; do
    rm -f "$T/ready" "$T/go"
    put_keys keeper victim
    wait_until 5 log_count_ge accepted "$i"
    attack race "127.0.0.$((10 + i))" "$PORT" "$T/keys/victim" root "$T/ready" "$T/go" >"$T/race.$i" &
    apid=$!
    wait_until 15 test -e "$T/ready"
    n=$(log_count removed)
    put_keys keeper
    wait_until 5 log_count_ge removed $((n + 1))
    touch "$T/go"
    wait "$apid"
    echo "# race $i: $(cat "$T/race.$i")"
    grep -q '^refused' "$T/race.$i" || logged=$((logged + 1))
done
expect_eq "revocation race: a key removed after key exchange never logs in (5 runs)" 0 "$logged"
check "audit: the late signed request refused as not authorized" \
    audit_has "Failed publickey for 'root' .*: key not authorized"
expect_eq "keeper key still logs in" in "$(sshc -k keeper -- echo in)"

# `keys list` inside a session shows what the authority holds, although
# the session has none of the key variables.
out=$(sshc -k keeper -- "$SSHD keys list")
check "keys list in a session: from the running server" \
    grep -q '^held by the running airlock-sshd:' <<<"$out"
check "keys list in a session: the key that logged in is listed" \
    grep -q "test-keeper" <<<"$out"
check "keys list in a session: the removed key is not" \
    bash -c "! grep -q test-victim <<<\"\$1\"" _ "$out"

# --- revocation and expiry reach an open connection ----------------------
put_keys keeper victim
wait_until 5 log_count_ge accepted 6
hold_victim 127.0.0.20 "$T/hold.out"
put_keys keeper
wait "$apid"
echo "# revoked while logged in: $(cat "$T/hold.out")"
check "revoked key: its open connection is closed within 5 s" \
    grep -qE '^closed-after [0-5]$' "$T/hold.out"
check "audit: revocation logged" \
    audit_has "key SHA256:[^ ]+ of 'root' revoked or expired: closing"

# expiry-time= a few seconds ahead: the session ends when it passes.
exp=$(date -u -d '+4 seconds' +%Y%m%d%H%M%SZ)
{ printf 'expiry-time="%s" ' "$exp"; pub victim; pub keeper; } >"$KF.new"
chmod 644 "$KF.new"
mv "$KF.new" "$KF"
wait_until 5 log_count_ge accepted 7
t0=$SECONDS
out=$(SSH_TIMEOUT=20 sshc -b 127.0.0.21 -k victim -- 'echo started; sleep 15; echo not-cut' 2>/dev/null)
dt=$((SECONDS - t0))
echo "# expiring session: ${dt}s, output: $(tr '\n' ' ' <<<"$out")"
expect_eq "expiring key: the session starts, then is cut at expiry" started "$out"
check "expiring key: cut within 8 s of the login" test "$dt" -le 8
expect_eq "expired key cannot log in again" "" \
    "$(sshc -b 127.0.0.22 -k victim -- echo in 2>/dev/null)"

# The listener dies (a crash, an OOM kill): a logged-in connection could
# no longer be revoked, so it ends too.
put_keys keeper victim
wait_until 5 log_count_ge accepted 8
hold_victim 127.0.0.23 "$T/hold2.out"
kill -KILL "$SSHD_PID"
wait "$apid"
echo "# listener killed while logged in: $(cat "$T/hold2.out")"
check "listener killed: its logged-in connection ends within 3 s" \
    grep -qE '^closed-after [0-3]$' "$T/hold2.out"
wait "$SSHD_PID" 2>/dev/null
SSHD_PID=

# No key at all: connections are refused at accept (nobody can log in,
# and there would be no user to drop to before key exchange).
start_sshd AIRLOCK_AUTHORIZED_KEYS_FILE=/keys/file || { finish; exit 1; }
put_keys
wait_until 5 grep -q 'key set: 0 key(s)' "$T/sshd.err"
expect_eq "no key left: a login fails" "" \
    "$(sshc -b 127.0.0.24 -k keeper -- echo in 2>/dev/null)"
check "no key left: the connection is refused at accept (audited)" \
    audit_has "refused connection from 127.0.0.24 port [0-9]+: no key grants access now"
stop_sshd

# --- a key file bind-mounted on its own, rewritten on the "host" ----------
# Docker's -v file:file and compose's secrets mount single files; a write
# through the host's path reaches no watch on the container's directory.
mkdir -p "$T/host"
{ pub keeper; pub victim; } >"$T/host/keys"
chmod 644 "$T/host/keys"
: >"$AIRLOCK_ROOT/keys/bound"
mount --bind "$T/host/keys" "$AIRLOCK_ROOT/keys/bound"
start_sshd AIRLOCK_AUTHORIZED_KEYS_FILE=/keys/bound || { finish; exit 1; }
expect_eq "bind-mounted key file: the key logs in" in \
    "$(sshc -b 127.0.0.25 -k victim -- echo in 2>/dev/null)"
pub keeper >"$T/host/keys" # in place, through the other mount
check "bind-mounted key file: a rewrite on the host is noticed" \
    wait_until 5 grep -q "removed key for 'root'.*test-victim" "$T/sshd.err"
expect_eq "bind-mounted key file: the removed key no longer logs in" "" \
    "$(sshc -b 127.0.0.26 -k victim -- echo in 2>/dev/null)"
stop_sshd
umount "$AIRLOCK_ROOT/keys/bound"

# --- the authenticated cap holds at the login, not only at accept ---------
# Four connections finish key exchange while nobody is logged in, so all
# four are admitted; only two may then log in.
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub keeper)" AIRLOCK_SSH_MAX_AUTHENTICATED=2 ||
    { finish; exit 1; }
expect_eq "MAX_AUTHENTICATED=2: 2 of 4 admitted connections log in" 2 \
    "$(attack logins 127.0.0.27 "$PORT" "$T/keys/keeper" root 4)"
check "audit: the refused logins name the cap" \
    grep -q "too many authenticated connections" "$T/sshd.err" "$T/sshd.out"
stop_sshd

# --- a stale store on a read-only /run grants nothing ---------------------
# An earlier run left a store holding 'stale'; the sources now hold only
# 'keeper'; /run is read-only, so the store cannot be rewritten.
rm -rf "$AIRLOCK_ROOT/run"
AIRLOCK_AUTHORIZED_KEYS="$(pub stale)" "$SSHD" keys sync 2>/dev/null
check "stale store prepared" grep -q "$(cut -d' ' -f2 "$T/keys/stale.pub")" \
    "$AIRLOCK_ROOT/run/airlock/authorized_keys/root"
mount --bind "$AIRLOCK_ROOT/run" "$AIRLOCK_ROOT/run"
mount -o remount,bind,ro "$AIRLOCK_ROOT/run"
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub keeper)" || { finish; exit 1; }
check "read-only /run: the store could not be written (logged)" \
    grep -q "not written" "$T/sshd.err"
expect_eq "read-only /run: the configured key logs in" in \
    "$(sshc -k keeper -- echo in)"
expect_eq "read-only /run: the stale store's key is refused" "" \
    "$(sshc -k stale -- echo in 2>/dev/null)"
stop_sshd
umount "$AIRLOCK_ROOT/run"

# --- a squatter on the listing socket is not believed ---------------------
# Anyone in the container can bind the abstract name before the server
# does; root's `keys list` must not show what such a process says.
mkdir -m 777 "$T/squat"
setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(b"\0airlock-sshd/keys")
s.listen(1)
open(sys.argv[1], "w").close()
s.settimeout(20)
c, _ = s.accept()
c.sendall(b"user \x27root\x27: 1 key(s)\n  FAKE-KEY-FROM-A-SQUATTER\n")
c.close()' "$T/squat/ready" &
SQUAT=$!
CLEANUP_PIDS+=("$SQUAT")
wait_until 10 test -e "$T/squat/ready"
out=$(AIRLOCK_AUTHORIZED_KEYS="$(pub keeper)" "$SSHD" keys list 2>&1)
check "listing squatter: its fake listing is not shown" \
    bash -c "! grep -q FAKE-KEY <<<\"\$1\"" _ "$out"
check "listing squatter: named, and the sources are listed instead" \
    bash -c "grep -q 'belongs to uid 65534' <<<\"\$1\" && grep -q test-keeper <<<\"\$1\"" _ "$out"
kill "$SQUAT" 2>/dev/null

# --- keys for a user that does not exist ----------------------------------
: >"$T/sshd.err"
env AIRLOCK_SSH_LISTEN=127.0.0.1 AIRLOCK_SSH_PORT=$PORT \
    AIRLOCK_SSH_USER=debug AIRLOCK_AUTHORIZED_KEYS="$(pub keeper)" \
    timeout 10 "$SSHD" >/dev/null 2>"$T/sshd.err"
rc=$?
check "no such user: the server does not start (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "no such user: one line names the source and the user" \
    grep -q "AIRLOCK_AUTHORIZED_KEYS: user 'debug' does not exist: its 1 key(s) rejected" \
    "$T/sshd.err"
check "no such user: not 'ready'" bash -c "! grep -q 'ready:' '$T/sshd.err'"

finish
