#!/bin/sh
# Installs airlock's run-time packages in a Debian 12 image and checks the
# libssh pin: builds before 0.10.6-0+deb12u3 do not verify AES-GCM tags and
# carry known CVEs (see SECURITY.md).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    libssh-4 libsodium23 openssh-sftp-server cron bsdutils procps
have=$(dpkg-query -W -f='${Version}' libssh-4)
if ! dpkg --compare-versions "$have" ge 0.10.6-0+deb12u3; then
    echo "install.sh: libssh-4 $have is older than 0.10.6-0+deb12u3; refusing." \
        "The fixed build is in bookworm-security: add" \
        "'deb http://deb.debian.org/debian-security bookworm-security main'" \
        "to /etc/apt/sources.list (debootstrap leaves it out; debian:12" \
        "images have it) and run this again" >&2
    exit 1
fi
rm -rf /var/lib/apt/lists/*
