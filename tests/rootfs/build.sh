#!/bin/sh
# Builds the Debian bookworm root filesystem the rootfs e2e test runs
# airlock in, once: debootstrap --variant=minbase, then docker/install.sh
# inside it, as the Dockerfile's runtime stage does. The result is cached
# outside the repository under a key made of this script and install.sh, so
# a change to either builds a new one; older ones are removed.
#
# Prints the cached rootfs path on stdout; progress goes to stderr.
# Usage: build.sh REPO_DIR
set -eu
repo=$1
cache=${AIRLOCK_E2E_CACHE:-/var/cache/airlock-e2e}
mirror=${AIRLOCK_E2E_MIRROR:-http://deb.debian.org/debian}
key=$(cat "$0" "$repo/docker/install.sh" | sha256sum | cut -c1-16)
dest=$cache/$key
if [ -f "$dest/.complete" ]; then
    echo "$dest/root"
    exit 0
fi
mkdir -p "$cache"
# One builder at a time; a concurrent run waits (bounded) for the lock.
exec 9>"$cache/.lock"
if ! flock -w 1800 9; then
    echo "rootfs: $cache/.lock held for 30 min; giving up" >&2
    exit 1
fi
if [ -f "$dest/.complete" ]; then
    echo "$dest/root"
    exit 0
fi
for old in "$cache"/*/; do
    [ -d "$old" ] && [ "${old%/}" != "$dest" ] && rm -rf "${old%/}"
done
rm -rf "$dest"
mkdir -p "$dest"
start=$(date +%s)
echo "rootfs: debootstrap bookworm into $dest/root (first run only)" >&2
# timeout bounds a stalled mirror; debootstrap retries single downloads.
if ! timeout 1500 debootstrap --variant=minbase bookworm "$dest/root" \
    "$mirror" >"$dest/debootstrap.log" 2>&1; then
    echo "rootfs: debootstrap failed; last lines of $dest/debootstrap.log:" >&2
    tail -n 20 "$dest/debootstrap.log" >&2
    exit 1
fi
# debootstrap writes only the main suite; an image from debian:12 also has
# the security suite, which carries the libssh install.sh requires.
cat >"$dest/root/etc/apt/sources.list" <<SRC
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SRC
cp "$repo/docker/install.sh" "$dest/root/tmp/install.sh"
# install.sh runs under chroot in a private mount namespace with its own
# /proc, so nothing of the build leaks into the host's mount table.
if ! timeout 900 unshare --mount --fork sh -c '
    mount -t proc proc "$1/proc" && chroot "$1" sh /tmp/install.sh' \
    sh "$dest/root" >"$dest/install.log" 2>&1; then
    echo "rootfs: docker/install.sh failed; last lines of $dest/install.log:" >&2
    tail -n 20 "$dest/install.log" >&2
    exit 1
fi
rm -f "$dest/root/tmp/install.sh"
# The unprivileged user the non-root mode runs as (distroless' "nonroot",
# what an image adds with useradd).
chroot "$dest/root" useradd -K UID_MAX=65535 -u 65532 -U -m -d /home/app -s /bin/bash app
touch "$dest/.complete"
echo "rootfs: built in $(($(date +%s) - start)) s" >&2
echo "$dest/root"
