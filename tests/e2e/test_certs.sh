#!/bin/bash
# OpenSSH user certificates (AIRLOCK_SSH_TRUSTED_USER_CA_KEYS[_FILE]) and
# the revocation list (AIRLOCK_SSH_REVOKED_KEYS_FILE), with the real
# OpenSSH client and certificates made now by ssh-keygen -s. No
# authorized key is configured: the CA keys alone enable the server.
# Each refusal comes from its own loopback address (per-source
# penalties).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

newkey ca_ed -t ed25519
newkey ca_ec -t ecdsa -b 384
newkey ca_rsa -t rsa -b 3072
newkey ca_other -t ed25519
newkey user -t ed25519
newkey user_ec -t ecdsa -b 256

# cert NAME KEY CA [ssh-keygen -s options...]: $T/keys/NAME-cert.pub,
# a certificate of KEY's public key signed by CA.
cert() {
    local name=$1 key=$2 ca=$3
    shift 3
    cp "$T/keys/$key.pub" "$T/keys/$name.pub"
    ssh-keygen -q -s "$T/keys/$ca" "$@" "$T/keys/$name.pub" 2>"$T/keygen.err" ||
        { echo "# ssh-keygen -s $*: $(cat "$T/keygen.err")"; return 1; }
}
cert c_ed user ca_ed -I id-ed -n root -z 1 -V -5m:+1h
cert c_ec user ca_ec -I id-ec -n root -z 2 -V -5m:+1h
cert c_rsa user_ec ca_rsa -I id-rsa -n root,alice -z 3 -V -5m:+1h -t rsa-sha2-512
cert c_rsa256 user ca_rsa -I id-rsa256 -n root -z 4 -t rsa-sha2-256
cert c_principal user ca_ed -I id-principal -n alice,rootx -z 5
cert c_expired user ca_ed -I id-expired -n root -z 6 -V 20200101:20200102
cert c_future user ca_ed -I id-future -n root -z 7 -V +1d:+2d
cert c_untrusted user ca_other -I id-untrusted -n root -z 8
cert c_host user ca_ed -I id-host -n root -z 9 -h
cert c_serial user ca_ed -I id-serial -n root -z 666
cert c_id user ca_ed -I revoked-id -n root -z 10
cert c_critical user ca_ed -I id-critical -n root -z 11 -O critical:frobnicate@example.com=yes
cert c_force user ca_ed -I id-force -n root -z 12 -O force-command="echo forced:\$SSH_ORIGINAL_COMMAND"
cert c_src_no user ca_ed -I id-src-no -n root -z 13 -O source-address=10.1.2.0/24,192.0.2.1
cert c_src_ok user ca_ed -I id-src-ok -n root -z 14 -O source-address=10.1.2.0/24,127.0.0.0/8
cert c_nopty user ca_ed -I id-nopty -n root -z 15 -O clear
cert c_live user ca_ed -I id-live -n root -z 777
cert c_short user ca_ed -I id-short -n root -z 16 -V -1m:+6s
cert c_noprinc user ca_ed -I id-noprinc -z 17

mkdir -p "$AIRLOCK_ROOT/etc/ssh"
pub ca_ec >"$AIRLOCK_ROOT/etc/ssh/user_ca.pub"
printf '# revoked\nserial: 666\nid: revoked-id\n' >"$AIRLOCK_ROOT/etc/ssh/revoked"
chmod 600 "$AIRLOCK_ROOT/etc/ssh/user_ca.pub" "$AIRLOCK_ROOT/etc/ssh/revoked"

cas="$(pub ca_ed)
$(pub ca_rsa)"
start_sshd AIRLOCK_AUTHORIZED_KEYS_DIR= \
    AIRLOCK_SSH_TRUSTED_USER_CA_KEYS="$cas" \
    AIRLOCK_SSH_TRUSTED_USER_CA_KEYS_FILE=/etc/ssh/user_ca.pub \
    AIRLOCK_SSH_REVOKED_KEYS_FILE=/etc/ssh/revoked || { finish; exit 1; }

ca_ed_fp=$(ssh-keygen -lf "$T/keys/ca_ed.pub" | awk '{print $2}')
check "CA keys logged with their fingerprints" grep -q "accepted CA key for 'root': ssh-ed25519 256 ${ca_ed_fp}" "$T/sshd.err"
check "revocation list loaded" grep -q "revocation list: 1 serial range(s), 1 key ID(s), 0 key(s)" "$T/sshd.err"

# certc NAME [sshc args]: sshc with KEY's certificate NAME.
certc() {
    local name=$1 key=user
    shift
    case $name in c_rsa) key=user_ec ;; esac
    sshc -k "$key" -o CertificateFile="$T/keys/$name-cert.pub" "$@"
}

expect_eq "ed25519 CA: certificate logs in" ok "$(certc c_ed -- echo ok)"
user_fp=$(ssh-keygen -lf "$T/keys/user.pub" | awk '{print $2}')
check "audit: key ID, serial and CA fingerprint" audit_has "Accepted publickey for 'root' from 127.0.0.1 port [0-9]+ ssh2: ssh-ed25519-cert-v01@openssh.com ${user_fp//+/\\+} ID 'id-ed' \\(serial 1\\) CA ${ca_ed_fp//+/\\+}"
expect_eq "ECDSA CA (from the _FILE): certificate logs in" ok "$(certc c_ec -- echo ok)"
expect_eq "RSA CA (rsa-sha2-512), ECDSA user key: logs in" ok "$(certc c_rsa -- echo ok)"
expect_eq "RSA CA (rsa-sha2-256): logs in" ok "$(certc c_rsa256 -- echo ok)"

refused() { # refused NAME SRC CERT [sshc args...]
    local name=$1 src=$2 c=$3 out
    shift 3
    out=$(certc "$c" -b "$src" "$@" -- echo RAN 2>/dev/null)
    if [ $? -eq 255 ] && [ -z "$out" ]; then ok "$name"; else not_ok "$name (got '$out')"; fi
}
refused_why() { # refused_why NAME SRC CERT REASON
    refused "$1" "$2" "$3"
    check "audit: $1: $4" audit_has "Failed publickey for 'root' from $2 port [0-9]+ ssh2: .*: $4"
}
refused_why "wrong principal refused" 127.0.0.11 c_principal "user is not a principal of the certificate"
refused_why "expired certificate refused" 127.0.0.12 c_expired "certificate expired"
refused_why "not yet valid certificate refused" 127.0.0.13 c_future "certificate not yet valid"
refused_why "untrusted CA refused" 127.0.0.14 c_untrusted "certificate signed by an untrusted CA"
# The OpenSSH client will not send a host certificate, nor one altered
# after signing: paramiko sends them as they are (cert_client.py).
pyc() { # pyc SRC CERT [MODE]: cert_client.py with key 'user' as root
    timeout -k 2 30 /usr/bin/python3 "$E2E_DIR/cert_client.py" "$1" "$PORT" \
        "$T/keys/user" "$T/keys/$2-cert.pub" root "${3:-asis}" 2>/dev/null
}
expect_eq "paramiko: a valid certificate logs in" "logged-in ok" "$(pyc 127.0.0.30 c_ed)"
expect_eq "host certificate refused" refused "$(pyc 127.0.0.15 c_host)"
check "audit: host certificate: not a user certificate" audit_has "Failed publickey for 'root' from 127.0.0.15 port [0-9]+ ssh2: .*: not a user certificate"
expect_eq "certificate altered after signing refused" refused "$(pyc 127.0.0.31 c_ed flip-key-id)"
check "audit: altered certificate: signature does not verify" audit_has "Failed publickey for 'root' from 127.0.0.31 port [0-9]+ ssh2: .*: certificate signature does not verify"
newkey intruder -t ed25519
expect_eq "session signed by another key than the certified one refused" refused \
    "$(timeout -k 2 30 /usr/bin/python3 "$E2E_DIR/cert_client.py" 127.0.0.32 "$PORT" \
        "$T/keys/intruder" "$T/keys/c_ed-cert.pub" root other-key 2>/dev/null)"
check "audit: no login with another key's certificate" bash -c "! grep -q \"Accepted publickey .* from 127.0.0.32 \" '$T/sshd.out'"
refused_why "revoked serial refused" 127.0.0.16 c_serial "certificate serial revoked"
refused_why "revoked key ID refused" 127.0.0.17 c_id "certificate key ID revoked"
refused_why "unknown critical option refused" 127.0.0.18 c_critical "unknown critical option in certificate"
refused_why "source-address mismatch refused" 127.0.0.19 c_src_no "source address not allowed by from="
refused_why "certificate without principals refused" 127.0.0.20 c_noprinc "certificate has no principals"
refused "login as another principal's user without a CA for it" 127.0.0.21 c_rsa -u alice

expect_eq "source-address match logs in" ok "$(certc c_src_ok -- echo ok)"
expect_eq "force-command runs instead, SSH_ORIGINAL_COMMAND set" \
    "forced:echo other" "$(certc c_force -- echo other)"
expect_eq "permit-pty present: a pty" yes \
    "$(certc c_ed -tt -- 'test -t 0 && echo yes || echo no' 2>/dev/null | tr -d '\r')"
out=$(certc c_nopty -tt -- 'test -t 0 && echo yes || echo no' 2>&1 | tr -d '\r')
case $out in
*yes*) not_ok "permit-pty absent: no pty (got '$out')" ;;
*) ok "permit-pty absent: no pty" ;;
esac
check "audit: pty refused" grep -q "pty" "$T/sshd.out"

# A revocation added while a session runs ends it, like a removed key.
certc c_live -- 'echo started; sleep 30' >"$T/live.out" 2>/dev/null &
live=$!
wait_until 10 grep -q started "$T/live.out"
printf 'serial: 777\n' >>"$AIRLOCK_ROOT/etc/ssh/revoked"
if wait_until 10 bash -c "! kill -0 $live 2>/dev/null"; then
    ok "revoking a serial ends the open session"
else
    not_ok "revoking a serial ends the open session"
    kill "$live" 2>/dev/null
fi
wait "$live" 2>/dev/null
check "audit: revocation logged" audit_has "revoked or expired: closing its connection"
refused "revoked serial refused at once" 127.0.0.22 c_live

# The certificate's validity ends the session too (valid_before).
certc c_short -- 'echo started; sleep 30' >"$T/short.out" 2>/dev/null &
short=$!
wait_until 10 grep -q started "$T/short.out"
if wait_until 15 bash -c "! kill -0 $short 2>/dev/null"; then
    ok "expiry of the certificate ends the open session"
else
    not_ok "expiry of the certificate ends the open session"
    kill "$short" 2>/dev/null
fi
wait "$short" 2>/dev/null

# Removing the CA from its file ends its sessions and refuses it.
certc c_ec -- 'echo started; sleep 30' >"$T/ec.out" 2>/dev/null &
ec=$!
wait_until 10 grep -q started "$T/ec.out"
: >"$AIRLOCK_ROOT/etc/ssh/user_ca.pub"
if wait_until 10 bash -c "! kill -0 $ec 2>/dev/null"; then
    ok "removing a CA key ends its sessions"
else
    not_ok "removing a CA key ends its sessions"
    kill "$ec" 2>/dev/null
fi
wait "$ec" 2>/dev/null
refused "removed CA refused" 127.0.0.23 c_ec

# A revocation list that does not parse refuses everything (fail closed).
printf 'serial: nonsense\n' >"$AIRLOCK_ROOT/etc/ssh/revoked"
wait_until 5 grep -q "the revocation list is invalid" "$T/sshd.err"
check "invalid revocation list logged with its line" grep -q "/etc/ssh/revoked:1: rejected: invalid serial" "$T/sshd.err"
refused "invalid revocation list refuses a valid certificate" 127.0.0.24 c_ed
printf '# nothing revoked\n' >"$AIRLOCK_ROOT/etc/ssh/revoked"
wait_until 5 bash -c "[ \"\$(grep -c 'revocation list: 0 serial' '$T/sshd.err')\" -ge 1 ]"
expect_eq "fixed revocation list: logs in again" ok "$(certc c_ed -b 127.0.0.25 -- echo ok)"

# A binary KRL from ssh-keygen -k: serial 1 of ca_ed and the key ID
# id-rsa256 of ca_rsa; its serials and IDs are scoped to their CA.
printf 'serial: 1\n' >"$T/krl-ed.spec"
printf 'id: id-rsa256\nserial: 14\n' >"$T/krl-rsa.spec"
ssh-keygen -q -k -f "$T/krl" -s "$T/keys/ca_ed.pub" "$T/krl-ed.spec"
ssh-keygen -q -k -u -f "$T/krl" -s "$T/keys/ca_rsa.pub" "$T/krl-rsa.spec"
# The text list of step "serial: 777" logged the same counts: wait for a
# new line, not for one that is there already.
krl_line="revocation list: 2 serial range(s), 1 key ID(s), 0 key(s)"
krl_before=$(grep -cF "$krl_line" "$T/sshd.err")
cp "$T/krl" "$AIRLOCK_ROOT/etc/ssh/revoked.new"
chmod 600 "$AIRLOCK_ROOT/etc/ssh/revoked.new"
mv "$AIRLOCK_ROOT/etc/ssh/revoked.new" "$AIRLOCK_ROOT/etc/ssh/revoked"
krl_loaded() { [ "$(grep -cF "$krl_line" "$T/sshd.err")" -gt "$krl_before" ]; }
wait_until 5 krl_loaded
check "binary KRL loaded" krl_loaded
refused_why "binary KRL: revoked serial of its CA refused" 127.0.0.26 c_ed "certificate serial revoked"
refused_why "binary KRL: revoked key ID of its CA refused" 127.0.0.27 c_rsa256 "certificate key ID revoked"
expect_eq "binary KRL: serial 14 of another CA still logs in" ok "$(certc c_src_ok -b 127.0.0.28 -- echo ok)"
expect_eq "binary KRL: a certificate not listed logs in" ok "$(certc c_rsa -b 127.0.0.29 -- echo ok)"

finish
