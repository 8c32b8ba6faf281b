#!/bin/bash
# `make deb` output ($B/airlock_VERSION_ARCH.deb): its control fields and
# file list, that apt finds its dependencies satisfiable here, and an
# install with `dpkg --root` into an empty root (its own dpkg database,
# dependencies forced; the package has no maintainer script): the files,
# modes and working binaries, the packaged cron service, then a clean
# removal. Nothing is installed on the machine itself.
# The single-quoted script below is expanded by the inner shell, as meant.
# shellcheck disable=SC2016
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

VERSION=$(cat "$B/../VERSION")
ARCH=$(dpkg --print-architecture)
DEB=$B/airlock_${VERSION}_$ARCH.deb
if [ ! -f "$DEB" ]; then
    not_ok "$DEB not built (make deb)"
    finish
    exit
fi
with_ssh=0
[ -x "$B/airlock-sshd" ] && with_ssh=1

# ---- control fields -------------------------------------------------------
field() { dpkg-deb -f "$DEB" "$1"; }
expect_eq "Package" airlock "$(field Package)"
expect_eq "Version" "$VERSION" "$(field Version)"
expect_eq "Architecture" "$ARCH" "$(field Architecture)"
expect_eq "Recommends" "cron, openssh-sftp-server" "$(field Recommends)"
deps=$(field Depends)
check "Depends: libc6 (from dpkg-shlibdeps)" grep -qE '(^|, )libc6 \(>= [0-9.]+\)' <<<"$deps"
if [ "$with_ssh" = 1 ]; then
    check "Depends: libssh-4 (>= 0.10.6-0+deb12u3)" \
        grep -qF 'libssh-4 (>= 0.10.6-0+deb12u3)' <<<"$deps"
    check "Depends: libsodium23" grep -qE '(^|, )libsodium23( |,|$)' <<<"$deps"
fi
size=$(field Installed-Size)
check "Installed-Size is the unpacked size in KiB (between 100 and 2000)" \
    test "${size:-0}" -gt 100 -a "${size:-0}" -lt 2000
check "md5sums covers every file" \
    test "$(dpkg-deb -I "$DEB" md5sums | wc -l)" -eq "$(dpkg-deb -c "$DEB" | grep -c '^-')"

# ---- contents ---------------------------------------------------------------
want="-rwxr-xr-x root/root ./usr/sbin/airlock
-rwxr-xr-x root/root ./usr/sbin/setuser
-rwxr-xr-x root/root ./usr/share/airlock/service/cron/run
-rw-r--r-- root/root ./usr/share/doc/airlock/README.md
-rw-r--r-- root/root ./usr/share/doc/airlock/SECURITY.md
-rw-r--r-- root/root ./usr/share/man/man8/airlock.8.gz
-rw-r--r-- root/root ./usr/share/man/man8/setuser.8.gz"
if [ "$with_ssh" = 1 ]; then
    want="$want
-rwxr-xr-x root/root ./usr/sbin/airlock-sshd
-rw-r--r-- root/root ./usr/share/man/man8/airlock-sshd.8.gz"
fi
expect_eq "dpkg-deb -c: exactly these files, owners and modes" \
    "$(LC_ALL=C sort <<<"$want")" \
    "$(dpkg-deb -c "$DEB" | awk '$1 ~ /^-/ { print $1, $2, $6 }' | LC_ALL=C sort)"
expect_eq "dpkg-deb -c: every directory root-owned 0755" "" \
    "$(dpkg-deb -c "$DEB" | awk '$1 ~ /^d/ && ($1 != "drwxr-xr-x" || $2 != "root/root")')"

# ---- dependencies resolve here ----------------------------------------------
if timeout 60 apt-get install -s "$DEB" >"$T/apt" 2>&1; then
    ok "apt-get install -s: the dependencies are satisfiable"
else
    not_ok "apt-get install -s: $(tail -n 3 "$T/apt")"
fi

# ---- dpkg --root into an empty root -----------------------------------------
R=$T/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
: >"$R/var/lib/dpkg/status"
if timeout 60 dpkg --root="$R" --force-depends -i "$DEB" >"$T/dpkg" 2>&1; then
    ok "dpkg --root -i"
else
    not_ok "dpkg --root -i: $(tail -n 3 "$T/dpkg")"
fi
expect_eq "dpkg --root -s: installed" "install ok installed" \
    "$(dpkg --root="$R" -s airlock 2>/dev/null | sed -n 's/^Status: //p')"
bins=(airlock setuser)
[ "$with_ssh" = 1 ] && bins+=(airlock-sshd)
for bin in "${bins[@]}"; do
    f=$R/usr/sbin/$bin
    expect_eq "installed $bin runs" "$bin $VERSION" "$("$f" --version 2>&1)"
    expect_eq "installed $bin is stripped" "" "$(readelf -SW "$f" | grep -E '\.(symtab|debug_info)')"
    zcat "$R/usr/share/man/man8/$bin.8.gz" | groff -man -ww -z -Tutf8 >/dev/null 2>"$T/err"
    expect_eq "installed man page $bin(8) renders without warnings" "" "$(cat "$T/err")"
done
expect_eq "installed airlock links libc only" "libc.so.6" \
    "$(readelf -d "$R/usr/sbin/airlock" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | xargs)"

# The packaged cron service, linked into /etc/service as the README says,
# starts the machine's cron under the installed airlock (bounded: 100 polls
# of 50 ms for a cron process in the new PID namespace).
if command -v cron >/dev/null; then
    mkdir -p "$T/aroot/etc/service"
    ln -s "$R/usr/share/airlock/service/cron" "$T/aroot/etc/service/cron"
    AIRLOCK_ROOT=$T/aroot AIRLOCK_SYSLOG=off timeout 20 \
        unshare --pid --fork --mount-proc --kill-child "$R/usr/sbin/airlock" -q -- \
        sh -c 'i=0; while [ $i -lt 100 ]; do pgrep -x cron >/dev/null && exit 0
            sleep 0.05; i=$((i + 1)); done; exit 1'
    expect_eq "the packaged cron service, linked into /etc/service, starts cron" 0 "$?"
else
    not_ok "no cron here to run the packaged service with"
fi

if timeout 60 dpkg --root="$R" --force-depends -r airlock >"$T/dpkg" 2>&1; then
    ok "dpkg --root -r"
else
    not_ok "dpkg --root -r: $(tail -n 3 "$T/dpkg")"
fi
expect_eq "nothing of the package is left after removal" "" \
    "$(cd "$R" && find usr -type f 2>/dev/null)"

finish
