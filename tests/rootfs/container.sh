#!/bin/sh
# The runtime half of the rootfs e2e: runs as PID 1 of fresh PID, mount,
# UTS, IPC and network namespaces (run.sh starts it under unshare), builds
# the container's mounts as Docker or a Kubernetes kubelet would, and
# execs airlock as PID 1 inside the chroot.
#
# Usage: container.sh ROOTFS LAYERS_DIR MODE [NAME=VALUE...]
#   ROOTFS      the cached debootstrap tree (never written: an overlay lower)
#   LAYERS_DIR  holds install/ (make install DESTDIR=), extra/ (test files),
#               upper/ work/ merged/ and secret/ (the keys volume)
#   MODE        root | caps (Docker's default capability set) |
#               rootnocaps (uid 0, read-only root, no capabilities) |
#               nonroot (uid 65532, read-only root, no capabilities) |
#               deb (as root, but airlock comes from LAYERS_DIR/airlock.deb,
#               installed with apt-get in the container, not from install/)
#   NAME=VALUE  the container's environment (`docker run -e`)
set -eu
rootfs=$1
dir=$2
mode=$3
shift 3
m=$dir/merged

# Nothing mounted here may propagate back to the host's mount table.
mount --make-rprivate /
lower=$dir/extra:$dir/install:$rootfs
[ "$mode" = deb ] && lower=$dir/extra:$rootfs
if [ "$mode" = nonroot ] || [ "$mode" = rootnocaps ]; then
    # An overlay without an upper layer is read-only:
    # readOnlyRootFilesystem: true.
    mount -t overlay overlay -o "lowerdir=$lower" "$m"
    run_mode=1777 # an emptyDir is world-writable
else
    mount -t overlay overlay \
        -o "lowerdir=$lower,upperdir=$dir/upper,workdir=$dir/work" "$m"
    run_mode=755
fi
mount -t proc -o nosuid,nodev,noexec proc "$m/proc"
mount -t tmpfs -o nosuid,mode=755,size=65536k tmpfs "$m/dev"
for n in null zero full random urandom tty; do
    touch "$m/dev/$n"
    mount --bind "/dev/$n" "$m/dev/$n"
done
mkdir "$m/dev/pts" "$m/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$m/dev/pts"
ln -s pts/ptmx "$m/dev/ptmx"
ln -s /proc/self/fd "$m/dev/fd"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$m/dev/shm"
# E2E_NO_RUN=1: no volume at /run (a read-only root without an emptyDir).
if [ "${E2E_NO_RUN:-0}" != 1 ]; then
    mount -t tmpfs -o "nosuid,nodev,mode=$run_mode" tmpfs "$m/run"
fi
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$m/tmp"
# The keys "Secret": read-only, with the ..data layout the kubelet makes.
mount --bind "$dir/secret" "$m/etc/airlock/authorized_keys.d"
mount -o remount,bind,ro "$m/etc/airlock/authorized_keys.d"
hostname airlock-e2e
ip link set lo up

airlock=/usr/local/sbin/airlock
if [ "$mode" = deb ]; then
    # As an image would: apt-get install the package (its dependencies are
    # already in the root filesystem, so nothing is downloaded; no
    # Recommends), and link the cron service the package ships as an
    # example, as the README says.
    cp "$dir/airlock.deb" "$m/tmp/airlock.deb"
    if ! chroot "$m" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends /tmp/airlock.deb >"$dir/apt.log" 2>&1; then
        echo "container.sh: apt-get install of the .deb failed:" >&2
        cat "$dir/apt.log" >&2
        exit 1
    fi
    rm -rf "$m/etc/service/cron"
    ln -s /usr/share/airlock/service/cron "$m/etc/service/cron"
    airlock=/usr/sbin/airlock
    mode=root
fi
case $mode in
root)
    exec env -i "$@" chroot "$m" "$airlock" -- /usr/local/bin/e2e-app
    ;;
caps)
    # Docker's default set (moby oci/caps/defaults.go).
    set_caps=-all,+chown,+dac_override,+fsetid,+fowner,+mknod,+net_raw
    set_caps=$set_caps,+setgid,+setuid,+setfcap,+setpcap,+net_bind_service
    set_caps=$set_caps,+sys_chroot,+kill,+audit_write
    exec env -i "$@" chroot "$m" setpriv --bounding-set="$set_caps" \
        --inh-caps=-all "$airlock" -- /usr/local/bin/e2e-app
    ;;
rootnocaps)
    # runAsUser: 0 with capabilities: drop: [ALL] and
    # readOnlyRootFilesystem (a locked-down pod that still runs as root):
    # root's uid, none of root's powers.
    exec env -i "$@" chroot "$m" setpriv --bounding-set=-all --inh-caps=-all \
        "$airlock" -- /usr/local/bin/e2e-app
    ;;
nonroot)
    # runAsUser: 65532, capabilities: drop: [ALL],
    # allowPrivilegeEscalation: false.
    exec env -i "$@" chroot "$m" setpriv --reuid=65532 --regid=65532 \
        --clear-groups --bounding-set=-all --inh-caps=-all --no-new-privs \
        "$airlock" -- /usr/local/bin/e2e-app
    ;;
esac
echo "container.sh: unknown mode '$mode'" >&2
exit 2
