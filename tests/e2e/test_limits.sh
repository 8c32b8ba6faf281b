#!/bin/bash
# Connection limits (MaxStartups, per source, penalties), auth attempt
# caps, channel caps, SFTP, revocation of open sessions, root policy and
# the drop to the single key user before key exchange.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

newkey root -t ed25519
newkey alice -t ed25519
newkey alice2 -t ed25519
for i in 1 2 3 4 5 6 7; do newkey "w$i" -t ed25519; done
kdir=$AIRLOCK_ROOT/etc/airlock/authorized_keys.d
mkdir -p "$kdir"
printf '%s\n%s\n' "$(pub alice)" "$(pub alice2)" >"$kdir/alice"
# A hard MaxStartups of 10 and 3 per source here (the defaults, 10:30:100
# and none, are tested in test_startups.sh).
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" AIRLOCK_SSH_MAX_STARTUPS=10 \
    AIRLOCK_SSH_PER_SOURCE_MAX_STARTUPS=3 || { finish; exit 1; }

# MaxStartups: 10 silent connections from 10 sources fill it, the 11th is
# refused at once.
srcs=$(for i in $(seq 40 50); do printf '127.0.0.%s ' "$i"; done)
# shellcheck disable=SC2086
out=$(timeout 30 python3 "$E2E_DIR/conns.py" "$PORT" $srcs)
expect_eq "MaxStartups 10: the 11th unauthenticated connection is refused" \
    "banner banner banner banner banner banner banner banner banner banner closed" "$out"
check "audit: MaxStartups refusal" audit_has "refused connection from 127.0.0.50 port [0-9]+: too many unauthenticated connections \(MaxStartups\)"

out=$(timeout 30 python3 "$E2E_DIR/conns.py" "$PORT" 127.0.0.60 127.0.0.60 127.0.0.60 127.0.0.60 127.0.0.61)
expect_eq "per source: the 4th connection from one address is refused" \
    "banner banner banner closed banner" "$out"

# Penalties: four failed logins (5 s each) pass the 15 s threshold.
for i in 1 2 3 4; do sshc -b 127.0.0.70 -k "w$i" -- true 2>/dev/null; done
wait_until 5 audit_has "penalty: refusing connections from 127.0.0.70"
check "audit: penalty after repeated auth failures" audit_has "penalty: refusing connections from 127.0.0.70 for [0-9]+s"
out=$(timeout 30 python3 "$E2E_DIR/conns.py" "$PORT" 127.0.0.70 127.0.0.71)
expect_eq "penalised source refused, others served" "closed banner" "$out"
expect_eq "a penalised source cannot log in even with a good key" "" "$(sshc -b 127.0.0.70 -- echo in 2>/dev/null)"

# A crashing connection process (here: SIGSEGV from outside) costs its
# source 90 s of penalty at once.
timeout 20 python3 -c '
import socket, time
s = socket.create_connection(("127.0.0.1", 2222), timeout=5, source_address=("127.0.0.85", 0))
s.recv(64)
time.sleep(2)
' &
holder=$!
wait_until 5 audit_has "connection from 127.0.0.85 "
victim=$(sed -n 's/^airlock-sshd\[\([0-9]*\)\]: info: audit: connection from 127\.0\.0\.85 .*/\1/p' "$T/sshd.out" | head -n 1)
[ -n "$victim" ] && kill -SEGV "$victim"
wait "$holder" 2>/dev/null
check "crash: listener logs the dead connection process" grep -q "died of signal 11" "$T/sshd.err"
check "crash: its source penalised" audit_has "penalty: refusing connections from 127.0.0.85 for (8[0-9]|9[0-9])s"

# MaxAuthTries 6: a client offering 7 wrong keys is cut off after 6.
args=()
for i in 1 2 3 4 5 6 7; do args+=(-i "$T/keys/w$i"); done
sshc -b 127.0.0.80 -k w1 "${args[@]}" -v -- true 2>"$T/tries.log"
check "max auth tries: disconnected after 6 failures" audit_has "maximum authentication attempts \(6\) exceeded for 'root' from 127.0.0.80"
expect_eq "max auth tries: the server processed 6 attempts, not 7" 6 "$(grep -c "Failed publickey for 'root' from 127.0.0.80 " "$T/sshd.out")"

# At most 4 session channels per connection (multiplexed client).
ctl=$T/ctl
sshc -o ControlMaster=yes -o ControlPath="$ctl" -o ControlPersist=no -N -f -- 2>/dev/null
if wait_until 5 test -S "$ctl"; then
    mux=()
    for i in 1 2 3 4; do
        timeout 20 ssh -o ControlPath="$ctl" -o LogLevel=ERROR x 'sleep 3' >/dev/null 2>&1 &
        mux+=($!)
    done
    sleep 1
    out=$(timeout 20 ssh -o ControlPath="$ctl" -o LogLevel=ERROR x 'echo fifth' 2>&1)
    check "5th concurrent session channel refused" bash -c "! grep -qx fifth <<<'$out'"
    check "audit: channel cap" audit_has "session channel refused for 'root': already 4 open"
    wait "${mux[@]}"
    out=$(timeout 20 ssh -o ControlPath="$ctl" -o LogLevel=ERROR x 'echo again' 2>&1)
    expect_eq "channels freed after the sessions end" again "$out"
    timeout 5 ssh -o ControlPath="$ctl" -O exit x 2>/dev/null
else
    not_ok "control master did not start"
fi

# At most 16 authenticated connections: a 17th is refused at accept.
held=()
for i in $(seq 1 16); do
    sshc -b 127.0.0.100 -- 'sleep 6' >/dev/null 2>&1 &
    held+=($!)
    wait_until 5 bash -c "[ \$(grep -c \"Accepted publickey for 'root' from 127.0.0.100 \" '$T/sshd.out') -ge $i ]"
done
expect_eq "16 connections authenticated" 16 "$(grep -c "Accepted publickey for 'root' from 127.0.0.100 " "$T/sshd.out")"
out=$(timeout 30 python3 "$E2E_DIR/conns.py" "$PORT" 127.0.0.101)
expect_eq "17th connection refused (authenticated cap)" closed "$out"
check "audit: authenticated cap" audit_has "refused connection from 127.0.0.101 port [0-9]+: too many authenticated connections"
wait "${held[@]}"
wait_until 10 bash -c "[ \$(pgrep -c -P $SSHD_PID) -eq 0 ]"
check "the held connections ended" bash -c "[ \$(pgrep -c -P $SSHD_PID) -eq 0 ]"

# SFTP as alice: put/get byte-exact, files owned by alice.
head -c 3000000 /dev/urandom >"$T/blob"
timeout 60 sftp -b - -P "$PORT" -i "$T/keys/alice" -o BatchMode=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o IdentitiesOnly=yes -o LogLevel=ERROR alice@127.0.0.1 >/dev/null <<SFTP
put $T/blob up.bin
get up.bin $T/blob.back
SFTP
check "sftp put/get byte-exact" cmp -s "$T/blob" "$T/blob.back"
expect_eq "sftp upload owned by alice" "2001:2001" "$(stat -c %u:%g "$T/home/alice/up.bin" 2>/dev/null)"
check "audit: sftp session" audit_has "session [0-9]+ start for 'alice' .*subsystem.*sftp"

# Revocation: removing a key closes its open session within seconds.
sshc -k alice2 -u alice -- 'sleep 60' >/dev/null 2>&1 &
cpid=$!
wait_until 5 audit_has "start for 'alice' .*sleep 60"
pub alice >"$kdir/alice.new" && mv "$kdir/alice.new" "$kdir/alice"
t0=$SECONDS
wait_until 10 bash -c "! kill -0 $cpid 2>/dev/null"
check "revoked key: open session closed within 10 s" bash -c "! kill -0 $cpid 2>/dev/null"
check "audit: revocation logged" audit_has "key SHA256:[^ ]+ of 'alice' revoked"
echo "# revocation took $((SECONDS - t0)) s"
expect_eq "revoked key cannot log in again" "" "$(sshc -b 127.0.0.90 -k alice2 -u alice -- echo in 2>/dev/null)"
expect_eq "the other key of the user still works" in "$(sshc -k alice -u alice -- echo in)"
stop_sshd

# AIRLOCK_SSH_REVOKE_SESSIONS=no keeps open sessions.
printf '%s\n%s\n' "$(pub alice)" "$(pub alice2)" >"$kdir/alice"
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" AIRLOCK_SSH_REVOKE_SESSIONS=no AIRLOCK_SSH_PERMIT_ROOT=no || { finish; exit 1; }
# One connection (OpenSSH's ControlMaster) that runs a session; after the
# revocation a second channel on it is refused, and the connection ends
# with its last session.
cm=(-o ControlMaster=yes -o ControlPath="$T/cm.sock" -o ControlPersist=no)
sshc -k alice2 -u alice "${cm[@]}" -- 'sleep 6; echo survived' >"$T/kept.txt" 2>/dev/null &
cpid=$!
wait_until 5 audit_has "start for 'alice' .*sleep 6"
expect_eq "REVOKE_SESSIONS=no: a second channel works before the revocation" before \
    "$(sshc -u alice -o ControlPath="$T/cm.sock" -- echo before 2>/dev/null)"
pub alice >"$kdir/alice.new" && mv "$kdir/alice.new" "$kdir/alice"
wait_until 10 audit_has "revoked; open sessions from .* kept"
# Root's key, which alice does not have: should the client fall back to a
# connection of its own, that could not log in either.
expect_eq "REVOKE_SESSIONS=no: new channel on the kept connection refused" "" \
    "$(sshc -u alice -o ControlPath="$T/cm.sock" -- echo after 2>/dev/null)"
check "audit: the channel refusal names the revocation" \
    audit_has "channel refused for 'alice' .*its key was revoked"
wait "$cpid"
expect_eq "REVOKE_SESSIONS=no: open session kept" survived "$(cat "$T/kept.txt")"
wait_until 5 audit_has "revoked and its last session ended, closing"
check "REVOKE_SESSIONS=no: connection closed with its last session" \
    audit_has "revoked and its last session ended, closing"
expect_eq "PERMIT_ROOT=no: root refused" "" "$(sshc -b 127.0.0.91 -- echo in 2>/dev/null)"
check "audit: root refused" audit_has "root login refused"
stop_sshd

# Single key user: the connection process drops before key exchange.
rm -f "$kdir/alice"
printf '%s\n' "$(pub alice)" >"$kdir/alice"
start_sshd AIRLOCK_SSH_USER=alice AIRLOCK_AUTHORIZED_KEYS="$(pub alice2)" || { finish; exit 1; }
exec 7<>"/dev/tcp/127.0.0.1/$PORT"
conn=
wait_until 5 bash -c "pgrep -P $SSHD_PID >/dev/null" && conn=$(pgrep -P "$SSHD_PID" | head -n 1)
uid=$(awk '/^Uid:/ {print $2 "," $3 "," $4}' "/proc/$conn/status" 2>/dev/null)
expect_eq "pre-auth connection process runs as the single key user" "2001,2001,2001" "$uid"
# A non-dumpable process's /proc entries belong to root whatever its uid.
expect_eq "pre-auth process not dumpable" 0 "$(stat -c %u "/proc/$conn/status" 2>/dev/null)"
# Its own session, as OpenSSH's connections (conn.c: out of the listener's
# process group, and a CPU share of its own under autogroup scheduling).
expect_eq "connection process leads its own session" "$conn" \
    "$(awk '{print $6}' "/proc/$conn/stat" 2>/dev/null)"
exec 7<&-
expect_eq "single key user logs in" alice "$(sshc -k alice -u alice -- id -un)"
expect_eq "... with either of its keys" alice "$(sshc -k alice2 -u alice -- id -un)"
stop_sshd

# Bad configuration: one line, exit 2. No key: exit 3.
env AIRLOCK_SSH_PORT=99999 AIRLOCK_AUTHORIZED_KEYS="$(pub root)" "$SSHD" >/dev/null 2>"$T/bad.err"
expect_eq "bad AIRLOCK_SSH_PORT: exit 2" 2 $?
check "bad value named in one line" grep -q "AIRLOCK_SSH_PORT='99999'" "$T/bad.err"
rm -rf "$kdir"
env -u AIRLOCK_AUTHORIZED_KEYS "$SSHD" >/dev/null 2>"$T/nokey.err"
expect_eq "no valid key: exit 3" 3 $?
check "no key: reason logged" grep -q "no valid authorized key" "$T/nokey.err"
finish
