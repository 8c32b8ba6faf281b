#!/bin/bash
# Protocol edge cases driven by a libssh client (tests/e2e/sshd_probe.c):
# user name changes, password and keyboard-interactive through libssh,
# endless key probes, refused channel requests.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

PROBE=$B/tests/sshd-probe
if [ ! -x "$PROBE" ]; then
    not_ok "sshd-probe not built (make B=... $B/tests/sshd-probe)"
    finish
    exit 1
fi
newkey root -t ed25519
newkey alice -t ed25519
mkdir -p "$AIRLOCK_ROOT/etc/airlock/authorized_keys.d"
pub alice >"$AIRLOCK_ROOT/etc/airlock/authorized_keys.d/alice"
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" || { finish; exit 1; }

probe() { timeout 30 "$PROBE" "$PORT" "$@"; }
# Each failing probe earns 127.0.0.1 penalty time (test_limits.sh tests
# that); a fresh listener forgets it, so the next probe is not refused.
fresh_sshd() {
    stop_sshd
    start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" || { finish; exit 1; }
}

out=$(probe user-change "$T/keys/root")
expect_eq "user name change between attempts: refused, even with a good key after" refused "$out"
check "audit: user change logged" audit_has "user name changed from 'root' to 'alice'"
out=$(probe password root)
expect_eq "password via libssh refused" refused "$out"
out=$(probe kbdint root)
expect_eq "keyboard-interactive via libssh refused" refused "$out"
check "audit: password attempt logged, without the password" \
    audit_has "Failed password for 'root' from 127.0.0.1"
check "audit: keyboard-interactive attempt logged" \
    audit_has "Failed keyboard-interactive for 'root' from 127.0.0.1"
out=$(probe passwords root)
expect_eq "100 password requests: cut at MaxAuthTries (6)" "cut-after 6" "$out"
check "audit: MaxAuthTries reached by passwords" \
    audit_has "maximum authentication attempts \\(6\\) exceeded for 'root'"
fresh_sshd
out=$(probe passwords alternate)
# The first request is refused; the second, under another name, is refused
# and ends the connection: no third is answered.
expect_eq "password requests alternating users: cut at the first change" \
    "cut-after 2" "$out"
check "no password ever reaches the log" \
    bash -c "! grep -q 'never-logged' '$T/sshd.out' '$T/sshd.err'"
fresh_sshd
out=$(probe probes "$T/keys/root")
check "endless probes of an authorized key are cut (total request cap)" grep -qE '^cut-after (3[0-9]|[12][0-9])$' <<<"$out"
echo "# $out"
check "audit: request cap logged" audit_has "too many authentication requests"
fresh_sshd
out=$(probe requests "$T/keys/root")
expect_eq "x11 and LD_PRELOAD refused; LANG and exec work" refused-as-expected "$out"
out=$(probe signal "$T/keys/root")
expect_eq "signal request reaches the command; its exit status returns" "got-int exit 5" "$out"

# Host key: generated once, reused after a restart; a mounted key file
# (0644, as secret volumes often are) is copied to a private 0600 file.
fp1=$(sed -n 's/.*host key ED25519 //p' "$T/sshd.err")
stop_sshd
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" || { finish; exit 1; }
fp2=$(sed -n 's/.*host key ED25519 //p' "$T/sshd.err")
check "generated host key reused after a restart" test -n "$fp1" -a "$fp1" = "$fp2"
stop_sshd
newkey host -t ed25519
chmod 644 "$T/keys/host"
# The file is under AIRLOCK_ROOT, as every path airlock opens.
mkdir -p "$AIRLOCK_ROOT/secrets"
cp "$T/keys/host" "$AIRLOCK_ROOT/secrets/host"
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" AIRLOCK_SSH_HOST_KEY_FILE=/secrets/host || { finish; exit 1; }
want=$(ssh-keygen -lf "$T/keys/host.pub" | awk '{print $2}')
expect_eq "AIRLOCK_SSH_HOST_KEY_FILE used (fingerprint)" "$want" "$(sed -n 's/.*host key ED25519 //p' "$T/sshd.err")"
got=$(timeout 10 ssh-keyscan -p "$PORT" -t ed25519 127.0.0.1 2>/dev/null | awk '{print $2 " " $3}' | ssh-keygen -lf - 2>/dev/null | awk '{print $2}')
expect_eq "served host key is the mounted one" "$want" "$got"
expect_eq "private copy is 0600" 600 "$(stat -c %a "$AIRLOCK_ROOT/run/airlock/sshd/ssh_host_ed25519_key" 2>/dev/null)"
newkey rsahost -t rsa -b 2048
cp "$T/keys/rsahost" "$AIRLOCK_ROOT/secrets/rsahost"
stop_sshd
env AIRLOCK_SSH_LISTEN=127.0.0.1 AIRLOCK_AUTHORIZED_KEYS="$(pub root)" AIRLOCK_SSH_HOST_KEY_FILE=/secrets/rsahost "$SSHD" >/dev/null 2>"$T/rsahost.err"
expect_eq "a non-ed25519 host key is refused (exit 1)" 1 $?
check "... with a clear reason" grep -q "host key is not ed25519" "$T/rsahost.err"
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" AIRLOCK_SSH_SFTP_SERVER=/nonexistent/sftp-server || { finish; exit 1; }
timeout 20 sftp -b - -P "$PORT" -i "$T/keys/root" -o BatchMode=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o IdentitiesOnly=yes root@127.0.0.1 </dev/null >"$T/sftp.out" 2>&1
check "sftp without sftp-server: fails" test $? -ne 0
check "sftp refusal says why" grep -q "SFTP is not available" "$T/sftp.out"
check "audit: sftp refusal" audit_has "sftp refused for 'root': '/nonexistent/sftp-server' not found"

# After all that, a normal login still works (no penalty from 127.0.0.1
# beyond the threshold: two auth failures at most).
expect_eq "normal login still served" ok "$(sshc -b 127.0.0.2 -- echo ok)"
stop_sshd

# IPv6: "::1" next to 127.0.0.1, each its own socket (IPV6_V6ONLY).
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" AIRLOCK_SSH_LISTEN="127.0.0.1 ::1" || { finish; exit 1; }
out=$(timeout 20 ssh -6 -p "$PORT" -i "$T/keys/root" -o BatchMode=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o IdentitiesOnly=yes -o LogLevel=ERROR root@::1 'echo "$SSH_CLIENT"')
check "IPv6 login on ::1" grep -q '^::1 [0-9]* 2222$' <<<"$out"
expect_eq "IPv4 still served" ok "$(sshc -b 127.0.0.4 -- echo ok)"
check "both sockets logged" grep -q "listening on ::1 port 2222" "$T/sshd.err"
stop_sshd

# A non-root server (airlock run as the container's user): it serves its
# own user and nobody else.
export AIRLOCK_ROOT=$T/root-alice
mkdir -p "$AIRLOCK_ROOT/etc"
cp /etc/passwd /etc/group "$AIRLOCK_ROOT/etc/"
chown -R 2001:2001 "$AIRLOCK_ROOT"
chmod 755 "$T/keys"
chmod 644 "$T/keys/alice.pub"
chown 2001 "$T/sshd.out" "$T/sshd.err"
start_sshd_as() { # like start_sshd, as uid:gid $1
    local ids=$1
    shift
    : >"$T/sshd.out"
    : >"$T/sshd.err"
    setpriv --reuid="${ids%:*}" --regid="${ids#*:}" --init-groups \
        env AIRLOCK_SSH_LISTEN=127.0.0.1 AIRLOCK_SSH_PORT=$PORT "$@" \
        "$SSHD" >>"$T/sshd.out" 2>>"$T/sshd.err" &
    SSHD_PID=$!
    CLEANUP_PIDS+=("$SSHD_PID")
    wait_until 10 sshd_ready
}
start_sshd_as 2001:2001 AIRLOCK_SSH_USER=alice AIRLOCK_AUTHORIZED_KEYS="$(pub alice)"
check "non-root server starts" sshd_ready
expect_eq "non-root server: logs in its own user" alice "$(sshc -k alice -u alice -- id -un)"
expect_eq "non-root server: root refused" "" "$(sshc -b 127.0.0.9 -k alice -u root -- id -un 2>/dev/null)"
finish
