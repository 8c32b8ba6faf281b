#!/bin/bash
# Throughput of the /dev/log collector against busybox syslogd and rsyslogd,
# in one run on the same machine: COUNT messages sent with logger(1) to each
# collector's socket, timed from the first send until the last line is in
# the collector's output. Two senders: one logger (the usual case: one busy
# program) and 4 loggers at once (COUNT in total). Each case runs ROUNDS
# times, interleaved; the median is reported, then the ratios.
#
# usage: bench/syslog.sh [BUILD_DIR] [COUNT] [ROUNDS]
# Not part of the test suite. Needs root (busybox runs in a chroot, since
# its socket path is fixed to /dev/log).
set -u
B=${1:-build}
N=${2:-100000}
ROUNDS=${3:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "$B" && pwd)

sh "$here/tests/install-deps.sh" busybox-static rsyslog bsdutils || exit 1
OURS=("$B/airlock" syslogd)
if ! timeout 5 "${OURS[@]}" --help 2>/dev/null | grep -q 'usage: airlock syslogd'; then
    echo "bench: build airlock first (make B=$B all)" >&2
    exit 1
fi

T=$(mktemp -d /tmp/airlock-bench.XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

# Each start_NAME DIR starts a collector in the background (PID), sets SOCK
# and OUT (where its lines land) and waits until its socket is there.
start_ours() {
    mkdir -p "$1"
    AIRLOCK_ROOT=$1 "${OURS[@]}" >"$1/out" 2>"$1/err" &
    PID=$!
    SOCK=$1/dev/log
    OUT=$1/out
}

start_ours_file() {
    mkdir -p "$1"
    AIRLOCK_ROOT=$1 AIRLOCK_SYSLOG_FILE=/var/log/syslog \
        AIRLOCK_SYSLOG_ROTATE_SIZE=0 "${OURS[@]}" >/dev/null 2>"$1/err" &
    PID=$!
    SOCK=$1/dev/log
    OUT=$1/var/log/syslog
}

# busybox-static (the tests' static app; it replaces Debian's dynamic
# busybox package) needs no library in the chroot.
start_busybox() {
    mkdir -p "$1/dev" "$1/bin"
    cp /usr/bin/busybox "$1/bin/"
    chroot "$1" /bin/busybox syslogd -n -O - >"$1/out" 2>"$1/err" &
    PID=$!
    SOCK=$1/dev/log
    OUT=$1/out
}

start_rsyslog() {
    mkdir -p "$1/work"
    cat >"$1/rsyslog.conf" <<CONF
global(workDirectory="$1/work")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$1/log" RateLimit.Interval="0")
template(name="line" type="string"
         string="%syslogfacility-text%.%syslogseverity-text% %syslogtag%%msg%\n")
*.* action(type="omfile" file="$1/out" template="line")
CONF
    rsyslogd -n -f "$1/rsyslog.conf" -i "$1/pid" >"$1/err" 2>&1 &
    PID=$!
    SOCK=$1/log
    OUT=$1/out
}

count() {
    local n
    n=$(grep -c 'bench' "$1" 2>/dev/null)
    echo "${n:-0}"
}

# run NAME SENDERS ROUND: prints the messages/s (0 when messages were lost).
run() {
    local name=$1 senders=$2 dir=$T/$1-$2-$3 i t0 t1 got prev=-1 still=0
    "start_${name/-/_}" "$dir"
    for ((i = 0; i < 500; i++)); do
        [ -S "$SOCK" ] && break
        sleep 0.01
    done
    sleep 0.2 # let the collector settle after creating its socket
    local loggers=()
    t0=$(date +%s%N)
    for ((i = 0; i < senders; i++)); do
        seq 1 $((N / senders)) | logger --socket "$SOCK" -t bench &
        loggers+=("$!")
    done
    wait "${loggers[@]}"
    # Bounded: 120 s at most, or 3 s without progress.
    for ((i = 0; i < 24000; i++)); do
        got=$(count "$OUT")
        [ "$got" -ge "$N" ] && break
        if [ "$got" = "$prev" ]; then
            still=$((still + 1))
            [ "$still" -ge 600 ] && break
        else
            still=0
        fi
        prev=$got
        sleep 0.005
    done
    t1=$(date +%s%N)
    kill -TERM "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    PID=
    if [ "$got" -lt "$N" ]; then
        echo "# $name ($senders sender(s), round $3): received $got of $N" >&2
        echo 0
    else
        echo $((N * 1000000000 / (t1 - t0)))
    fi
    rm -rf "$dir"
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

NAMES=(ours ours-file busybox rsyslog)
declare -A RATE
for senders in 1 4; do
    declare -A runs=()
    for ((r = 1; r <= ROUNDS; r++)); do
        for name in "${NAMES[@]}"; do
            runs[$name]="${runs[$name]:-} $(run "$name" "$senders" "$r")"
        done
    done
    for name in "${NAMES[@]}"; do
        RATE[$name-$senders]=$(echo "${runs[$name]}" | median)
        echo "# $name, $senders sender(s): rounds:${runs[$name]}"
    done
    unset runs
done

echo
echo "syslog bench: $N messages via logger, median of $ROUNDS rounds, $(nproc) CPUs"
printf '%-28s %14s %14s\n' collector "1 logger" "4 loggers"
for name in "${NAMES[@]}"; do
    case $name in
    ours) label="airlock syslogd (stdout)" ;;
    ours-file) label="airlock syslogd (file)" ;;
    busybox) label="busybox syslogd (stdout)" ;;
    rsyslog) label="rsyslogd (omfile)" ;;
    esac
    printf '%-28s %10s m/s %10s m/s\n' "$label" "${RATE[$name-1]}" "${RATE[$name-4]}"
done
for other in busybox rsyslog; do
    for s in 1 4; do
        o=${RATE[$other-$s]}
        if [ "${o:-0}" -gt 0 ]; then
            ratio=$(awk -v a="${RATE[ours-$s]}" -v b="$o" 'BEGIN {printf "%.2f", a / b}')
        else
            ratio="n/a ($other lost messages)"
        fi
        echo "ratio ours/$other, $s logger(s): $ratio"
    done
done
