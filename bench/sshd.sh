#!/bin/bash
# airlock-sshd next to OpenSSH's sshd and dropbear, in one run, on a
# loopback of private namespaces, all three serving the same user with the
# same client key, the OpenSSH client's default cipher and, for all three,
# the curve25519-sha256 key exchange (the only one airlock-sshd offers;
# OpenSSH would otherwise pick the slower sntrup761 hybrid) and no GSSAPI
# attempt (Debian's ssh_config turns it on):
#   1. connect + auth + `exec true` latency (RUNS logins each, interleaved),
#   2. 1 GiB from the server (`head -c 1G /dev/zero | wc -c` on our side),
#   3. memory per idle session: IDLE sessions running `sleep`, the summed
#      Pss of the server's own processes (the sleeps excluded) before and
#      after, divided by IDLE.
# Figures, then ratios airlock/OpenSSH and airlock/dropbear. Prints a table
# and writes it to bench/results/sshd-<date>.md. Asserts nothing.
#
# usage: bench/sshd.sh [BUILD_DIR] [RUNS] [IDLE]
set -u
B=$(cd "${1:-build}" && pwd)
RUNS=${2:-20}
IDLE=${3:-10}
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${AIRLOCK_BENCH_NS:-}" ]; then
    sh "$here/../tests/install-deps.sh" openssh-server dropbear-bin || exit 1
    export AIRLOCK_BENCH_NS=1
    exec unshare --mount --net --pid --fork --mount-proc --kill-child \
        bash "$0" "$B" "$RUNS" "$IDLE"
fi

SSHD_BIN=$B/airlock-sshd
for p in "$SSHD_BIN" /usr/sbin/sshd /usr/sbin/dropbear /usr/bin/dropbearkey; do
    if [ ! -x "$p" ]; then
        echo "bench/sshd.sh: $p missing (make all; apt-get install openssh-server dropbear-bin)"
        exit 1
    fi
done

T=$(mktemp -d /tmp/airlock-bench-sshd.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

mount --make-rprivate /
ip link set lo up
# OpenSSH wants /run/sshd; a private tmpfs keeps the machine's /run as is.
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/sshd

# One user, shell /bin/sh (no rc file runs), in bind-mounted copies of
# /etc/passwd and /etc/group.
U=bench
UID_=3100
HOME_=$T/home/$U
mkdir -p "$T/etc" "$HOME_/.ssh"
sed 's|^root:.*|root:x:0:0:root:/root:/bin/sh|' /etc/passwd >"$T/etc/passwd"
echo "$U:x:$UID_:$UID_:bench:$HOME_:/bin/sh" >>"$T/etc/passwd"
cp /etc/group "$T/etc/group"
echo "$U:x:$UID_:" >>"$T/etc/group"
mount --bind "$T/etc/passwd" /etc/passwd
mount --bind "$T/etc/group" /etc/group
# sshd refuses accounts locked in shadow ("!"); give bench a "*" entry.
if [ -r /etc/shadow ]; then
    cp /etc/shadow "$T/etc/shadow"
    echo "$U:*:19000:0:99999:7:::" >>"$T/etc/shadow"
    chmod 640 "$T/etc/shadow"
    mount --bind "$T/etc/shadow" /etc/shadow
fi

ssh-keygen -q -t ed25519 -N '' -f "$T/client" </dev/null
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" </dev/null
cp "$T/client.pub" "$HOME_/.ssh/authorized_keys"
chmod 700 "$HOME_/.ssh"
chmod 600 "$HOME_/.ssh/authorized_keys"
chown -R "$UID_:$UID_" "$HOME_"
chmod 755 "$T/home"

# airlock-sshd on 2222 (host key generated under its AIRLOCK_ROOT).
mkdir -p "$T/root/etc"
cp "$T/etc/passwd" "$T/etc/group" "$T/root/etc/"
env AIRLOCK_ROOT="$T/root" AIRLOCK_SSH_LISTEN=127.0.0.1 AIRLOCK_SSH_PORT=2222 \
    AIRLOCK_SSH_USER=$U AIRLOCK_AUTHORIZED_KEYS="$(cat "$T/client.pub")" \
    AIRLOCK_SSH_MAX_STARTUPS=100 \
    "$SSHD_BIN" >"$T/airlock.out" 2>"$T/airlock.err" &
PIDS+=($!)
AIRLOCK_PID=$!

# OpenSSH sshd on 2223: its defaults, minus PAM and DNS lookups, with the
# same ed25519 host key type.
cat >"$T/sshd_config" <<EOF
Port 2223
ListenAddress 127.0.0.1
HostKey $T/hostkey
AuthorizedKeysFile $HOME_/.ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PidFile none
MaxStartups 100
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
/usr/sbin/sshd -D -e -f "$T/sshd_config" 2>"$T/openssh.err" &
PIDS+=($!)
OPENSSH_PID=$!

# dropbear on 2224: -F foreground, -E log to stderr, -s no passwords.
/usr/lib/dropbear/dropbearconvert openssh dropbear "$T/hostkey" "$T/hostkey.db" >/dev/null 2>&1 ||
    dropbearkey -t ed25519 -f "$T/hostkey.db" >/dev/null 2>&1
/usr/sbin/dropbear -F -E -s -p 127.0.0.1:2224 -r "$T/hostkey.db" 2>"$T/dropbear.err" &
PIDS+=($!)
DROPBEAR_PID=$!

sshc() { # sshc PORT CMD...
    local port=$1
    shift
    timeout -k 2 120 ssh -p "$port" -i "$T/client" -o BatchMode=yes \
        -o ConnectTimeout=5 -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes \
        -o LogLevel=ERROR -o GSSAPIAuthentication=no \
        -o KexAlgorithms=curve25519-sha256 "$U@127.0.0.1" "$@"
}

names=(airlock openssh dropbear)
ports=(2222 2223 2224)
pids=("$AIRLOCK_PID" "$OPENSSH_PID" "$DROPBEAR_PID")

for i in 0 1 2; do
    ok=0
    for ((n = 0; n < 100; n++)); do
        if [ "$(sshc "${ports[$i]}" echo up 2>/dev/null)" = up ]; then
            ok=1
            break
        fi
        sleep 0.1
    done
    if [ "$ok" -ne 1 ]; then
        echo "bench/sshd.sh: ${names[$i]} does not serve; its log:"
        tail -5 "$T/${names[$i]}.err" 2>/dev/null
        exit 1
    fi
done

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }

echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. Latency: RUNS logins per server, round-robin so load drifts evenly.
declare -A lat
for i in 0 1 2; do : >"$T/lat.$i"; done
for ((r = 0; r < RUNS; r++)); do
    for i in 0 1 2; do
        t0=$(now_ns)
        sshc "${ports[$i]}" true
        t1=$(now_ns)
        echo $(((t1 - t0) / 1000)) >>"$T/lat.$i"
    done
done
for i in 0 1 2; do
    lat[$i]=$(median <"$T/lat.$i")
done

# 2. Throughput: 1 GiB from the server, best of two.
declare -A thr
for i in 0 1 2; do
    best=0
    for r in 1 2; do
        t0=$(now_ns)
        n=$(sshc "${ports[$i]}" 'head -c 1073741824 /dev/zero' | wc -c)
        t1=$(now_ns)
        if [ "$n" -eq 1073741824 ]; then
            mibs=$(awk -v ns=$((t1 - t0)) 'BEGIN {printf "%.0f", 1024 / (ns / 1e9)}')
            [ "$mibs" -gt "$best" ] && best=$mibs
        fi
    done
    thr[$i]=$best
done

# 3. Memory per idle session: Pss of the server's process tree, sleeps
# (the session commands) left out.
tree_pss() { # tree_pss ROOTPID: summed Pss in kB of ROOTPID and descendants
    local all=() p kids sum=0 v
    local queue=("$1")
    while [ ${#queue[@]} -gt 0 ]; do
        p=${queue[0]}
        queue=("${queue[@]:1}")
        all+=("$p")
        kids=$(cat "/proc/$p/task/"*/children 2>/dev/null)
        for k in $kids; do queue+=("$k"); done
    done
    for p in "${all[@]}"; do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && continue
        v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}
declare -A mem
for i in 0 1 2; do
    before=$(tree_pss "${pids[$i]}")
    cl=()
    for ((s = 0; s < IDLE; s++)); do
        sshc "${ports[$i]}" 'exec sleep 60' </dev/null >/dev/null 2>&1 &
        cl+=($!)
    done
    # Wait (bounded) until every session's sleep runs.
    for ((w = 0; w < 100; w++)); do
        [ "$(pgrep -c -x sleep)" -ge "$IDLE" ] && break
        sleep 0.1
    done
    sleep 0.5
    after=$(tree_pss "${pids[$i]}")
    mem[$i]=$(((after - before) / IDLE))
    kill "${cl[@]}" 2>/dev/null
    # The session sleeps, in our own PID namespace only.
    for p in $(pgrep -x sleep); do kill "$p" 2>/dev/null; done
    wait "${cl[@]}" 2>/dev/null
    sleep 0.5
done

echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

date_=$(date -u +%Y-%m-%d)
out=$here/results/sshd-$date_.md
mkdir -p "$here/results"
{
    echo "# airlock-sshd vs OpenSSH sshd vs dropbear ($date_)"
    echo
    echo "libssh $(dpkg-query -W -f='${Version}' libssh-4 2>/dev/null), $(/usr/sbin/sshd -V 2>&1 | head -n 1 || true), dropbear $(dpkg-query -W -f='${Version}' dropbear-bin 2>/dev/null);"
    echo "client: $(ssh -V 2>&1), default cipher, KexAlgorithms=curve25519-sha256, no GSSAPI;"
    echo "loopback in a private network namespace;"
    echo "$(nproc) CPUs, load at end $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "| | airlock-sshd | OpenSSH sshd | dropbear | airlock/OpenSSH | airlock/dropbear |"
    echo "|---|---|---|---|---|---|"
    printf '| connect+auth+exec true, median of %d (ms) | %s | %s | %s | %s | %s |\n' "$RUNS" \
        "$(awk -v v="${lat[0]}" 'BEGIN {printf "%.1f", v / 1000}')" \
        "$(awk -v v="${lat[1]}" 'BEGIN {printf "%.1f", v / 1000}')" \
        "$(awk -v v="${lat[2]}" 'BEGIN {printf "%.1f", v / 1000}')" \
        "$(ratio "${lat[0]}" "${lat[1]}")" "$(ratio "${lat[0]}" "${lat[2]}")"
    printf '| 1 GiB from the server, best of 2 (MiB/s) | %s | %s | %s | %s | %s |\n' \
        "${thr[0]}" "${thr[1]}" "${thr[2]}" \
        "$(ratio "${thr[0]}" "${thr[1]}")" "$(ratio "${thr[0]}" "${thr[2]}")"
    printf '| memory per idle session, Pss (KiB) | %s | %s | %s | %s | %s |\n' \
        "${mem[0]}" "${mem[1]}" "${mem[2]}" \
        "$(ratio "${mem[0]}" "${mem[1]}")" "$(ratio "${mem[0]}" "${mem[2]}")"
    echo
    echo "Latency: lower is better; throughput: higher is better; memory: lower is better."
    echo "Per idle session: airlock-sshd runs one connection process, OpenSSH two"
    echo "(privileged monitor + user child), dropbear one."
} | tee "$out"
