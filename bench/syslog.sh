#!/bin/bash
# Messages per second into /dev/log with no loss: airlock's syslog collector
# (writing to stdout, and to a file) against busybox syslogd (stdout) and
# rsyslogd (omfile, the reference), in one run on the same machine. COUNT
# messages sent with logger(1) to each collector's socket, timed from the
# first send until the last line is in the collector's output, then the
# lines counted: a collector that wrote fewer lines than were sent (none
# for 3 s, or 120 s in all) lost messages, and that round's rate is left
# out and the loss reported. Two cases, each a phase (bench/lib.sh): one
# logger (one busy program) and 4 loggers at once (COUNT in total). Each
# case runs ROUNDS rounds, the collectors' order rotated per round;
# min / median / max over the rounds and the per-round ratio to rsyslogd,
# into $BENCH_OUT/metrics.jsonl, the markdown to $BENCH_OUT/syslog.md and
# bench/results/syslog-<date>.md. Later rounds are skipped once the run has
# taken BENCH_BUDGET seconds (default 240). Asserts nothing.
#
# usage: bench/syslog.sh [BUILD_DIR] [COUNT] [ROUNDS]
# Needs root (busybox runs in a chroot, since its socket path is fixed to
# /dev/log).
set -u
B=${1:-build}
N=${2:-300000}
ROUNDS=${3:-5}
BUDGET=${BENCH_BUDGET:-240}
here=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "$B" && pwd)
# shellcheck source=bench/lib.sh
. "$here/bench/lib.sh"
# shellcheck source=bench/helpers/figures.sh
. "$here/bench/helpers/figures.sh"

sh "$here/tests/install-deps.sh" busybox-static rsyslog bsdutils jq || exit 1
OURS=("$B/airlock" syslogd)
if ! timeout 5 "${OURS[@]}" --help 2>/dev/null | grep -q 'usage: airlock syslogd'; then
    echo "bench: build airlock first (make B=$B all)" >&2
    exit 1
fi

bench_cpu_setup
T=$(mktemp -d /tmp/airlock-syslog.XXXXXX)
PID=
LOGGERS=()
cleanup() {
    [ "${#LOGGERS[@]}" -gt 0 ] && kill -KILL "${LOGGERS[@]}" 2>/dev/null
    if [ -n "$PID" ]; then
        kill -KILL "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    rm -rf "$T"
    bench_cpu_teardown
}
trap cleanup EXIT

# Each start_NAME DIR starts a collector in the background (PID), sets SOCK
# and OUT (where its lines land).
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

# count FILE: the bench's messages in FILE (logger -t bench: "bench: N").
count() {
    local n
    n=$(grep -c 'bench: [0-9]' "$1" 2>/dev/null)
    echo "${n:-0}"
}

# run NAME SENDERS ROUND: prints "RATE RECEIVED": the messages/s, or x
# when fewer than SENT (N rounded down to a multiple of SENDERS) arrived.
run() {
    local name=$1 senders=$2 dir=$T/$1-$2-$3 i t0 t1 got=0 prev=-1 still=0
    local sent=$((N / senders * senders))
    "start_${name/-/_}" "$dir"
    for ((i = 0; i < 500; i++)); do
        [ -S "$SOCK" ] && break
        sleep 0.01
    done
    sleep 0.2 # let the collector settle after creating its socket
    LOGGERS=()
    t0=$(date +%s%N)
    for ((i = 0; i < senders; i++)); do
        seq 1 $((N / senders)) | logger --socket "$SOCK" -t bench &
        LOGGERS+=("$!")
    done
    wait "${LOGGERS[@]}"
    LOGGERS=()
    # Bounded: 120 s at most, or 3 s without progress.
    for ((i = 0; i < 24000; i++)); do
        got=$(count "$OUT")
        [ "$got" -ge "$sent" ] && break
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
    if [ "$got" -lt "$sent" ]; then
        echo "# $name ($senders sender(s), round $3): received $got of $sent" >&2
        echo "x $got"
    else
        echo "$((sent * 1000000000 / (t1 - t0))) $got"
    fi
    rm -rf "$dir"
}

NAMES=(ours ours-file busybox rsyslog)
declare -A LABEL=([ours]="airlock syslogd (stdout)" [ours-file]="airlock syslogd (file)"
    [busybox]="busybox syslogd (stdout)" [rsyslog]="rsyslogd (omfile)")
REF=rsyslog
declare -A rate lost done_
LOAD_START="$(uptime) (/proc/loadavg: $(cat /proc/loadavg))"
bench_version "airlock syslogd" "$(airlock_version "$here")"
bench_version "busybox syslogd" "$(busybox 2>&1 | head -n 1)"
bench_version rsyslogd "$(dpkg-query -W -f='${Version}' rsyslog 2>/dev/null)"
bench_version logger "$(logger --version 2>&1 | head -n 1)"

for senders in 1 4; do
    case=$senders\ logger
    [ "$senders" -gt 1 ] && case="$senders loggers"
    phase_begin "$case"
    done_[$senders]=0
    for ((r = 0; r < ROUNDS; r++)); do
        if [ "$SECONDS" -ge "$BUDGET" ]; then
            echo "# $case: round $((r + 1)) and later skipped (time budget)"
            break
        fi
        for ((k = 0; k < ${#NAMES[@]}; k++)); do
            name=${NAMES[$(((k + r) % ${#NAMES[@]}))]}
            read -r v got <<<"$(run "$name" "$senders" "$((r + 1))")"
            rate[$name,$senders]="${rate[$name,$senders]:-} $v"
            lost[$name,$senders]="${lost[$name,$senders]:-} $((N / senders * senders - got))"
        done
        done_[$senders]=$((r + 1))
    done
    for name in "${NAMES[@]}"; do
        echo "# $name, $case: messages/s per round:${rate[$name,$senders]:-}; lost:${lost[$name,$senders]:-}"
        figure "$case" "messages per second into /dev/log, none lost" msg/s "${LABEL[$name]}" \
            "${rate[$name,$senders]:-}" "${LABEL[$REF]}" "${rate[$REF,$senders]:-}"
    done
    for name in "${NAMES[@]}"; do
        figure "$case" "messages lost of $((N / senders * senders))" count "${LABEL[$name]}" \
            "${lost[$name,$senders]:-}"
    done
    phase_end
done
LOAD_END="$(uptime) (/proc/loadavg: $(cat /proc/loadavg))"

date_=$(date -u +%Y-%m-%d)
mkdir -p "$here/bench/results"
{
    echo "## syslog: airlock's collector vs busybox syslogd vs rsyslogd ($date_)"
    echo
    echo "$N messages (\`seq 1 $N\`) sent with $(logger --version 2>&1 | head -n 1) to each"
    echo "collector's socket, by one logger and by 4 at once ($((N / 4 * 4)) in all), timed"
    echo "from the first send until the last line is in the collector's output; the"
    echo "lines are then counted: a round in which a collector wrote fewer lines than"
    echo "were sent (none for 3 s) is left out of its rate and its loss reported."
    echo "Rounds: ${done_[1]} (1 logger), ${done_[4]} (4 loggers), the collectors' order"
    echo "rotated per round. Reference: rsyslogd $(dpkg-query -W -f='${Version}' rsyslog 2>/dev/null)"
    echo "(imuxsock without rate limit, omfile); busybox $(busybox 2>&1 | head -n 1 | cut -d' ' -f2);"
    echo "$(nproc) CPUs; the run took $SECONDS s. Higher rates are better."
    echo
    echo "- load at start: $LOAD_START"
    echo "- load at end: $LOAD_END"
    echo
    phase_table
    for case in "1 logger" "4 loggers"; do
        echo
        echo "### $case"
        echo
        metric_table "$case"
    done
    echo
    echo "Per round (messages/s, x: messages lost):"
    echo
    for senders in 1 4; do
        for name in "${NAMES[@]}"; do
            echo "- ${LABEL[$name]}, $senders logger(s):${rate[$name,$senders]:-}; lost:${lost[$name,$senders]:-}"
        done
    done
} >"$BENCH_OUT/syslog.md"
cp "$BENCH_OUT/syslog.md" "$here/bench/results/syslog-$date_.md"
cat "$BENCH_OUT/syslog.md"
echo "# figures: $BENCH_OUT/metrics.jsonl, markdown: $BENCH_OUT/syslog.md and bench/results/syslog-$date_.md"
