#!/bin/sh
# Seeds for fuzz_keys_cert and fuzz_keys_revoked, made now (nothing
# committed): raw certificate blobs signed by ssh-keygen -s with each CA
# type and a few options, and revocation list texts.
#   cert_seeds.sh CERT_DIR REVOKED_DIR
set -eu
cdir=$1
rdir=$2
mkdir -p "$cdir" "$rdir"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
ssh-keygen -q -N '' -t ed25519 -f "$t/user" </dev/null
ssh-keygen -q -N '' -t rsa -b 2048 -f "$t/user_rsa" </dev/null
n=0
for ca in "ed25519" "ecdsa -b 256" "ecdsa -b 384" "ecdsa -b 521" "rsa -b 2048"; do
    # shellcheck disable=SC2086
    ssh-keygen -q -N '' -t $ca -f "$t/ca" </dev/null
    for opts in "-n root" "-n root,alice -O force-command=true -O source-address=10.0.0.0/8,::1" \
        "-n root -O clear -O permit-pty" "-n root -h" "-n root -O critical:x=y"; do
        for key in user user_rsa; do
            n=$((n + 1))
            cp "$t/$key.pub" "$t/c.pub"
            # shellcheck disable=SC2086
            ssh-keygen -q -s "$t/ca" -I "seed-$n" -z "$n" $opts "$t/c.pub" 2>/dev/null
            cut -d' ' -f2 "$t/c-cert.pub" | base64 -d >"$cdir/seed-$n"
        done
    done
    rm -f "$t/ca" "$t/ca.pub"
done
printf 'serial: 1\nserial: 0x10-0x20\nid: a key id\n# c\n\n' >"$rdir/seed-1"
printf 'key: %s\n%s\nhash: SHA256:abc\n' "$(cat "$t/user.pub")" "$(cat "$t/user_rsa.pub")" >"$rdir/seed-2"
printf 'key: %s\n' "$(cat "$t/c-cert.pub")" >"$rdir/seed-3"
# Binary KRLs, as ssh-keygen -k writes them.
ssh-keygen -q -N '' -t ed25519 -f "$t/ca" </dev/null
printf 'serial: 1-3\nserial: 7\nserial: 9\nserial: 11\nid: x\n%s\n' "$(cat "$t/user.pub")" >"$t/spec"
ssh-keygen -q -k -f "$rdir/seed-krl-1" -s "$t/ca.pub" "$t/spec"
printf 'sha1: %s\nsha256: %s\n' "$(cat "$t/user.pub")" "$(cat "$t/user_rsa.pub")" >"$t/spec"
ssh-keygen -q -k -f "$rdir/seed-krl-2" "$t/spec"
