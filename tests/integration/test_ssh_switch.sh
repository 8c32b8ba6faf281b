#!/bin/bash
# PID 1's side of the SSH hatch: started when a key source is configured,
# never with --no-ssh or AIRLOCK_SSH=off (no process, no listener, no key
# read), not restarted when no key is valid, restarted when it dies, and
# the app untouched throughout.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

if [ ! -x "$B/airlock-sshd" ]; then
    ok "airlock-sshd not built (make SSH=no): nothing to check"
    finish
    exit
fi

ROOT=$T/root
mkdir -p "$ROOT/dev"
ssh-keygen -q -t ed25519 -N '' -C switch@test -f "$T/id"
export AIRLOCK_ROOT=$ROOT AIRLOCK_SYSLOG=off
AIRLOCK_AUTHORIZED_KEYS=$(cat "$T/id.pub")
export AIRLOCK_AUTHORIZED_KEYS

# run_bg LOG ARGS...: airlock as PID 1 in new PID and network namespaces;
# the app writes $T/app.ready and sleeps. Sets BGPID and APID.
run_bg() {
    local log=$1
    shift
    rm -f "$T/app.ready"
    unshare --pid --net --fork --mount-proc --kill-child "$AIRLOCK" --grace 2 "$@" -- \
        sh -c "ip link set lo up; echo ready >$T/app.ready; exec sleep 60" >"$log" 2>&1 &
    BGPID=$!
    CLEANUP_PIDS+=("$BGPID")
    wait_until 10 test -s "$T/app.ready"
    APID=$(pgrep -P "$BGPID" | head -n 1)
}

stop_bg() {
    kill -TERM "$APID"
    wait "$BGPID"
}

listening() {
    nsenter --net="/proc/$APID/ns/net" ss -ltnH 2>/dev/null | grep -q ':2222 '
}
not_listening() { ! listening; }

# 1. Keys configured: the server runs and listens.
run_bg "$T/on.log"
wait_until 10 listening
check "keys configured: airlock-sshd is started and listens on 2222" listening
check "keys configured: PID 1 logged the service start" \
    grep -q "service 'sshd': started" "$T/on.log"

# Killed: restarted, serves again, the app untouched.
app_pid=$(pgrep -f "sleep 60" -P "$APID" | head -n 1)
sshd_pid=$(pgrep -x airlock-sshd -P "$APID" | head -n 1)
kill -KILL "$sshd_pid"
wait_until 10 bash -c "pgrep -x airlock-sshd -P $APID | grep -vqx $sshd_pid"
wait_until 10 listening
check "SIGKILL to airlock-sshd: it is restarted and listens again" listening
out=$(nsenter --net="/proc/$APID/ns/net" timeout 20 ssh -p 2222 -i "$T/id" \
    -o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o LogLevel=ERROR \
    root@127.0.0.1 'echo served' 2>&1)
expect_eq "the restarted server serves a login" "served" "$out"
expect_eq "the app is untouched by the restart" "$app_pid" \
    "$(pgrep -f "sleep 60" -P "$APID" | head -n 1)"
stop_bg

# 2. AIRLOCK_SSH=off and --no-ssh: nothing at all.
for how in "env" "flag"; do
    export AIRLOCK_ROOT=$T/root-off-$how
    mkdir -p "$AIRLOCK_ROOT/dev"
    if [ "$how" = env ]; then
        AIRLOCK_SSH=off run_bg "$T/off.log"
    else
        run_bg "$T/off.log" --no-ssh
    fi
    sleep 0.5
    check "SSH off ($how): no airlock-sshd process" \
        bash -c "! pgrep -x airlock-sshd -P $APID >/dev/null"
    check "SSH off ($how): nothing listens" not_listening
    check "SSH off ($how): one line says so" \
        test "$(grep -c 'SSH disabled' "$T/off.log")" -eq 1
    check "SSH off ($how): no key store was written" \
        test ! -e "$AIRLOCK_ROOT/run/airlock/authorized_keys"
    stop_bg
done
export AIRLOCK_ROOT=$ROOT

# 3. No key source at all: no server, quietly.
(
    unset AIRLOCK_AUTHORIZED_KEYS
    run_bg "$T/none.log"
    sleep 0.5
    check "no key source: no airlock-sshd" \
        bash -c "! pgrep -x airlock-sshd -P $APID >/dev/null"
    stop_bg
)

# 3b. A trusted user CA key alone enables the hatch; a certificate logs in.
(
    unset AIRLOCK_AUTHORIZED_KEYS
    ssh-keygen -q -t ed25519 -N '' -C ca@test -f "$T/ca"
    ssh-keygen -q -s "$T/ca" -I switch -n root "$T/id.pub"
    AIRLOCK_SSH_TRUSTED_USER_CA_KEYS=$(cat "$T/ca.pub") run_bg "$T/ca.log"
    wait_until 10 listening
    check "CA key only: airlock-sshd is started and listens" listening
    out=$(nsenter --net="/proc/$APID/ns/net" timeout 20 ssh -p 2222 -i "$T/id" \
        -o CertificateFile="$T/id-cert.pub" -o BatchMode=yes -o ConnectTimeout=5 \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o IdentitiesOnly=yes -o LogLevel=ERROR root@127.0.0.1 'echo served' 2>&1)
    expect_eq "CA key only: a certificate logs in" "served" "$out"
    stop_bg
)

# 4. Keys configured but none valid: not started (not restarted in a loop),
# the log says why, the app runs on.
AIRLOCK_AUTHORIZED_KEYS="ssh-dss AAAAB3NzaC1kc3MAAACBAP= old@key" run_bg "$T/bad.log"
wait_until 10 grep -q "service 'sshd': a restart cannot help" "$T/bad.log"
check "no valid key: the server gives up, PID 1 does not restart it" \
    grep -q "service 'sshd': a restart cannot help" "$T/bad.log"
check "no valid key: the log names the rejected line" \
    grep -q "AIRLOCK_AUTHORIZED_KEYS:1: rejected" "$T/bad.log"
sleep 0.5
check "no valid key: the app still runs" test -s "$T/app.ready"
expect_eq "no valid key: started once only" 1 \
    "$(grep -c "service 'sshd': started" "$T/bad.log")"
stop_bg

finish
