#!/bin/bash
# airlock-sshd under airlock as PID 1 (its own PID namespace inside the
# test's network namespace): the init starts it, sessions see the container
# environment the init wrote, the audit reaches the init's output, sessions
# leave no zombies, and stopping the container ends open sessions.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

if [ ! -x "$AIRLOCK" ]; then
    not_ok "airlock not built"
    finish
    exit 1
fi
newkey root -t ed25519
newkey alice -t ed25519
mkdir -p "$AIRLOCK_ROOT/etc/airlock/authorized_keys.d" "$AIRLOCK_ROOT/dev"
pub alice >"$AIRLOCK_ROOT/etc/airlock/authorized_keys.d/alice"

rm -f "$T/app.ready"
env AIRLOCK_SYSLOG=off AIRLOCK_SSH_LISTEN=127.0.0.1 \
    AIRLOCK_AUTHORIZED_KEYS="$(pub root)" APP_GREETING="hello from the app" \
    unshare --pid --fork --mount-proc --kill-child "$AIRLOCK" --grace 2 -- \
    sh -c "echo ready >$T/app.ready; exec sleep 120" >"$T/pid1.log" 2>&1 &
BG=$!
CLEANUP_PIDS+=("$BG")
listening() { ss -ltnH 2>/dev/null | grep -q '127.0.0.1:2222 '; }
wait_until 10 test -s "$T/app.ready"
wait_until 15 listening
check "airlock (PID 1) starts airlock-sshd, which listens" listening

out=$(sshc -- 'echo "$APP_GREETING"; cat /proc/1/comm')
expect_eq "session sees the container environment and airlock as PID 1" \
    "hello from the app
airlock" "$out"
out=$(sshc -k alice -u alice -- 'id -un; grep NoNewPrivs /proc/self/status | tr -d "\t"')
expect_eq "alice under airlock: dropped, no_new_privs" "alice
NoNewPrivs:1" "$out"
check "audit lines reach the init's output" grep -q "audit: Accepted publickey for 'alice'" "$T/pid1.log"

for i in 1 2 3 4 5 6 7 8 9 10; do sshc -- 'sh -c "sleep 0.1 &" ; true' >/dev/null; done
sleep 1
zombies=$(awk '/^State:/ && $2 == "Z"' /proc/[0-9]*/status 2>/dev/null | grep -c .)
expect_eq "no zombies after sessions with background children" 0 "$zombies"

# SIGKILL to airlock-sshd: the init restarts it, the app is untouched.
init=$(pgrep -P "$BG" | head -n 1)
sshd1=$(pgrep -x airlock-sshd -P "$init" | head -n 1)
app1=$(pgrep -x sleep -P "$init" | head -n 1)
kill -KILL "$sshd1"
wait_until 15 bash -c "pgrep -x airlock-sshd -P $init | grep -vqx $sshd1"
wait_until 15 listening
expect_eq "killed airlock-sshd is restarted and serves again" served "$(sshc -b 127.0.0.3 -- echo served)"
expect_eq "the app is untouched" "$app1" "$(pgrep -x sleep -P "$init" | head -n 1)"

# Stop the container with a session open: the session ends, quickly.
sshc -- 'sleep 60' >/dev/null 2>&1 &
cl=$!
wait_until 5 grep -q "exec, sleep 60" "$T/pid1.log"
t0=$SECONDS
kill -TERM "$init"
wait_until 10 bash -c "! kill -0 $BG 2>/dev/null"
check "SIGTERM to PID 1: container stops within 10 s with a session open" bash -c "! kill -0 $BG 2>/dev/null"
wait_until 5 bash -c "! kill -0 $cl 2>/dev/null"
check "the open SSH session ended" bash -c "! kill -0 $cl 2>/dev/null"
echo "# stop took $((SECONDS - t0)) s"
check "no listener left" bash -c "! ss -ltnH | grep -q ':2222 '"
finish
