#!/bin/sh
# The SSH server needs libssh-4 >= 0.10.6-0+deb12u3: older Debian builds
# lack the AES-GCM integrity fix (CVE-2026-59847) and other CVE fixes.
# Exits 0 when the installed package is recent enough.
set -u
min=0.10.6-0+deb12u3
v=$(dpkg-query -W -f='${Version}' libssh-4 2>/dev/null) || {
    echo "check-libssh-version: libssh-4 is not installed"
    exit 1
}
if dpkg --compare-versions "$v" ge "$min"; then
    echo "check-libssh-version: libssh-4 $v >= $min"
    exit 0
fi
echo "check-libssh-version: libssh-4 $v is older than $min"
exit 1
