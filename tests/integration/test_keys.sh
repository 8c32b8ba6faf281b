#!/bin/bash
# Key provisioning end to end: `airlock-sshd keys check|list|sync|watch`
# against a temp AIRLOCK_ROOT with keys made by ssh-keygen at run time.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

if [ -x "$B/airlock-sshd" ]; then
    KEYS=("$B/airlock-sshd" keys)
elif [ -x "$B/tests/keys-cli" ]; then
    KEYS=("$B/tests/keys-cli")
else
    not_ok "keys front end: neither $B/airlock-sshd nor $B/tests/keys-cli is built"
    finish
    exit 1
fi
command -v ssh-keygen >/dev/null || {
    not_ok "ssh-keygen is missing (openssh-client)"
    finish
    exit 1
}

R=$T/root
STORE=$R/run/airlock/authorized_keys
KD=$R/etc/airlock/authorized_keys.d
mkdir -p "$R/etc" "$KD" "$R/keys" "$T/gen"
chmod 755 "$R" "$R/etc" "$R/etc/airlock" "$KD" "$R/keys"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:12345:12345::/home/app:/bin/sh\n' \
    >"$R/etc/passwd"
export AIRLOCK_ROOT=$R
unset AIRLOCK_AUTHORIZED_KEYS AIRLOCK_AUTHORIZED_KEYS_FILE \
    AIRLOCK_AUTHORIZED_KEYS_DIR AIRLOCK_SSH_USER AIRLOCK_SSH_PERMIT_USER_ENV

for i in 0 1 2 3 4 5; do
    ssh-keygen -q -t ed25519 -N '' -C "key$i" -f "$T/gen/k$i" </dev/null
done
ssh-keygen -q -t rsa -b 1024 -N '' -C short -f "$T/gen/rsa1024" </dev/null
pub() { cat "$T/gen/k$1.pub"; }
# Fingerprints by ssh-keygen, once (polling must stay cheap).
FPS=()
for i in 0 1 2 3 4 5; do
    FPS[i]=$(ssh-keygen -lf "$T/gen/k$i.pub" | awk '{print $2}')
done
fp() { echo "${FPS[$1]}"; }
# in_store USER N: key N is in USER's store file.
in_store() { grep -qF "fingerprint=$(fp "$2")" "$STORE/$1" 2>/dev/null; }
not_in_store() { ! in_store "$@"; }

# --- keys check ---------------------------------------------------------
{
    pub 0
    echo "# comment"
    echo "ssh-dss AAAAB3NzaC1kc3MAAACBAP"
    printf 'restrict,command="echo \\"hi\\"" %s\r\n' "$(pub 1)"
    cat "$T/gen/rsa1024.pub"
    printf '%s' "$(pub 2)"
    pub 3
    echo "cert-authority $(pub 4)"
    printf '%s' "$(pub 5)" # no final newline
} >"$T/check.txt"
out=$("${KEYS[@]}" check "$T/check.txt" 2>"$T/check.err")
rc=$?
expect_eq "check exits 1 when a line is rejected" 1 "$rc"
expected="$T/check.txt:1: accepted: ssh-ed25519 256 $(fp 0) 'key0' options '' expiry never
$T/check.txt:3: rejected: ssh-dss keys are not accepted
$T/check.txt:4: accepted: ssh-ed25519 256 $(fp 1) 'key1' options 'restrict,command=\"echo \\\"hi\\\"\"' expiry never
$T/check.txt:5: rejected: RSA keys shorter than 2048 bits are not accepted
$T/check.txt:6: rejected: two keys on one line (a missing newline?)
$T/check.txt:7: rejected: option cert-authority is not supported
$T/check.txt:8: accepted: ssh-ed25519 256 $(fp 5) 'key5' options '' expiry never"
expect_eq "check prints one line per key or rejected line" "$expected" "$out"
check "check summary on stderr" grep -q "3 key(s) accepted, 4 line(s) rejected" "$T/check.err"

out=$(pub 0 | "${KEYS[@]}" check - 2>/dev/null)
rc=$?
expect_eq "check - reads stdin, exit 0 when all good" "0 stdin:1: accepted: ssh-ed25519 256 $(fp 0) 'key0' options '' expiry never" "$rc $out"
"${KEYS[@]}" check "$T/does-not-exist" >/dev/null 2>&1
expect_eq "check of a missing file exits 2" 2 "$?"
"${KEYS[@]}" frobnicate >/dev/null 2>&1
expect_eq "unknown subcommand exits 2" 2 "$?"

# --- env + file + directory together ----------------------------------------
pub 1 >"$R/keys/file"
chmod 644 "$R/keys/file"
pub 2 >"$KD/root"
pub 3 >"$KD/app"
pub 5 >"$KD/ghost"
chmod 444 "$KD/root"
chmod 644 "$KD/app" "$KD/ghost"
AIRLOCK_AUTHORIZED_KEYS="$(pub 0)
ssh-dss AAAAB3NzaC1kc3MAAACBAP"
export AIRLOCK_AUTHORIZED_KEYS
export AIRLOCK_AUTHORIZED_KEYS_FILE=/keys/file
"${KEYS[@]}" sync 2>"$T/sync.log"
expect_eq "sync exits 0" 0 "$?"
check "env key stored for root" in_store root 0
check "file key stored for root" in_store root 1
check "dir key stored for root" in_store root 2
check "dir key stored for app" in_store app 3
check "app's key not given to root" not_in_store root 3
check "a user missing from /etc/passwd is warned about" \
    grep -q "authorized_keys.d/ghost: user 'ghost' does not exist in /etc/passwd" "$T/sync.log"
check "rejected env line logged as SOURCE:LINE: rejected: REASON" \
    grep -q ": AIRLOCK_AUTHORIZED_KEYS:2: rejected: ssh-dss keys are not accepted$" "$T/sync.log"
check "accepted key logged with user, type, bits, fingerprint, source:line" \
    grep -qF "accepted key for 'root': ssh-ed25519 256 $(fp 1) 'key1' from /keys/file:1 options ''" "$T/sync.log"
expect_eq "store directory is 0700" 700 "$(stat -c %a "$STORE")"
expect_eq "store files are 0600 root-owned" "600 0 600 0" \
    "$(stat -c '%a %u' "$STORE/root" "$STORE/app" | tr '\n' ' ' | sed 's/ $//')"
list=$("${KEYS[@]}" list 2>/dev/null)
check "list shows root's three keys" grep -q "^user 'root': 3 key(s)$" <<<"$list"
check "list shows app's key with source and fingerprint" \
    grep -qF "  /etc/airlock/authorized_keys.d/app:1: ssh-ed25519 256 $(fp 3) 'key3'" <<<"$list"

# --- watch: Kubernetes ..data swap, deletes, unreadable, ownership -----------
rm -f "$KD/root" "$KD/app" "$KD/ghost"
mkdir "$KD/..2026_11_28_00_00_00.1"
pub 2 >"$KD/..2026_11_28_00_00_00.1/root"
chmod 644 "$KD/..2026_11_28_00_00_00.1/root"
ln -s ..2026_11_28_00_00_00.1 "$KD/..data"
ln -s ..data/root "$KD/root"

"${KEYS[@]}" watch 2>"$T/watch.log" &
WPID=$!
CLEANUP_PIDS+=("$WPID")
check "watch starts and keeps the secret's key" wait_until 5 in_store root 2

# now_ms: wall clock in ms.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# What the kubelet does: a new timestamped dir, a ..data_tmp link, and a
# rename over ..data, then the old dir goes.
mkdir "$KD/..2026_11_28_00_01_00.2"
pub 4 >"$KD/..2026_11_28_00_01_00.2/root"
chmod 644 "$KD/..2026_11_28_00_01_00.2/root"
t0=$(now_ms)
ln -s ..2026_11_28_00_01_00.2 "$KD/..data_tmp"
mv -T "$KD/..data_tmp" "$KD/..data"
rm -rf "$KD/..2026_11_28_00_00_00.1"
if wait_until 2 in_store root 4; then
    ms=$(($(now_ms) - t0))
    if [ "$ms" -le 1000 ]; then
        ok "Kubernetes ..data swap picked up in ${ms} ms (<= 1000)"
    else
        not_ok "Kubernetes ..data swap took ${ms} ms (> 1000)"
    fi
else
    not_ok "Kubernetes ..data swap not picked up"
fi
check "the old secret's key left the store" not_in_store root 2
check "removed key logged" grep -qF "removed key for 'root': ssh-ed25519 256 $(fp 2)" "$T/watch.log"

# A key deleted from a file (replaced by rename) stops being in the store.
{
    pub 1
    pub 5
} >"$R/keys/file.new"
chmod 644 "$R/keys/file.new"
mv "$R/keys/file.new" "$R/keys/file"
check "file replaced by rename: new key in" wait_until 2 in_store root 5
{ pub 5; } >"$R/keys/file.new"
chmod 644 "$R/keys/file.new"
mv "$R/keys/file.new" "$R/keys/file"
check "deleted key stops being in the store" wait_until 2 not_in_store root 1

# Wrong ownership: a key file of root's owned by uid 12345 is refused. No
# source is missing or unreadable here, so no retry timer helps: the
# watch on the secret's timestamped directory must see the chown.
chown 12345 "$KD/..2026_11_28_00_01_00.2/root"
check "wrong ownership refused (logged)" wait_until 2 grep -q "authorized_keys.d/root: refused: bad ownership" "$T/watch.log"
check "wrong ownership: key out of the store" not_in_store root 4
# For app (uid 12345 in the root's passwd) the same owner is fine.
pub 3 >"$KD/app"
chown 12345 "$KD/app"
check "file owned by its own user accepted" wait_until 2 in_store app 3
# World-writable is refused.
chmod 666 "$KD/app"
check "world-writable source refused" wait_until 2 not_in_store app 3
# An unreadable source (here a directory where the file was: root reads
# through mode bits) grants nothing until it can be read again (fail
# closed), and says so.
rm "$R/keys/file"
mkdir "$R/keys/file"
check "unreadable source logged" wait_until 2 grep -q "/keys/file: cannot read: Is a directory; none of its keys grants access until it can be read (1 key(s) withdrawn)" "$T/watch.log"
check "unreadable source: its keys withdrawn" wait_until 2 not_in_store root 5
n1=$(grep -c "/keys/file: cannot read" "$T/watch.log")
check "unreadable source retried and logged again" wait_until 8 \
    bash -c "[ \$(grep -c '/keys/file: cannot read' '$T/watch.log') -gt $n1 ]"
rmdir "$R/keys/file"
check "deleted source takes its keys with it" wait_until 2 not_in_store root 5

# The env key stays through all of it.
check "env key still stored" in_store root 0

kill -TERM "$WPID"
for _ in $(seq 1 100); do
    kill -0 "$WPID" 2>/dev/null || break
    sleep 0.02
done
wait "$WPID"
expect_eq "watch exits 0 on SIGTERM" 0 "$?"

finish
