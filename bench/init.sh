#!/bin/bash
# airlock as PID 1 next to tini (the reference), dumb-init and catatonit
# (the Debian packages) and, when BENCH_MY_INIT=/path/to/my_init is given,
# phusion's my_init, all in one run on this machine, every section in
# rounds that take the inits in another order each time:
#   1. start-up overhead: `unshare --pid --fork --mount-proc INIT /bin/true`
#      minus the same without an init (hyperfine -N, warm-up), airlock with
#      AIRLOCK_SYSLOG=off, with --no-syslog and with its defaults;
#   2. memory of PID 1 while its app sleeps: VmRSS, Pss, USS;
#   3. reaping N orphans (BENCH_ORPHANS, 10,000): exiting at once, and
#      handed off as zombies by their exiting parent (tests/helpers/orphans);
#   4. stop: SIGTERM to the init while the app has left a daemon behind (a
#      double fork, its own session): time until the init has exited, and
#      whether the daemon got SIGTERM (tests/helpers/sigbench);
#   5. signal forwarding: SIGUSR1 sent to the init until the app's handler
#      runs (tests/helpers/sigbench), BENCH_SIGNALS per round;
#   6. binary size.
# Each figure is the min / median / max over the rounds, and its ratio to
# tini computed within each round (min / median / max of those ratios).
# Writes $BENCH_OUT/init.md and records into $BENCH_OUT (bench/lib.sh);
# bench/run.sh then makes bench/results/DATE.{md,json,svg} of it.
#
# usage: bench/init.sh [BUILD_DIR] [STARTUP_ROUNDS] [ROUNDS]
#   STARTUP_ROUNDS  hyperfine rounds (default 10) of BENCH_STARTUP_RUNS
#                   runs per init (default 30) after 3 warm-up runs
#   ROUNDS          rounds of sections 2-5 (default 7)
#   (or BENCH_STARTUP_ROUNDS, BENCH_ROUNDS in the environment, for run.sh)
#   BENCH_ORPHANS (10000), BENCH_SIGNALS (200), BENCH_MY_INIT (unset)
# Not part of the test suite: it prints figures, it asserts nothing. Needs
# root (PID and mount namespaces). About 2 minutes on 2 CPUs.
set -u
B=$(cd "${1:-build}" && pwd) || exit 1
SROUNDS=${2:-${BENCH_STARTUP_ROUNDS:-10}}
ROUNDS=${3:-${BENCH_ROUNDS:-7}}
SRUNS=${BENCH_STARTUP_RUNS:-30}
N=${BENCH_ORPHANS:-10000}
NSIG=${BENCH_SIGNALS:-200}
MY_INIT=${BENCH_MY_INIT:-}
here=$(cd "$(dirname "$0")/.." && pwd)

if [ "$(id -u)" != 0 ]; then
    echo "bench/init.sh: needs root (unshare --pid)" >&2
    exit 1
fi
if [ -z "${AIRLOCK_BENCH_INIT_NS:-}" ]; then
    pkgs="tini dumb-init catatonit hyperfine jq util-linux procps binutils"
    [ -n "$MY_INIT" ] && pkgs="$pkgs python3"
    # shellcheck disable=SC2086 # a list of package names
    sh "$here/tests/install-deps.sh" $pkgs || exit 1
    if ! timeout 5 "$B/airlock" --version 2>/dev/null | grep -q '^airlock '; then
        echo "bench/init.sh: build airlock first (make B=$B all)" >&2
        exit 1
    fi
    if [ ! -x "$B/tests/helpers/orphans" ] || [ ! -x "$B/tests/helpers/sigbench" ]; then
        make -s -C "$here" B="$B" test-helpers >/dev/null || exit 1
    fi
    # A mount namespace of its own: the overlay on /etc (for my_init) and
    # every mount below go away with the bench, whatever ends it.
    export AIRLOCK_BENCH_INIT_NS=1
    exec unshare --mount --propagation private bash "$0" "$B" "$SROUNDS" "$ROUNDS"
fi

# shellcheck source=bench/lib.sh
. "$here/bench/lib.sh"
bench_cpu_setup
ORPHANS=$B/tests/helpers/orphans
SIGBENCH=$B/tests/helpers/sigbench

T=$(mktemp -d /tmp/airlock-bench-init.XXXXXX)
BGPID=
cleanup() {
    # The one init running in the background, if any: unshare --kill-child
    # takes its namespace with it.
    if [ -n "$BGPID" ]; then
        kill -KILL "$BGPID" 2>/dev/null
        wait "$BGPID" 2>/dev/null
    fi
    umount -l /etc 2>/dev/null
    umount -l "$T/ov" 2>/dev/null
    rm -rf "$T"
    bench_cpu_teardown
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$T/root"

# phusion's my_init writes /etc/container_environment*: it runs with /etc
# as an overlay whose upper layer is a tmpfs of this bench. It is a Python
# script run through its #! line, as in a phusion image.
if [ -n "$MY_INIT" ]; then
    mkdir -p "$T/ov"
    if [ ! -r "$MY_INIT" ] || ! head -n 1 "$MY_INIT" | grep -q python; then
        echo "# BENCH_MY_INIT=$MY_INIT is not phusion's my_init (a Python script): left out"
        MY_INIT=
    elif ! mount -t tmpfs -o size=16m tmpfs "$T/ov" ||
        ! mkdir -p "$T/ov/up" "$T/ov/work" ||
        ! mount -t overlay overlay \
            -o "lowerdir=/etc,upperdir=$T/ov/up,workdir=$T/ov/work" /etc; then
        echo "# no overlay on /etc: my_init left out (it would write to this machine's /etc)"
        MY_INIT=
    else
        cp "$MY_INIT" "$T/my_init" && chmod 755 "$T/my_init"
    fi
fi

# Every init runs with the same small environment (airlock copies its
# environment to /etc/container_environment at start, so a big one would
# cost it more than the others). AIRLOCK_ROOT keeps airlock off the
# machine's /etc and /dev/log, AIRLOCK_SSH=off leaves its SSH server out,
# AIRLOCK_SYSLOG=off its syslog collector: the bench measures the init.
# The peers ignore these variables. airlock-defaults runs without
# AIRLOCK_SYSLOG, as a container gets it by default.
BASEENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    HOME="$T" AIRLOCK_ROOT="$T/root" AIRLOCK_SSH=off)
ENV_OFF=(env -i "${BASEENV[@]}" AIRLOCK_SYSLOG=off)
ENV_DEF=(env -i "${BASEENV[@]}")
NS=(unshare --pid --fork --mount-proc)

# How each init is spelled in front of the app. As PID 1 tini reaps
# without -s; dumb-init takes no flags; catatonit and tini take `--`.
declare -A PREFIX PATHOF
PREFIX[none]=""
PREFIX[airlock]="$B/airlock -q --"
PREFIX[airlock-no-syslog]="$B/airlock -q --no-syslog --"
PREFIX[airlock-defaults]="$B/airlock -q --"
PREFIX[tini]="$(command -v tini) --"
PREFIX[dumb-init]="$(command -v dumb-init)"
PREFIX[catatonit]="$(command -v catatonit) --"
PREFIX[my_init]="$T/my_init --quiet --skip-startup-files --skip-runit --"
INITS=(airlock tini dumb-init catatonit)
[ -n "$MY_INIT" ] && INITS+=(my_init)
for i in "${!PREFIX[@]}"; do
    PATHOF[$i]=${PREFIX[$i]%% *}
done
# envof NAME: the env command line for NAME.
envof() {
    if [ "$1" = airlock-defaults ]; then
        printf '%s\n' "${ENV_DEF[@]}"
    else
        printf '%s\n' "${ENV_OFF[@]}"
    fi
}

# rotate ROUND NAME...: the names, starting at the ROUND-th, every other
# round backwards: each init meets the machine early and late in a round.
rotate() {
    local r=$1 k n
    shift
    n=$#
    local -a l=("$@")
    for ((k = 0; k < n; k++)); do
        if ((r % 2)); then
            echo "${l[(k + r - 1) % n]}"
        else
            echo "${l[(2 * n - 1 - k + r - 1) % n]}"
        fi
    done
}

# in_rounds FUNCTION NAME...: FUNCTION NAME for every name, in each of
# ROUNDS rounds, in the order of that round.
in_rounds() {
    local fn=$1 r name
    shift
    for ((r = 1; r <= ROUNDS; r++)); do
        for name in $(rotate "$r" "$@"); do
            "$fn" "$name"
        done
    done
}

# Per-round values: V[name/figure] holds one word per round, "-" for a
# round that gave nothing, so that rounds stay paired by position.
declare -A V
add() { V[$1]="${V[$1]:-} ${2:--}"; }
mmm() { min_med_max "${V[$1]:-}"; }
# metric SECTION FIGURE UNIT NAME: records V[NAME/FIGURE] (min/median/max
# over the rounds) with its per-round ratio to tini's.
metric() {
    local a b c ra rb rc ref=tini
    read -r a b c < <(mmm "$4/$2")
    [ "$4" = tini ] && ref=-
    # airlock-defaults has its own none and tini, run in its environment.
    if [ "$4" = airlock-defaults ] && [ -n "${V[def-tini/$2]:-}" ]; then
        read -r ra rb rc < <(round_ratios "${V[$4/$2]}" "${V[def-tini/$2]}")
    else
        read -r ra rb rc < <(round_ratios "${V[$4/$2]:-}" "${V[tini/$2]:-}")
    fi
    bench_metric "$1" "$2" "$3" "$4" "$ref" "$a" "$b" "$c" "$ra" "$rb" "$rc"
}
# row FIGURE NAME [DIGITS]: "| min / median / max | ratio min / median / max |"
row() {
    local a b c ra rb rc d=${3:-2}
    read -r a b c < <(mmm "$2/$1")
    if [ "$2" = airlock-defaults ] && [ -n "${V[def-tini/$1]:-}" ]; then
        read -r ra rb rc < <(round_ratios "${V[$2/$1]}" "${V[def-tini/$1]}")
    else
        read -r ra rb rc < <(round_ratios "${V[$2/$1]:-}" "${V[tini/$1]:-}")
    fi
    fmt() { awk -v d="$d" -v x="$1" 'BEGIN { if (x ~ /^-?[0-9.e+-]+$/) printf "%.*f", d, x; else printf "n/a" }'; }
    printf '| %s / **%s** / %s |' "$(fmt "$a")" "$(fmt "$b")" "$(fmt "$c")"
    if [ "$2" = tini ]; then
        printf ' 1 |'
    else
        d=2
        printf ' %s / **%s** / %s |' "$(fmt "$ra")" "$(fmt "$rb")" "$(fmt "$rc")"
    fi
}

STARTED=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
echo "# init bench: $(nproc) CPUs, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- 1. start-up
# A round is two hyperfine invocations, back to back, their order swapped
# every round: the inits with AIRLOCK_SYSLOG=off in the environment, and
# airlock-defaults with none and tini again, without it. hyperfine gives
# every command of an invocation the same environment, and an `env` in the
# measured command would be one more exec.
echo "# 1. start-up: $SROUNDS rounds of $SRUNS runs per init (hyperfine -N, 3 warm-up runs)"
phase_begin startup
hf_args() {
    local name
    for name in "$@"; do
        # The = form: hyperfine's -n would take the next words as names too.
        echo "--command-name=$name"
        echo "${NS[*]} ${PREFIX[${name#def-}]:+${PREFIX[${name#def-}]} }/bin/true"
    done
}
hf() { # hf ROUND SET NAME...: one invocation, per-command medians into V
    local r=$1 set=$2 name med
    shift 2
    local -a args envc order
    mapfile -t order < <(rotate "$r" "$@")
    mapfile -t args < <(hf_args "${order[@]}")
    mapfile -t envc < <(envof "$set")
    if timeout -k 5 120 "${envc[@]}" hyperfine -N --style none --warmup 3 \
        --runs "$SRUNS" --export-json "$T/su.json" "${args[@]}" >/dev/null 2>"$T/hf.err"; then
        while read -r name med; do
            add "$name/startup" "$med"
        done < <(jq -r '.results[] | "\(.command) \(.median * 1000)"' "$T/su.json")
    else
        echo "# start-up round $r ($set) failed: $(tail -n 1 "$T/hf.err")" >&2
        for name in "$@"; do add "$name/startup" -; done
    fi
}
STARTUP_A=(none "${INITS[@]}" airlock-no-syslog)
STARTUP_B=(def-none def-tini airlock-defaults)
for ((r = 1; r <= SROUNDS; r++)); do
    if ((r % 2)); then
        hf "$r" off "${STARTUP_A[@]}"
        hf "$r" airlock-defaults "${STARTUP_B[@]}"
    else
        hf "$r" airlock-defaults "${STARTUP_B[@]}"
        hf "$r" off "${STARTUP_A[@]}"
    fi
done
# Overhead per round: the init's median minus no init's, same invocation.
STARTUP_NAMES=("${INITS[@]}" airlock-no-syslog airlock-defaults def-tini)
for name in "${STARTUP_NAMES[@]}"; do
    base=none
    case $name in airlock-defaults | def-*) base=def-none ;; esac
    V[$name/overhead]=$(paste -d' ' <(echo "${V[$name/startup]:-}" | tr ' ' '\n' | grep .) \
        <(echo "${V[$base/startup]:-}" | tr ' ' '\n' | grep .) |
        awk '{ if ($1 ~ /^[0-9.]/ && $2 ~ /^[0-9.]/) printf " %.4f", $1 - $2; else printf " -" }')
done
for name in none "${STARTUP_NAMES[@]}"; do
    echo "# $name: start-up median ms per round:${V[$name/startup]:-}"
done
for name in "${INITS[@]}" airlock-no-syslog airlock-defaults; do
    metric startup overhead ms "$name"
done
phase_end

# ------------------------------------------------------------------ 2. memory
echo "# 2. memory: VmRSS, Pss, USS of PID 1 while its app sleeps, $ROUNDS rounds"
phase_begin memory
# start_bg NAME APP...: starts NAME as PID 1 of APP in the background and
# sets BGPID (unshare) and IPID (the init, in this namespace's numbers),
# once the init has started its app; IPID is empty when it did not.
start_bg() {
    local name=$1 i want
    shift
    local -a envc
    mapfile -t envc < <(envof "$name")
    # shellcheck disable=SC2086 # PREFIX holds words on purpose
    "${envc[@]}" "${NS[@]}" --kill-child ${PREFIX[$name]} "$@" >/dev/null 2>&1 &
    BGPID=$!
    want=$(basename "${PATHOF[$name]}")
    IPID=
    for ((i = 0; i < 500; i++)); do
        IPID=$(pgrep -P "$BGPID" | head -n 1)
        if [ -n "$IPID" ] && [ "$(cat "/proc/$IPID/comm" 2>/dev/null)" = "${want:0:15}" ] &&
            [ -n "$(pgrep -P "$IPID")" ]; then
            return 0
        fi
        sleep 0.01
    done
    IPID=
}
stop_bg() {
    kill -KILL "$BGPID" 2>/dev/null
    wait "$BGPID" 2>/dev/null
    BGPID=
}
MEM_NAMES=("${INITS[@]}" airlock-defaults)
memory_once() {
    local rss=- pss=- uss=-
    start_bg "$1" sleep 60
    if [ -n "$IPID" ]; then
        sleep 0.3
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$IPID/status" 2>/dev/null)
        read -r pss uss < <(awk '/^Pss:/ {p = $2} /^Private_(Clean|Dirty):/ {u += $2}
            END {print p, u}' "/proc/$IPID/smaps_rollup" 2>/dev/null)
    fi
    stop_bg
    add "$1/vmrss" "$rss"
    add "$1/pss" "$pss"
    add "$1/uss" "$uss"
}
in_rounds memory_once "${MEM_NAMES[@]}"
for name in "${MEM_NAMES[@]}"; do
    echo "# $name: VmRSS kB:${V[$name/vmrss]}; Pss:${V[$name/pss]}; USS:${V[$name/uss]}"
    for f in vmrss pss uss; do metric memory "$f" kB "$name"; done
done
phase_end

# ----------------------------------------------------------------- 3. reaping
echo "# 3. reaping: $N orphans, exiting at once and handed off, $ROUNDS rounds"
phase_begin reaping
declare -A UNREAPED
reap_once() {
    local fig flag out ms un
    local -a envc
    mapfile -t envc < <(envof "$1")
    for fig in exit-at-once hand-off; do
        flag=--reap-time
        [ "$fig" = hand-off ] && flag=--handoff
        # shellcheck disable=SC2086 # PREFIX holds words on purpose
        out=$(timeout -k 2 60 "${envc[@]}" "${NS[@]}" --kill-child \
            ${PREFIX[$1]} "$ORPHANS" "$N" "$flag" 2>/dev/null)
        ms=$(echo "$out" | sed -n 's/^reaped_ms=//p')
        un=$(echo "$out" | sed -n 's/^unreaped=//p')
        [ -n "$un" ] && UNREAPED[$1]="${UNREAPED[$1]:-} $fig:$un"
        add "$1/$fig" "$ms"
    done
}
in_rounds reap_once "${INITS[@]}"
for name in "${INITS[@]}"; do
    echo "# $name: exit at once ms:${V[$name/exit-at-once]}; hand-off ms:${V[$name/hand-off]}${UNREAPED[$name]:+; unreaped after 10 s:${UNREAPED[$name]}}"
    metric reaping exit-at-once ms "$name"
    metric reaping hand-off ms "$name"
done
phase_end

# -------------------------------------------------------------------- 4. stop
echo "# 4. stop: SIGTERM to the init, the app has left a daemon, $ROUNDS rounds"
phase_begin stop
declare -A DAEMON_TERM
stop_once() {
    local d=$T/stop ms=- i
    rm -rf "$d"
    mkdir -p "$d"
    start_bg "$1" "$SIGBENCH" term-app "$d"
    for ((i = 0; i < 500; i++)); do
        [ -e "$d/ready" ] && break
        sleep 0.01
    done
    if [ -n "$IPID" ] && [ -e "$d/ready" ]; then
        ms=$("$SIGBENCH" term-wait "$IPID" 30000 | sed -n 's/^exit_ms=//p')
        if [ "$ms" = timeout ] || [ -z "$ms" ]; then
            ms=-
        else
            # The namespace is gone with its PID 1: the daemon has
            # written its file by now if it ever will.
            wait "$BGPID" 2>/dev/null
        fi
        [ -e "$d/daemon-term" ] && DAEMON_TERM[$1]=$((${DAEMON_TERM[$1]:-0} + 1))
    fi
    stop_bg
    add "$1/sigterm-to-exit" "$ms"
}
in_rounds stop_once "${INITS[@]}"
for name in "${INITS[@]}"; do
    echo "# $name: SIGTERM to exit ms:${V[$name/sigterm-to-exit]}; daemon got SIGTERM in ${DAEMON_TERM[$name]:-0} of $ROUNDS rounds"
    metric stop sigterm-to-exit ms "$name"
    bench_metric stop daemon-got-sigterm "of $ROUNDS rounds" "$name" - "${DAEMON_TERM[$name]:-0}" \
        "${DAEMON_TERM[$name]:-0}" "${DAEMON_TERM[$name]:-0}"
done
phase_end

# ----------------------------------------------------------------- 5. signals
echo "# 5. signal forwarding: $NSIG SIGUSR1 per init and round, $ROUNDS rounds"
phase_begin signals
declare -A SENT GOT
signals_once() {
    local med=- out got sent
    rm -f "$T/fifo"
    mkfifo "$T/fifo"
    start_bg "$1" "$SIGBENCH" usr1-app "$T/fifo"
    if [ -n "$IPID" ]; then
        out=$(timeout -k 2 60 "$SIGBENCH" usr1-send "$IPID" "$T/fifo" "$NSIG")
        med=$(echo "$out" | sed -n 's/.* median_us=\([0-9.]*\).*/\1/p')
        got=$(echo "$out" | sed -n 's/.* got=\([0-9]*\).*/\1/p')
        sent=$(echo "$out" | sed -n 's/^sent=\([0-9]*\).*/\1/p')
        GOT[$1]=$((${GOT[$1]:-0} + ${got:-0}))
        SENT[$1]=$((${SENT[$1]:-0} + ${sent:-0}))
    fi
    stop_bg
    add "$1/sigusr1-latency" "$med"
}
in_rounds signals_once "${INITS[@]}"
for name in "${INITS[@]}"; do
    echo "# $name: SIGUSR1 median µs per round:${V[$name/sigusr1-latency]}; reached the app: ${GOT[$name]:-0} of ${SENT[$name]:-0} sent"
    metric signals sigusr1-latency us "$name"
done
phase_end

# -------------------------------------------------------------------- 6. size
declare -A SIZE LINK
for name in "${INITS[@]}"; do
    p=${PATHOF[$name]}
    [ "$name" = my_init ] && p=$MY_INIT
    strip -o "$T/stripped" "$p" 2>/dev/null || cp "$p" "$T/stripped"
    SIZE[$name]=$(stat -c %s "$T/stripped")
    V[$name/stripped]=${SIZE[$name]}
    if [ "$name" = my_init ]; then
        LINK[$name]="Python script (needs python3)"
    elif readelf -d "$p" 2>/dev/null | grep -q NEEDED; then
        LINK[$name]="dynamic: $(readelf -d "$p" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ' | sed 's/ $//')"
    else
        LINK[$name]=static
    fi
done
for name in "${INITS[@]}"; do
    metric size stripped bytes "$name"
done

# ----------------------------------------------------------------- versions
AIRLOCK_V="$("$B/airlock" --version | cut -d' ' -f2) (git $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?'))"
bench_version airlock "$AIRLOCK_V"
for p in tini dumb-init catatonit hyperfine util-linux; do
    bench_version "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null)"
done
if [ -n "$MY_INIT" ]; then
    bench_version my_init "phusion, given: $MY_INIT (sha256 $(sha256sum "$MY_INIT" | cut -c1-12)), $(/usr/bin/python3 --version 2>&1)"
fi

# ------------------------------------------------------------------ report
LABEL_airlock="airlock (AIRLOCK_SYSLOG=off)"
label() {
    case $1 in
    airlock) echo "$LABEL_airlock" ;;
    airlock-no-syslog) echo "airlock --no-syslog" ;;
    airlock-defaults) echo "airlock, defaults" ;;
    *) echo "$1" ;;
    esac
}
R="min / **median** / max"
{
    echo "## Init: airlock as PID 1 next to tini, dumb-init, catatonit${MY_INIT:+, my_init}"
    echo
    echo "Started $STARTED. Every figure: $R over the rounds; the ratio to tini is computed within each round, then $R of those ratios (below 1: airlock smaller or faster than tini). Inits run as PID 1 of \`unshare --pid --fork --mount-proc\`, each with the same small environment (PATH, HOME, AIRLOCK_ROOT=<temp dir>, AIRLOCK_SSH=off, AIRLOCK_SYSLOG=off; airlock-defaults without AIRLOCK_SYSLOG); see bench/README.md."
    echo
    echo "### 1. Start-up overhead (ms): \`INIT /bin/true\` minus \`/bin/true\` alone"
    echo
    echo "$SROUNDS rounds of hyperfine -N, each $SRUNS runs per init after 3 warm-up runs, the inits in another order every round; a round's figure is its median run minus no init's median run of the same invocation. airlock-defaults runs in a second invocation of each round, without AIRLOCK_SYSLOG, with no init and tini again: its ratio is to that tini. No init, median run: $(mmm none/startup | awk '{printf "%.3f / %.3f / %.3f ms", $1, $2, $3}')."
    echo
    echo "| init | overhead (ms) | ratio to tini |"
    echo "|---|---|---|"
    for name in "${INITS[@]}" airlock-no-syslog airlock-defaults; do
        echo "| $(label "$name") $(row overhead "$name" 3)"
    done
    echo
    echo "### 2. Memory of PID 1 while its app sleeps (kB)"
    echo
    echo "Read 0.3 s after the init has started its app, $ROUNDS rounds. USS: Private_Clean + Private_Dirty of smaps_rollup, what the init alone holds."
    echo
    echo "| init | VmRSS | ratio | Pss | ratio | USS | ratio |"
    echo "|---|---|---|---|---|---|---|"
    for name in "${MEM_NAMES[@]}"; do
        echo "| $(label "$name") $(row vmrss "$name" 0) $(row pss "$name" 0 | sed 's/^| //') $(row uss "$name" 0 | sed 's/^| //')"
    done
    echo
    echo "### 3. Reaping $N orphans (ms until the last one is reaped)"
    echo
    echo "Exit at once: $N orphans, already reparented to the init, all exit at one moment (\`orphans $N --reap-time\`). Hand-off: a parent with $N zombie children exits and the kernel hands them all to the init (\`orphans $N --handoff\`). Timed from the release until \`kill(pid, 0)\` fails for the last of them. $ROUNDS rounds."
    echo
    echo "| init | exit at once | ratio | hand-off | ratio | unreaped after 10 s |"
    echo "|---|---|---|---|---|---|"
    for name in "${INITS[@]}"; do
        echo "| $(label "$name") $(row exit-at-once "$name" 1) $(row hand-off "$name" 1 | sed 's/^| //') ${UNREAPED[$name]:-none} |"
    done
    echo
    echo "### 4. Stop: SIGTERM to the init, with an orphaned daemon"
    echo
    echo "The app has started a daemon (double fork, a session of its own, exits on SIGTERM). SIGTERM is sent to the init; timed until the init has exited (which, as PID 1, is after the kernel has killed what was left in the namespace). $ROUNDS rounds."
    echo
    echo "| init | SIGTERM to exit (ms) | ratio to tini | daemon got SIGTERM |"
    echo "|---|---|---|---|"
    for name in "${INITS[@]}"; do
        echo "| $(label "$name") $(row sigterm-to-exit "$name" 2) ${DAEMON_TERM[$name]:-0} of $ROUNDS rounds |"
    done
    echo
    echo "### 5. Signal forwarding: SIGUSR1 to the init until the app's handler runs (µs)"
    echo
    echo "$NSIG signals per init and round, 2 ms apart, each waited for up to 1 s (a round stops after 3 lost in a row); a round's figure is the median of its latencies. $ROUNDS rounds."
    echo
    echo "| init | latency (µs) | ratio to tini | reached the app |"
    echo "|---|---|---|---|"
    for name in "${INITS[@]}"; do
        echo "| $(label "$name") $(row sigusr1-latency "$name" 1) ${GOT[$name]:-0} of ${SENT[$name]:-0} sent |"
    done
    echo
    echo "### 6. Binary size (bytes, stripped)"
    echo
    echo "airlock's one binary also holds its syslog collector, setuser, the status/restart client and the service supervision; catatonit is static, so it includes the parts of libc it uses."
    echo
    echo "| init | stripped | ratio to tini | linking |"
    echo "|---|---|---|---|"
    for name in "${INITS[@]}"; do
        echo "| $(label "$name") | ${SIZE[$name]} | $(awk -v a="${SIZE[$name]}" -v b="${SIZE[tini]}" 'BEGIN {printf "%.2f", a / b}') | ${LINK[$name]} |"
    done
} >"$BENCH_OUT/init.md"
echo
cat "$BENCH_OUT/init.md"
echo
if [ -e "$BENCH_OUT/started" ]; then
    echo "# written to $BENCH_OUT/init.md (${SECONDS} s)"
else
    echo "# written to $BENCH_OUT/init.md (${SECONDS} s); bench/report.sh $BENCH_OUT makes bench/results/DATE.{md,json,svg} of it"
fi
