#!/bin/bash
# Admission behind NAT (issue 9, items 5 and 7): random early drop
# (MaxStartups start:rate:full), the deadline for the client's SSH version
# string, per-source limits and penalties that can be switched off or
# exempted, and no crash penalty for a death after authentication.
# Figures (logins that got through) are printed as "# ..." lines; the
# assertions are loose lower bounds, since the machine is shared.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

newkey root -t ed25519

# logins N SRC: N logins at once from SRC; prints how many succeeded.
# The client errors of the failed ones go to $T/login.errors.
logins() {
    local n=$1 src=$2 i pids=() good=0
    rm -f "$T"/login.*
    for ((i = 0; i < n; i++)); do
        SSH_TIMEOUT=60 sshc -b "$src" -- echo in >"$T/login.$i" 2>"$T/login.$i.err" &
        pids+=($!)
    done
    wait "${pids[@]}"
    for ((i = 0; i < n; i++)); do
        if [ "$(cat "$T/login.$i" 2>/dev/null)" = in ]; then
            good=$((good + 1))
        else
            head -n 2 "$T/login.$i.err" >>"$T/login.errors"
        fi
    done
    echo "$good"
}

# why: the refusal reasons in the audit log and the client errors, as
# comments, to tell a limit from a slow machine.
why() {
    sed -n 's/.*audit: refused connection from [^ ]* port [0-9]*: /refused: /p' \
        "$T/sshd.out" | sort | uniq -c | sed 's/^/#   /'
    [ -s "$T/login.errors" ] && sort "$T/login.errors" | uniq -c | sed 's/^/#   client: /'
    : >"$T/login.errors"
}

# ---- defaults: 10:30:100, no per-source cap, penalties on
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" || { finish; exit 1; }
check "ready line shows MaxStartups 10:30:100" grep -q "max startups 10:30:100" "$T/sshd.err"

n=$(logins 50 127.0.0.1)
echo "# defaults: $n of 50 simultaneous logins from one address succeeded"
why
check "defaults: at least 25 of 50 simultaneous logins from one address ($n)" [ "$n" -ge 25 ]
# Every refusal has its reason in the audit log: at accept, a line of its
# own for the first 10 a second, then one summary line per second counting
# the rest by reason, which comes when the second is over, not at a later
# refusal; at the login (the authenticated cap), a line each.
refused_count() {
    local lines summed
    lines=$(grep -c "refused connection from \|login refused for " "$T/sshd.out")
    summed=$(sed -n 's/.*more refused connections not logged: //p' "$T/sshd.out" |
        tr ',' '\n' | awk '{s += $1} END {print s + 0}')
    echo $((lines + summed))
}
refused_cover() { [ "$(refused_count)" -ge "$1" ]; }
check "defaults: every refused connection is counted by reason ($((50 - n)) failed)" \
    wait_until 5 refused_cover $((50 - n))
if [ $((50 - n)) -gt 10 ]; then
    check "defaults: the refusals past 10 a second are summed up by reason" \
        audit_has "more refused connections not logged: [0-9]+ too many unauthenticated connections \\(MaxStartups\\)"
fi
wait_until 20 bash -c "[ \$(pgrep -c -P $SSHD_PID) -eq 0 ]"

# Slowloris: 3 silent connections from each of 4 addresses, renewed every
# 25 s, while real logins run from a fifth for 75 s. The silent ones are
# closed at the 10 s version deadline, which costs their sources 20 s of
# penalty each (grace-exceeded), so they cannot come back at once. Until
# then, random early drop refuses about 30 % of the logins. Four runs on a
# shared 2-core machine let 91 to 97 % through; the bound asserted leaves
# room for bad luck in that first window (3 of 4 logins there refused);
# the goal is 90 %.
: >"$T/sshd.out"
timeout 100 python3 "$E2E_DIR/slowloris.py" "$PORT" 77 25 3 \
    127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 >"$T/loris.out" &
loris=$!
sleep 1
good=0 tries=0 t0=$SECONDS
while [ $((SECONDS - t0)) -lt 75 ] && [ "$tries" -lt 40 ]; do
    tries=$((tries + 1))
    [ "$(SSH_TIMEOUT=20 sshc -- echo in 2>>"$T/login.errors")" = in ] && good=$((good + 1))
    sleep 2
done
wait "$loris"
echo "# slowloris: $good of $tries logins succeeded ($((good * 100 / tries)) %); silent connections: $(cat "$T/loris.out")"
why
check "slowloris from 4 addresses: at least 85 % of logins succeed ($good/$tries)" \
    [ $((good * 100)) -ge $((tries * 85)) ]
check "audit: silent connections closed at the version deadline" \
    audit_has "no SSH version string from 127.0.0.[2-5] port [0-9]+ within 10s"
check "audit: their sources penalised" audit_has "penalty: refusing connections from 127.0.0.[2-5] for"
check "the login address was never penalised" bash -c "! grep -q 'penalty: refusing connections from 127.0.0.1 ' '$T/sshd.out'"

# A connection process killed by its own logged-in user earns no penalty:
# the session walks up to the process whose parent is the listener.
cmd="p=\$\$; i=0; while [ \$i -lt 10 ]; do pp=\$(awk '/^PPid:/ {print \$2}' /proc/\$p/status); [ \"\$pp\" = $SSHD_PID ] && break; p=\$pp; i=\$((i + 1)); done; [ \"\$pp\" = $SSHD_PID ] && kill -SEGV \$p"
sshc -b 127.0.0.9 -- "$cmd" >/dev/null 2>&1
wait_until 5 grep -q "from 127.0.0.9 died of signal 11" "$T/sshd.err"
check "SIGSEGV after auth: listener notes it, without penalty" \
    grep -q "from 127.0.0.9 died of signal 11 after authentication (no penalty)" "$T/sshd.err"
expect_eq "SIGSEGV after auth: the next login from that address succeeds at once" \
    in "$(sshc -b 127.0.0.9 -- echo in 2>/dev/null)"
check "SIGSEGV after auth: no penalty logged" bash -c "! grep -q 'penalty: refusing connections from 127.0.0.9 ' '$T/sshd.out'"
stop_sshd

# ---- version deadline, and penalties switched off or exempted
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" AIRLOCK_SSH_BANNER_TIMEOUT=2 \
    AIRLOCK_SSH_LOGIN_GRACE=6 AIRLOCK_SSH_PER_SOURCE_PENALTY_EXEMPT=127.0.0.32/30 || { finish; exit 1; }
deadline() { # deadline SRC [LINE]: seconds until the server closes
    timeout 20 python3 - "$PORT" "$@" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15,
                             source_address=(sys.argv[2], 0))
t0 = time.monotonic()
if len(sys.argv) > 3:
    s.sendall(sys.argv[3].encode() + b"\r\n")
try:
    while s.recv(4096):
        pass
except OSError:
    pass
print("%.1f" % (time.monotonic() - t0))
PY
}
d=$(deadline 127.0.0.30)
echo "# silent connection closed after $d s (deadline 2 s)"
check "silent connection closed at the version deadline ($d s)" \
    python3 -c "import sys; sys.exit(not 1.5 <= float('$d') < 5)"
d=$(deadline 127.0.0.31 SSH-2.0-OpenSSH_9.2p1)
echo "# connection that sent its version closed after $d s (login grace 6 s)"
check "a client that sent its version gets the whole login grace ($d s)" \
    python3 -c "import sys; sys.exit(not 5 <= float('$d') < 10)"
# The version string at once, the rest of the key exchange after the
# deadline: the exchange goes on where it stopped.
expect_eq "key exchange resumed after the version deadline: login works" in \
    "$(sshc -o ProxyCommand="python3 $E2E_DIR/delayproxy.py 127.0.0.1 $PORT 3" -- echo in 2>/dev/null)"
check "audit: version deadline" audit_has "no SSH version string from 127.0.0.30 port [0-9]+ within 2s"
check "silent connection penalised (grace-exceeded, 20 s)" audit_has "penalty: refusing connections from 127.0.0.30 for"
expect_eq "a penalised source is refused" "" "$(sshc -b 127.0.0.30 -- echo in 2>/dev/null)"
d=$(deadline 127.0.0.33)
expect_eq "exempt source: the same silent connection earns no penalty" in "$(sshc -b 127.0.0.33 -- echo in 2>/dev/null)"
check "exempt source: no penalty logged" bash -c "! grep -q 'penalty: refusing connections from 127.0.0.33 ' '$T/sshd.out'"
stop_sshd

start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" AIRLOCK_SSH_BANNER_TIMEOUT=1 \
    AIRLOCK_SSH_PER_SOURCE_PENALTIES=no || { finish; exit 1; }
d=$(deadline 127.0.0.40)
expect_eq "penalties off: a silent connection earns nothing" in "$(sshc -b 127.0.0.40 -- echo in 2>/dev/null)"
stop_sshd

# ---- limits raised, per source off: every one of 50 logins gets in
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" AIRLOCK_SSH_MAX_STARTUPS=100:100:100 \
    AIRLOCK_SSH_PER_SOURCE_MAX_STARTUPS=none AIRLOCK_SSH_MAX_AUTHENTICATED=100 \
    || { finish; exit 1; }
n=$(logins 50 127.0.0.1)
echo "# raised: $n of 50 simultaneous logins from one address succeeded"
why
# The cap of authenticated connections is checked at accept too; raised
# to 100 here, a burst of 50 cannot meet it, but a refusal by it would be
# told apart from one by MaxStartups.
capped=$(grep -c "refused connection from 127.0.0.1 port [0-9]*: too many authenticated connections" "$T/sshd.out")
other=$(grep -c "too many unauthenticated connections\|refused connections not logged" "$T/sshd.out")
check "MAX_STARTUPS=100:100:100, per source none: 50 of 50 logins ($n, $capped refused by the authenticated cap)" \
    [ $((other == 0 && n + capped >= 50)) -eq 1 ]
stop_sshd

# ---- per-source cap and netblocks
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" AIRLOCK_SSH_PER_SOURCE_MAX_STARTUPS=2 \
    AIRLOCK_SSH_PER_SOURCE_NETBLOCK_SIZE=24 || { finish; exit 1; }
out=$(timeout 30 python3 "$E2E_DIR/conns.py" "$PORT" 127.0.7.1 127.0.7.2 127.0.7.3 127.0.8.1)
expect_eq "netblock /24: the third connection from 127.0.7.0/24 is refused" \
    "banner banner closed banner" "$out"
stop_sshd

# ---- bad values: one line naming the variable, exit 2
for kv in AIRLOCK_SSH_MAX_STARTUPS=10:30 AIRLOCK_SSH_PER_SOURCE_MAX_STARTUPS=0 \
    AIRLOCK_SSH_PER_SOURCE_PENALTIES=crash AIRLOCK_SSH_PER_SOURCE_PENALTY_EXEMPT=10.1.2.3/8 \
    AIRLOCK_SSH_BANNER_TIMEOUT=0 AIRLOCK_SSH_PER_SOURCE_NETBLOCK_SIZE=33; do
    env "$kv" AIRLOCK_AUTHORIZED_KEYS="$(pub root)" "$SSHD" >/dev/null 2>"$T/bad.err"
    rc=$?
    expect_eq "bad ${kv%%=*}: exit 2, one line naming it" "2 1" \
        "$rc $(grep -c "${kv%%=*}='${kv#*=}'" "$T/bad.err")"
done
finish
