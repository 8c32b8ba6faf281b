#!/bin/bash
# Authentication: only a verified signature from a key in the store logs
# in; everything else is refused and audited. Each refusal comes from its
# own loopback source address so per-source penalties do not interfere.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

newkey root -t ed25519
newkey wrong -t ed25519
newkey expired -t ed25519
newkey fromkey -t ed25519
newkey forced -t ed25519
newkey nopty -t ed25519
newkey rsa -t rsa -b 3072
newkey ecdsa -t ecdsa -b 256
newkey ca -t ed25519
newkey certuser -t ed25519
ssh-keygen -q -s "$T/keys/ca" -I test-cert -n root "$T/keys/certuser.pub"
if newkey dsa -t dsa 2>/dev/null; then have_dsa=1; else have_dsa=0; fi

keys="$(pub root)
$(pub rsa)
$(pub ecdsa)
expiry-time=\"20200101\" $(pub expired)
from=\"10.9.9.9\" $(pub fromkey)
command=\"echo forced:\$SSH_ORIGINAL_COMMAND\" $(pub forced)
no-pty $(pub nopty)
cert-authority $(pub ca)"
[ "$have_dsa" = 1 ] && keys="$keys
$(pub dsa)"
start_sshd AIRLOCK_AUTHORIZED_KEYS="$keys" || { finish; exit 1; }

expect_eq "ed25519 key logs in" ok "$(sshc -- echo ok)"
expect_eq "RSA (rsa-sha2) key logs in" ok "$(sshc -k rsa -- echo ok)"
expect_eq "ECDSA key logs in" ok "$(sshc -k ecdsa -- echo ok)"

# refused: sshc -b SRC ... ; exit status 255 and nothing ran
refused() { # refused NAME SRC [sshc args...]
    local name=$1 src=$2 out
    shift 2
    out=$(sshc -b "$src" "$@" -- echo RAN 2>/dev/null)
    if [ $? -eq 255 ] && [ -z "$out" ]; then ok "$name"; else not_ok "$name (got '$out')"; fi
}

refused "wrong key refused" 127.0.0.11 -k wrong
wrongfp=$(ssh-keygen -lf "$T/keys/wrong.pub" | awk '{print $2}')
check "audit: wrong key logged with its fingerprint" audit_has "Failed publickey for 'root' from 127.0.0.11 port [0-9]+ ssh2: ssh-ed25519 ${wrongfp//+/\\+}: key not authorized"
refused "unknown user refused" 127.0.0.12 -u nosuchuser
check "audit: invalid user logged" audit_has "Failed publickey for 'nosuchuser' from 127.0.0.12 .*invalid user"
refused "user without keys refused" 127.0.0.13 -u alice
refused "password refused" 127.0.0.14 -o PreferredAuthentications=password -o PubkeyAuthentication=no
sshc -b 127.0.0.14 -v -o PreferredAuthentications=password -o PubkeyAuthentication=no -- true 2>"$T/pw.log"
check "only publickey advertised" grep -q "Authentications that can continue: publickey.\?$" "$T/pw.log"
grep -q "Authentications that can continue: publickey.\?$" "$T/pw.log" || sed 's/^/#   /' "$T/pw.log" | tail -5
check "password never accepted" bash -c "! grep -qi 'password.*accepted\|Authenticated to' '$T/pw.log'"
refused "keyboard-interactive refused" 127.0.0.15 -o PreferredAuthentications=keyboard-interactive -o PubkeyAuthentication=no
refused "expired key refused" 127.0.0.16 -k expired
check "audit: expiry logged" audit_has "Failed publickey .* from 127.0.0.16 .*expired"
refused "from= mismatch refused" 127.0.0.17 -k fromkey
check "audit: from= logged" audit_has "Failed publickey .* from 127.0.0.17 .*from="
# A cert-authority line is not a CA (tests/e2e/test_certs.sh has the
# CAs of AIRLOCK_SSH_TRUSTED_USER_CA_KEYS): its certificate is refused.
refused "certificate refused" 127.0.0.18 -k certuser -o CertificateFile="$T/keys/certuser-cert.pub" -o PubkeyAcceptedAlgorithms=ssh-ed25519-cert-v01@openssh.com
check "audit: certificate refusal logged" audit_has "Failed publickey .* from 127.0.0.18 .*certificate signed by an untrusted CA"
check "cert-authority line not installed" grep -q "rejected.*cert-authority\|cert-authority.*rejected\|rejected" "$T/sshd.err"
if [ "$have_dsa" = 1 ]; then
    refused "DSA key refused" 127.0.0.19 -k dsa -o PubkeyAcceptedAlgorithms=+ssh-dss
else
    ok "DSA key refused (ssh-keygen cannot create DSA keys here)"
fi
check "DSA/unknown key lines rejected by the key store" grep -q "rejected" "$T/sshd.err"
refused "SHA-1 ssh-rsa signature refused" 127.0.0.20 -k rsa -o PubkeyAcceptedAlgorithms=ssh-rsa

out=$(sshc -k forced -- 'echo not-this')
expect_eq "command= forced, SSH_ORIGINAL_COMMAND set" "forced:echo not-this" "$out"
# An interactive login from a real terminal: the client asks for a pty
# and, refused, carries on without one (with -t/-tt it would give up).
out=$(PTYDRIVE_INPUT=$'test -t 0 && echo has-tty || echo no-tty; exit\n' \
    python3 "$E2E_DIR/ptydrive.py" 24 80 24 80 timeout 20 ssh -p "$PORT" \
    -i "$T/keys/nopty" -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o LogLevel=ERROR \
    root@127.0.0.1 | tr -d '\r')
check "no-pty honoured" grep -qx "no-tty" <<<"$out"
check "no-pty: client told the pty was refused" grep -q "PTY allocation request failed" <<<"$out"
check "audit: pty refused" audit_has "pty refused for 'root': key has no-pty"

# Login grace: a silent TCP connection is closed by the server.
stop_sshd
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" AIRLOCK_SSH_LOGIN_GRACE=2 || { finish; exit 1; }
t=$(python3 - <<'PY'
import socket, time
s = socket.create_connection(("127.0.0.1", 2222), timeout=10,
                             source_address=("127.0.0.30", 0))
t0 = time.monotonic()
s.settimeout(10)
try:
    while s.recv(4096):
        pass
except OSError:
    pass
print(int(time.monotonic() - t0))
PY
)
check "login grace closes a silent connection (~2 s)" test "$t" -ge 1 -a "$t" -le 4
check "audit: grace exceeded logged" audit_has "login grace time \(2s\) exceeded"

# ssh-audit in policy mode (standard mode always fails on libssh 0.10:
# it does not know the strict-KEX marker and misreads the version).
if command -v ssh-audit >/dev/null; then
    timeout 60 ssh-audit -n -P "$E2E_DIR/ssh-audit-policy.txt" -p "$PORT" 127.0.0.1 >"$T/audit.txt" 2>&1
    rc=$?
    check "ssh-audit policy passes" test "$rc" -eq 0
    [ "$rc" -eq 0 ] || sed 's/^/#   /' "$T/audit.txt" | head -40
    timeout 60 ssh-audit -n -p "$PORT" 127.0.0.1 >"$T/audit-std.txt" 2>&1
    fails=$(grep -E '\[(fail|warn)\]|^\(cve\)' "$T/audit-std.txt" | grep -vE 'kex-strict-s-v00@openssh.com|CVE-2016-0739' | grep -c .)
    expect_eq "ssh-audit: no fail/warn besides the two known false reports" 0 "$fails"
    [ "$fails" -eq 0 ] || grep -E '\[(fail|warn)\]|^\(cve\)' "$T/audit-std.txt" | sed 's/^/#   /'
else
    not_ok "ssh-audit not installed"
fi

check "libssh version pin (dpkg)" sh -c "sh '$E2E_DIR/check-libssh-version.sh' >/dev/null"
finish
