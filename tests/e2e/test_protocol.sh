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

out=$(probe user-change "$T/keys/root")
expect_eq "user name change between attempts: refused, even with a good key after" refused "$out"
check "audit: user change logged" audit_has "user name changed from 'root' to 'alice'"
out=$(probe password root)
expect_eq "password via libssh refused" refused "$out"
out=$(probe kbdint root)
expect_eq "keyboard-interactive via libssh refused" refused "$out"
out=$(probe probes "$T/keys/root")
check "endless probes of an authorized key are cut (total request cap)" grep -qE '^cut-after (3[0-9]|[12][0-9])$' <<<"$out"
echo "# $out"
check "audit: request cap logged" audit_has "too many authentication requests"
out=$(probe requests "$T/keys/root")
expect_eq "x11 and LD_PRELOAD refused; LANG and exec work" refused-as-expected "$out"
# After all that, a normal login still works (no penalty from 127.0.0.1
# beyond the threshold: two auth failures at most).
expect_eq "normal login still served" ok "$(sshc -b 127.0.0.2 -- echo ok)"
finish
