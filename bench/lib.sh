# shellcheck shell=bash
# Sourced by bench/*.sh (bash): where a bench's figures go, and how much of
# the machine it had while it measured them.
#
# A bench run writes, into BENCH_OUT (bench/run.sh sets it to one directory
# for the whole run; a bench started by hand gets a temp dir of its own):
#   metrics.jsonl  one JSON object per figure (bench_metric)
#   phases.jsonl   one JSON object per phase with its CPU use (phase_end)
#   NAME.md        the bench's own markdown section (the bench writes it)
# bench/report.sh turns a BENCH_OUT into bench/results/DATE.{md,json,svg}.
#
# CPU accounting: the bench and everything it starts run in one cpuacct
# cgroup (v1, or cpu.stat in v2), so a phase knows the CPU time the bench
# used and, from /proc/stat, the CPU time everything else on the machine
# used meanwhile. Without a cgroup the bench's share is reported as null.

BENCH_OUT=${BENCH_OUT:-}
if [ -z "$BENCH_OUT" ]; then
    BENCH_OUT=$(mktemp -d /tmp/airlock-bench-out.XXXXXX)
    export BENCH_OUT
fi
mkdir -p "$BENCH_OUT"
BENCH_NAME=${BENCH_NAME:-$(basename "$0" .sh)}
# Other processes using more than this many CPUs on average during a phase
# make its figures unreliable (timing benches feel even a quarter core).
BENCH_BUSY_LIMIT=${BENCH_BUSY_LIMIT:-0.25}

# bench_cpu_setup: moves this shell (BASHPID: a subshell moves itself) into
# a cgroup of its own (children follow) unless BENCH_CGROUP names one already. Sets BENCH_CGROUP to the
# file that counts its CPU time, or empty when there is no cgroup to use.
bench_cpu_setup() {
    if [ -n "${BENCH_CGROUP:-}" ] && [ -r "$BENCH_CGROUP" ]; then
        return 0
    fi
    BENCH_CGROUP=
    local d
    for d in /sys/fs/cgroup/cpuacct /sys/fs/cgroup/cpu,cpuacct; do
        if [ -w "$d" ] && mkdir -p "$d/airlock-bench.$$" 2>/dev/null &&
            echo "$BASHPID" >"$d/airlock-bench.$$/tasks" 2>/dev/null; then
            BENCH_CGROUP=$d/airlock-bench.$$/cpuacct.usage
            BENCH_CGROUP_DIR=$d/airlock-bench.$$
            BENCH_CGROUP_PARENT=$d/tasks
            break
        fi
    done
    if [ -z "$BENCH_CGROUP" ] && [ -f /sys/fs/cgroup/cgroup.controllers ] &&
        mkdir -p "/sys/fs/cgroup/airlock-bench.$$" 2>/dev/null &&
        echo "$BASHPID" >"/sys/fs/cgroup/airlock-bench.$$/cgroup.procs" 2>/dev/null; then
        BENCH_CGROUP=/sys/fs/cgroup/airlock-bench.$$/cpu.stat
        BENCH_CGROUP_DIR=/sys/fs/cgroup/airlock-bench.$$
        BENCH_CGROUP_PARENT=/sys/fs/cgroup/cgroup.procs
    fi
    export BENCH_CGROUP BENCH_CGROUP_DIR BENCH_CGROUP_PARENT
}

# bench_cpu_teardown: moves this shell back and removes the cgroup, if it
# made one (call it from the bench's EXIT trap, after its processes are gone).
bench_cpu_teardown() {
    [ -n "${BENCH_CGROUP_DIR:-}" ] || return 0
    [ "$BENCH_CGROUP_DIR" = "${BENCH_CGROUP_DIR%."$$"}" ] && return 0
    echo "$BASHPID" >"$BENCH_CGROUP_PARENT" 2>/dev/null
    rmdir "$BENCH_CGROUP_DIR" 2>/dev/null
    return 0
}

# The CPU time in ns the bench's cgroup has used, or empty.
bench_cpu_ns() {
    case ${BENCH_CGROUP:-} in
    '') ;;
    *cpu.stat) awk '$1 == "usage_usec" {printf "%.0f\n", $2 * 1000}' "$BENCH_CGROUP" ;;
    *) cat "$BENCH_CGROUP" 2>/dev/null ;;
    esac
}

# The CPU time in ns every process on the machine has used (busy, not idle
# or iowait), from /proc/stat's first line (USER_HZ ticks). %.0f, not %d:
# mawk's %d stops at 2^31-1.
machine_cpu_ns() {
    local hz
    hz=$(getconf CLK_TCK)
    awk -v hz="$hz" '$1 == "cpu" {
        printf "%.0f\n", ($2 + $3 + $4 + $7 + $8 + $9) * 1e9 / hz; exit }' /proc/stat
}

# phase_begin NAME: starts the accounting of a phase (one at a time).
phase_begin() {
    PHASE_NAME=$1
    PHASE_T0=$(date +%s%N)
    PHASE_M0=$(machine_cpu_ns)
    PHASE_B0=$(bench_cpu_ns)
}

# phase_end: appends the phase to phases.jsonl and prints one line: how
# long it took, the CPUs the bench used on average, the CPUs everything
# else used, and "UNRELIABLE" when the latter passed BENCH_BUSY_LIMIT.
phase_end() {
    [ -n "${PHASE_NAME:-}" ] || return 0
    local t1 m1 b1
    t1=$(date +%s%N)
    m1=$(machine_cpu_ns)
    b1=$(bench_cpu_ns)
    jq -nc --arg bench "$BENCH_NAME" --arg phase "$PHASE_NAME" \
        --argjson t "$((t1 - PHASE_T0))" --argjson m "$((m1 - PHASE_M0))" \
        --arg b0 "${PHASE_B0:-}" --arg b1 "${b1:-}" \
        --argjson limit "$BENCH_BUSY_LIMIT" --argjson cpus "$(nproc)" '
        ($t / 1e9) as $s
        | (if $b0 != "" and $b1 != "" then (($b1 | tonumber) - ($b0 | tonumber)) else null end) as $b
        | ($m / $t) as $all
        | (if $b == null then null else ($b / $t) end) as $mine
        | (if $mine == null then $all else ([$all - $mine, 0] | max) end) as $other
        | {bench: $bench, phase: $phase, seconds: ($s * 100 | round / 100), cpus: $cpus,
           bench_cpus: (if $mine == null then null else ($mine * 100 | round / 100) end),
           other_cpus: ($other * 100 | round / 100),
           unreliable: ($other > $limit),
           note: (if $mine == null then "no cgroup: other_cpus includes the bench itself" else null end)}' \
        >>"$BENCH_OUT/phases.jsonl"
    tail -n 1 "$BENCH_OUT/phases.jsonl" | jq -r '"# phase \(.bench)/\(.phase): \(.seconds) s, bench \(.bench_cpus // "?") CPUs, others \(.other_cpus) CPUs\(if .unreliable then " — UNRELIABLE: the machine was busy" else "" end)"'
    PHASE_NAME=
}

# bench_metric SECTION METRIC UNIT SUBJECT REFERENCE MIN MEDIAN MAX [RMIN RMED RMAX]
# Appends one figure to metrics.jsonl: SUBJECT's value (min/median/max over
# the rounds; give the same number three times for a single value) and,
# when REFERENCE is not "-", the per-round ratios SUBJECT/REFERENCE
# (min/median/max). "n/a" or an empty value is stored as null. The phase
# running at that moment (PHASE_NAME, or the last one) is recorded with it.
bench_metric() {
    local v
    local -a nums=()
    for v in "${@:6}"; do
        case $v in
        '' | n/a | -) nums+=(null) ;;
        *) nums+=("$v") ;;
        esac
    done
    while [ "${#nums[@]}" -lt 6 ]; do nums+=(null); done
    jq -nc --arg bench "$BENCH_NAME" --arg section "$1" --arg metric "$2" \
        --arg unit "$3" --arg subject "$4" --arg ref "$5" \
        --arg phase "${PHASE_NAME:-}" \
        --argjson min "${nums[0]}" --argjson median "${nums[1]}" --argjson max "${nums[2]}" \
        --argjson rmin "${nums[3]}" --argjson rmed "${nums[4]}" --argjson rmax "${nums[5]}" '
        {bench: $bench, section: $section, metric: $metric, unit: $unit,
         subject: $subject, phase: (if $phase == "" then null else $phase end),
         min: $min, median: $median, max: $max}
        + (if $ref == "-" then {} else
           {reference: $ref, ratio: {min: $rmin, median: $rmed, max: $rmax}} end)' \
        >>"$BENCH_OUT/metrics.jsonl"
}

# round_ratios "A1 A2 ..." "B1 B2 ...": the per-round ratios Ai/Bi (rounds
# paired by position; a round without a figure is a non-number such as
# "-" or "n/a", so that the later rounds stay paired; pairs with a
# non-number or a non-positive B left out), printed as "min median max",
# or "n/a n/a n/a" when no pair is left.
round_ratios() {
    paste -d' ' <(echo "$1" | tr ' ' '\n' | grep .) <(echo "$2" | tr ' ' '\n' | grep .) |
        awk -v num='^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$' \
            '$1 ~ num && $2 ~ num && $2 + 0 > 0 {print $1 / $2}' | sort -g |
        awk '{a[NR] = $1}
             END {
                 if (!NR) { print "n/a n/a n/a"; exit }
                 med = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
                 printf "%.3f %.3f %.3f\n", a[1], med, a[NR]
             }'
}

# min_med_max "V1 V2 ...": "min median max" of the values, non-numbers
# ("-", "n/a") left out (n/a n/a n/a if none is left).
min_med_max() {
    echo "$1" | tr ' ' '\n' | grep -E '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$' | sort -g |
        awk '{a[NR] = $1}
             END {
                 if (!NR) { print "n/a n/a n/a"; exit }
                 med = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
                 print a[1], med, a[NR]
             }'
}

# bench_version NAME VERSION: records a peer's version for the report.
bench_version() {
    jq -nc --arg bench "$BENCH_NAME" --arg name "$1" --arg version "$2" \
        '{bench: $bench, name: $name, version: $version}' >>"$BENCH_OUT/versions.jsonl"
}
