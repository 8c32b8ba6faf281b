#!/bin/bash
# How logged-in connections end (issue 9, items 3, 6 and 9): no session
# process outlives its connection, whatever ends it; client data is
# back-pressured instead of buffered; idle timeout and keepalives; the
# env request limits; the connection process stays non-dumpable after
# its privilege drop.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

newkey root -t ed25519
newkey alice -t ed25519
newkey alice2 -t ed25519
kdir=$AIRLOCK_ROOT/etc/airlock/authorized_keys.d
mkdir -p "$kdir"
# Sessions of alice write their pid here.
mkdir -m 1777 "$T/pids"
printf '%s\n%s\n' "$(pub alice)" "$(pub alice2)" >"$kdir/alice"

ssh_opts=(-p "$PORT" -o BatchMode=yes -o StrictHostKeyChecking=no
    -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o LogLevel=ERROR)

# A session that ignores SIGHUP and writes its shell's pid (the leader of
# its process group) to $T/$name.pid. The client is ssh itself, in the
# background (not through sshc's timeout), so killing $CLIENT kills it.
# trap_session NAME KEY USER
trap_session() {
    local name=$1 key=$2 user=$3
    rm -f "$T/pids/$name"
    ssh "${ssh_opts[@]}" -i "$T/keys/$key" "$user@127.0.0.1" \
        "trap '' HUP; echo \$\$ >$T/pids/$name; sleep 1000" >/dev/null 2>&1 &
    CLIENT=$!
    disown "$CLIENT" # no job notice when it is killed
    CLEANUP_PIDS+=("$CLIENT")
    wait_until 10 test -s "$T/pids/$name"
    SESSION_PID=$(cat "$T/pids/$name" 2>/dev/null)
}

# group_gone PGID: no process is left in the group (the shell and its
# sleep both ignore SIGHUP).
group_gone() { ! pgrep -g "$1" >/dev/null; }

# expect_gone NAME PGID LIMIT_MS T0_NS: the group is gone within LIMIT_MS
# of T0 (polled every 20 ms, for at most 10 s).
expect_gone() {
    local name=$1 pgid=$2 limit=$3 t0=$4 ms
    if [ -z "$pgid" ]; then
        not_ok "$name (the session did not start)"
        return
    fi
    wait_until 10 group_gone "$pgid"
    ms=$((($(date +%s%N) - t0) / 1000000))
    echo "# $name: gone after $ms ms"
    if group_gone "$pgid" && [ "$ms" -le "$limit" ]; then
        ok "$name"
    else
        not_ok "$name (after $ms ms, limit $limit ms)"
        pkill -KILL -g "$pgid" 2>/dev/null
    fi
}

# One connection process at a time: the only child of the listener.
conn_pid() { pgrep -P "$SSHD_PID" | head -n 1; }
no_conns() { [ -z "$(pgrep -P "$SSHD_PID")" ]; }
has_conn() { ! no_conns; }

# hwm_watch PID FILE: records the connection process's VmHWM (kB) in FILE
# until it exits (at most 90 s). VmHWM only grows, so the last reading
# is the peak.
hwm_watch() {
    local pid=$1 out=$2 i v
    echo 0 >"$out"
    for ((i = 0; i < 4500; i++)); do
        v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || break
        [ -n "$v" ] || break
        echo "$v" >"$out"
        sleep 0.02
    done
}

start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" || { finish; exit 1; }

# ---- no leftovers ---------------------------------------------------------

# The client dies: the session ignores SIGHUP, so it takes the SIGKILL
# 2 s later. Bound: 2 s + 1.5 s for the loaded 2-core machine.
trap_session killed root root
t0=$(date +%s%N)
kill -KILL "$CLIENT"
expect_gone "client killed: a session ignoring SIGHUP is gone within 3.5 s" "$SESSION_PID" 3500 "$t0"
check "audit: SIGKILL after the grace logged" audit_has "session [0-9]+ of 'root' still running 2000 ms after SIGHUP, sending SIGKILL"
wait_until 5 no_conns

# The client disconnects cleanly (ssh exits on SIGTERM and closes TCP).
trap_session term root root
t0=$(date +%s%N)
kill -TERM "$CLIENT"
expect_gone "client disconnects: a session ignoring SIGHUP is gone within 3.5 s" "$SESSION_PID" 3500 "$t0"
wait_until 5 no_conns

# Revocation: removing the key from its source ends the connection (the
# listener notices within about a second) and its sessions.
trap_session revoked alice2 alice
t0=$(date +%s%N)
pub alice >"$kdir/alice.new" && mv "$kdir/alice.new" "$kdir/alice"
expect_gone "key revoked: a session ignoring SIGHUP is gone within 6 s" "$SESSION_PID" 6000 "$t0"
check "audit: revoked session hung up" audit_has "session [0-9]+ of 'alice' hung up: key revoked"
wait_until 5 no_conns

# The client closes the channel but keeps the connection: the same stop
# for that channel's session alone.
rm -f "$T/pids/chan"
timeout 30 /usr/bin/python3 "$E2E_DIR/chan_close.py" "$PORT" "$T/keys/root" \
    "$T/pids/chan" 6 "trap '' HUP; echo \$\$ >$T/pids/chan; sleep 1000" >"$T/chan.out" 2>&1 &
cc=$!
wait_until 10 grep -q closed "$T/chan.out"
t0=$(date +%s%N)
expect_gone "channel closed by the client: a session ignoring SIGHUP is gone within 3.5 s" "$(cat "$T/pids/chan" 2>/dev/null)" 3500 "$t0"
check "channel closed: the connection stays up meanwhile" kill -0 "$cc"
wait "$cc"
wait_until 5 no_conns

# SIGTERM to airlock-sshd: the listener passes it on to its connections,
# which stop their sessions before exiting (the listener waits 3 s).
trap_session stopped root root
t0=$(date +%s%N)
kill -TERM "$SSHD_PID"
expect_gone "SIGTERM to airlock-sshd: a session ignoring SIGHUP is gone within 3.5 s" "$SESSION_PID" 3500 "$t0"
check "audit: stopped session hung up" audit_has "session [0-9]+ of 'root' hung up: server stopping"
stop_sshd

# ---- back-pressure --------------------------------------------------------

start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" || { finish; exit 1; }

# A client ignoring the window pushes up to 1 GiB into a command that never
# reads stdin. libssh 0.10 would buffer all of it (~270 MB measured before);
# the server cuts the client off once libssh holds 2 MiB for the channel.
# The session ignores SIGHUP, which keeps the connection process alive for
# the 2 s grace after the cut: time for a last VmHWM reading.
timeout 90 /usr/bin/python3 "$E2E_DIR/window_flood.py" "$PORT" \
    "$T/keys/root" 1073741824 "trap '' HUP; sleep 30" >"$T/flood.out" 2>&1 &
fl=$!
wait_until 10 has_conn
hwm_watch "$(conn_pid)" "$T/hwm1"
wait "$fl"
out=$(tail -n 1 "$T/flood.out")
hwm=$(cat "$T/hwm1")
echo "# window flood: $out, connection VmHWM $hwm kB"
check "window ignored: connection VmHWM under 64 MiB" test "$hwm" -gt 0 -a "$hwm" -lt 65536
check "window ignored: the client is cut off well before 1 GiB" \
    bash -c "[ \"\${1#sent }\" -lt 67108864 ]" _ "$out"
check "audit: window abuse logged" audit_has "closed: client ignored the channel window"
wait_until 5 no_conns

# A well-behaved client (OpenSSH) and a slow reader: each pull of the
# staging buffer re-opens libssh's window, so without the bound the
# connection grew by ~1 MB per 64 KiB read (273 MB in 12 s measured).
(head -c 1073741824 /dev/zero | SSH_TIMEOUT=6 sshc -- \
    'while head -c 65536 >/dev/null; do sleep 0.05; done' >/dev/null 2>&1) &
sl=$!
wait_until 10 has_conn
hwm_watch "$(conn_pid)" "$T/hwm2"
wait "$sl"
hwm=$(cat "$T/hwm2")
echo "# slow reader: connection VmHWM $hwm kB"
check "slow reader: connection VmHWM under 64 MiB" test "$hwm" -gt 0 -a "$hwm" -lt 65536
wait_until 5 no_conns

n=$(head -c 52428800 /dev/zero | sshc -- 'wc -c')
expect_eq "normal upload: 50 MiB arrive" 52428800 "$n"
head -c 3000000 /dev/urandom >"$T/3m"
sshc -- 'sleep 1; cat' <"$T/3m" >"$T/3m.back"
check "upload to a late reader: byte-exact" cmp -s "$T/3m" "$T/3m.back"

# ---- env requests and the dumpable flag -----------------------------------

long=$(head -c 297 /dev/zero | tr '\0' B)
out=$(sshc -o SetEnv="LC_$long=x" -- 'echo works')
expect_eq "LC_ name of 300 bytes refused, the session still works" works "$out"
check "refused env request logged with the reason" grep -q "env request 'LC_BBB.*' refused for 'root': name longer than 64 bytes" "$T/sshd.err"
out=$(sshc -o SetEnv="LC_TIME=$long$long" -- 'echo "${LC_TIME-unset}"')
expect_eq "LC_ value of 594 bytes refused, the session still works" unset "$out"
out=$(sshc -o SetEnv="LC_TIME=C" -- 'echo "${LC_TIME-unset}"')
expect_eq "short LC_ value still accepted" C "$out"

# The connection process (alice's, after the drop to uid 2001) must stay
# non-dumpable: the files under /proc/PID of a non-dumpable process belong
# to root (proc(5); /proc/PID itself keeps the process's uid), while the
# process runs as alice. The session walks up from its shell to the first
# airlock-sshd ancestor, which is its connection process. On a host with
# fs.suid_dumpable=0 the kernel's reset after setuid gives 0 as well; with
# 1 only the prctl re-applied after the drop keeps this true.
# shellcheck disable=SC2016
out=$(sshc -k alice -u alice -- 'p=$$; i=0
while [ "$(cat /proc/$p/comm)" != airlock-sshd ] && [ $i -lt 10 ]; do
    p=$(awk "/^PPid:/ {print \$2}" /proc/$p/status); i=$((i + 1)); done
echo "$(awk "/^Uid:/ {print \$2}" /proc/$p/status) $(stat -c %u /proc/$p/environ)"
cat /proc/$p/environ >/dev/null 2>&1 && echo environ-readable')
expect_eq "connection process runs as alice and is not dumpable" "2001 0" "$out"
echo "# fs.suid_dumpable on this host: $(cat /proc/sys/fs/suid_dumpable)"
stop_sshd

# ---- idle timeout and keepalives ------------------------------------------

# Keepalives every second do not count as activity: an idle session is
# ended after 2 s, then stopped like any other (SIGKILL 2 s later).
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" AIRLOCK_SSH_IDLE_TIMEOUT=2 \
    AIRLOCK_SSH_CLIENT_ALIVE_INTERVAL=1 || { finish; exit 1; }
t0=$(date +%s%N)
trap_session idle root root
expect_gone "idle timeout: the idle session is gone within 2 s + 3.5 s" "$SESSION_PID" 5500 "$t0"
check "audit: idle timeout, one line" test "$(grep -c "idle timeout (2 s without channel activity) for 'root' from 127.0.0.1 port [0-9]*, closing" "$T/sshd.out")" = 1
wait_until 5 no_conns
out=$(sshc -- 'for i in 1 2 3 4; do sleep 1; echo tick; done' | tr -d '\n')
expect_eq "idle timeout: output every second keeps a session alive" ticktickticktick "$out"
stop_sshd

# A client that stops answering (SIGSTOP: its TCP stays up, nothing comes
# back) is ended after 2 unanswered keepalives, 1 s apart; a live client
# answers them, however idle its session.
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" \
    AIRLOCK_SSH_CLIENT_ALIVE_INTERVAL=1 AIRLOCK_SSH_CLIENT_ALIVE_COUNT_MAX=2 || { finish; exit 1; }
out=$(sshc -- 'sleep 4; echo still-here')
expect_eq "keepalive: an idle live client is kept" still-here "$out"
trap_session dead root root
kill -STOP "$CLIENT"
t0=$(date +%s%N)
expect_gone "keepalive: a dead client's session is gone within 3 s + 3.5 s" "$SESSION_PID" 6500 "$t0"
check "audit: client alive timeout" audit_has "client alive timeout: no answer to 2 keepalive\(s\) from 'root' at 127.0.0.1 port [0-9]+, closing"
kill -KILL "$CLIENT" 2>/dev/null
stop_sshd
finish
