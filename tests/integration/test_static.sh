#!/bin/bash
# `make static` output as PID 1 of an empty root: a directory holding only
# build-static/airlock, build-static/setuser, a static busybox (the app) and
# a two-line /etc/passwd and /etc/group, entered with chroot in a fresh PID
# namespace. Once with no /proc at all (scratch), once with one mounted:
# the app is PID 1's child, its status is airlock's, an orphan is reaped,
# and setuser drops to a user of that minimal passwd without NSS.
# The single-quoted scripts below are expanded by busybox's shell, as meant.
# shellcheck disable=SC2016
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

S=${AIRLOCK_STATIC_BUILD:-$(cd "$B/.." && pwd)/build-static}
BUSYBOX=$(command -v busybox || true)
if [ "$(id -u)" -ne 0 ]; then
    not_ok "test_static.sh needs root (chroot, namespaces)"
    finish
    exit
fi
if [ ! -x "$S/airlock" ] || [ ! -x "$S/setuser" ]; then
    not_ok "$S/airlock and $S/setuser not built (make static)"
    finish
    exit
fi
if [ -z "$BUSYBOX" ] || readelf -lW "$BUSYBOX" | grep -qF 'program interpreter'; then
    not_ok "no static busybox (apt-get install busybox-static)"
    finish
    exit
fi

# ---- the files are static --------------------------------------------------
for bin in airlock setuser; do
    expect_eq "$bin: no program interpreter" "" \
        "$(readelf -lW "$S/$bin" | grep -F 'Requesting program interpreter')"
    expect_eq "$bin: no shared library needed" "" \
        "$(readelf -dW "$S/$bin" | grep -F '(NEEDED)')"
    check "$bin: position independent (static PIE)" \
        grep -q 'DYN' <<<"$(readelf -hW "$S/$bin" | grep 'Type:')"
done
expect_eq "airlock --version" "airlock $(cat "$B/../VERSION")" "$("$S/airlock" --version)"
expect_eq "setuser --version" "setuser $(cat "$B/../VERSION")" "$("$S/setuser" --version)"

# ---- the empty root ------------------------------------------------------
R=$T/root
mkdir -p "$R/bin" "$R/etc" "$R/tmp" "$R/proc" "$R/dev"
chmod 1777 "$R/tmp"
cp "$S/airlock" "$S/setuser" "$R/"
cp "$BUSYBOX" "$R/bin/busybox"
for applet in sh id cat cut grep head kill sleep tr; do
    ln -s busybox "$R/bin/$applet"
done
printf '%s\n' 'root:x:0:0:root:/:/bin/sh' 'alice:x:4001:4001:Alice:/tmp:/bin/sh' \
    >"$R/etc/passwd"
printf '%s\n' 'root:x:0:' 'alice:x:4001:' 'devs:x:4100:alice' >"$R/etc/group"
expect_eq "the root holds only the listed files" \
    "airlock bin bin/busybox bin/cat bin/cut bin/grep bin/head bin/id bin/kill bin/sh bin/sleep bin/tr dev etc etc/group etc/passwd proc setuser tmp" \
    "$(cd "$R" && find . -mindepth 1 | sed 's|^\./||' | sort | xargs)"

# in_root [--proc] ARGS...: `chroot ROOT /airlock ARGS` as PID 1 of a new
# PID namespace, bounded. With --proc, what a container runtime mounts is
# mounted first, in a private mount namespace: a /proc of the new PID
# namespace and a /dev tmpfs with null (busybox sh gives a background job
# /dev/null as stdin).
in_root() {
    if [ "$1" = --proc ]; then
        shift
        timeout -k 2 20 unshare --pid --fork --kill-child --mount sh -c \
            'mount -t proc proc "$1/proc" && mount -t tmpfs -o mode=755 dev "$1/dev" &&
            mknod -m 666 "$1/dev/null" c 1 3 &&
            r=$1 && shift && exec chroot "$r" /airlock "$@"' \
            sh "$R" "$@"
    else
        timeout -k 2 20 unshare --pid --fork --kill-child chroot "$R" /airlock "$@"
    fi
}

# ---- no /proc: the scratch image -------------------------------------------
out=$(in_root -q -- /bin/sh -c 'echo "ppid=$PPID"; exit 7' 2>"$T/err")
rc=$?
expect_eq "no /proc: exit status 7 is returned" 7 "$rc"
expect_eq "no /proc: the app is PID 1's child" "ppid=1" "$out"
expect_eq "no /proc: nothing but errors logged with -q" "" "$(cat "$T/err")"
in_root -q -- /bin/sh -c 'kill -TERM $$'
expect_eq "no /proc: death by SIGTERM gives 143" 143 "$?"
out=$(in_root -q -- /setuser alice /bin/id)
expect_eq "no /proc: setuser drops to alice of the minimal passwd and group" \
    "uid=4001(alice) gid=4001(alice) groups=4001(alice),4100(devs)" "$out"
out=$(in_root -q -- /setuser alice:devs /bin/id)
expect_eq "no /proc: setuser alice:devs" \
    "uid=4001(alice) gid=4100(devs) groups=4100(devs)" "$out"
out=$(in_root -q -- /setuser nobody /bin/id 2>&1)
rc=$?
expect_eq "no /proc: setuser refuses a user not in the minimal passwd" 2 "$rc"
check "no /proc: ... and says which" grep -q "'nobody'" <<<"$out"

# ---- with /proc: PID 1 and the orphan ---------------------------------------
# The app starts a shell that leaves a sleep behind and exits: the sleep is
# re-parented to PID 1 (checked through its PPid), exits, and must then
# disappear from /proc, which only a reap by airlock does. Bounded: 100
# polls of 50 ms.
app='echo "pid1=$(tr "\0" "\n" </proc/1/cmdline | head -n 1)"
echo "ppid=$PPID"
sh -c "sleep 0.3 & echo \$! >/tmp/orphan"
o=$(cat /tmp/orphan)
echo "orphan-ppid=$(grep "^PPid:" /proc/$o/status | tr -d "\t" | cut -d: -f2)"
i=0
while [ -e "/proc/$o" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
if [ -e "/proc/$o" ]; then echo "orphan-left: $(grep ^State: /proc/$o/status)"; else echo orphan-reaped; fi
exit 5'
out=$(in_root --proc -q -- /bin/sh -c "$app" 2>"$T/err")
rc=$?
expect_eq "with /proc: exit status 5 is returned" 5 "$rc"
lines=()
mapfile -t lines <<<"$out"
expect_eq "with /proc: PID 1 is the static airlock" "pid1=/airlock" "${lines[0]:-}"
expect_eq "with /proc: the app is PID 1's child" "ppid=1" "${lines[1]:-}"
expect_eq "with /proc: the orphan is re-parented to PID 1" "orphan-ppid=1" "${lines[2]:-}"
expect_eq "with /proc: the orphan is reaped" "orphan-reaped" "${lines[3]:-}"
expect_eq "with /proc: nothing but errors logged with -q" "" "$(cat "$T/err")"

finish
