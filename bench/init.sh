#!/bin/bash
# airlock as PID 1 next to tini, dumb-init and catatonit (the Debian
# packages), all measured in one run on this machine:
#   1. start-up: wall time of `unshare --pid --fork --mount-proc INIT --
#      /bin/true` (hyperfine), against no init at all;
#   2. memory: VmRSS and Pss of the init while its app sleeps;
#   3. reaping: N orphans exit at once (tests/helpers/orphans): wall time
#      of the whole run and zombies left 200 ms after the release; and the
#      time until the init has reaped them all (tests/helpers/orphans --reap-time);
#   4. binary size, as installed and stripped.
# The table goes to stdout and to bench/results/init-<date>.md.
#
# usage: bench/init.sh [BUILD_DIR] [RUNS] [ROUNDS]
#   RUNS   start-up runs per init (default 100, in 4 passes of RUNS/4, each
#          in another order, so a change of load hits all inits alike)
#   ROUNDS reaping rounds per init (default 5, median reported)
# Not part of the test suite: it prints figures, it asserts nothing. Needs
# root (PID namespaces). Bounded: about 5 minutes at most.
set -u
B=${1:-build}
RUNS=${2:-100}
ROUNDS=${3:-5}
N=${BENCH_ORPHANS:-2000}
BUDGET=270 # seconds; later rounds are skipped past it
here=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "$B" && pwd) || exit 1

if [ "$(id -u)" != 0 ]; then
    echo "bench/init.sh: needs root (unshare --pid)" >&2
    exit 1
fi
sh "$here/tests/install-deps.sh" tini dumb-init catatonit hyperfine jq \
    util-linux procps binutils || exit 1
if ! timeout 5 "$B/airlock" --version 2>/dev/null | grep -q '^airlock '; then
    echo "bench/init.sh: build airlock first (make B=$B all)" >&2
    exit 1
fi
ORPHANS=$B/tests/helpers/orphans
if [ ! -x "$ORPHANS" ]; then
    make -s -C "$here" B="$B" test-helpers >/dev/null 2>&1
fi

T=$(mktemp -d /tmp/airlock-bench-init.XXXXXX)
# The same helper as the zombie storm test, in its timing mode.
REAPTIME=$B/tests/helpers/orphans
BG=
cleanup() {
    [ -n "$BG" ] && kill -KILL "$BG" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/root"

# Every init runs with the same small environment (airlock copies its
# environment to /etc/container_environment at start, so a big one would
# cost it more than the others). airlock's variables keep it off the
# machine's /etc and /dev/log and leave its SSH server out: the bench
# measures the init. The peers ignore them.
CLEANENV=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    HOME="$T" AIRLOCK_ROOT="$T/root" AIRLOCK_SSH=off)
NS=(unshare --pid --fork --mount-proc)

# How each init is spelled in front of the app. As PID 1 tini reaps
# without -s; dumb-init takes no flags; catatonit and tini take `--`.
INITS=(airlock tini dumb-init catatonit)
declare -A PREFIX PATHOF
PREFIX[airlock]="$B/airlock -q --no-syslog --"
PREFIX[tini]="$(command -v tini) --"
PREFIX[dumb-init]="$(command -v dumb-init)"
PREFIX[catatonit]="$(command -v catatonit) --"
PREFIX[none]=""
for i in "${INITS[@]}"; do
    PATHOF[$i]=${PREFIX[$i]%% *}
done
# airlock as a container gets it by default: the same without
# --no-syslog (the collector, on demand, and /dev/log under AIRLOCK_ROOT).
# A flag, not a variable: an `env` in front would be one more exec.
# Start-up and memory only.
DEFAULTS=airlock-defaults
PREFIX[$DEFAULTS]="$B/airlock -q --"
PATHOF[$DEFAULTS]=$B/airlock

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_START=$(loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
echo "# init bench: $(nproc) CPUs, load average at start: $LOAD_START"

# ratio A B: A/B with two decimals, or n/a when B is not positive.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "" || b == "" || b + 0 <= 0 || a == "n/a" || b == "n/a") print "n/a";
        else printf "%.2f", a / b }'
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
minimum() { tr ' ' '\n' | grep . | sort -n | head -n 1; }

# ---------------------------------------------------------------- 1. start-up
PASSES=4
echo "# 1. start-up: hyperfine, $RUNS runs per init in $PASSES passes"
declare -A T_MEAN T_SD T_MED T_MIN T_N
per=$(((RUNS + PASSES - 1) / PASSES))
[ "$per" -lt 2 ] && per=2
hf_args() {
    local name
    for name in "$@"; do
        # The = form: hyperfine's -n would take the next words as names too.
        echo "--command-name=$name"
        echo "${NS[*]} ${PREFIX[$name]:+${PREFIX[$name]} }/bin/true"
    done
}
# Pass p starts the list at its p-th entry, and every other pass runs it
# backwards: each init meets the machine early and late in a pass.
ORDER=(none "${INITS[@]}" "$DEFAULTS")
n=${#ORDER[@]}
for ((pass = 1; pass <= PASSES; pass++)); do
    if [ "$pass" -gt 1 ] && [ "$SECONDS" -gt 150 ]; then
        echo "# start-up: passes from $pass on skipped to stay in the time budget"
        break
    fi
    order=()
    for ((k = 0; k < n; k++)); do
        if ((pass % 2)); then
            order+=("${ORDER[(k + pass - 1) % n]}")
        else
            order+=("${ORDER[(2 * n - 1 - k + pass - 1) % n]}")
        fi
    done
    mapfile -t args < <(hf_args "${order[@]}")
    if timeout -k 5 60 "${CLEANENV[@]}" hyperfine -N --style none --warmup 3 \
        --runs "$per" --export-json "$T/startup-$pass.json" "${args[@]}"; then
        echo "# pass $pass/$PASSES, $per runs each, order: ${order[*]}"
    else
        echo "# start-up pass $pass failed or timed out" >&2
        rm -f "$T/startup-$pass.json"
    fi
done
if ls "$T"/startup-*.json >/dev/null 2>&1; then
    # One line per init: name, then every run's wall time in seconds.
    jq -rs '[.[].results[]] | group_by(.command)[]
            | [.[0].command] + (map(.times) | add | map(tostring)) | join(" ")' \
        "$T"/startup-*.json >"$T/startup.times"
    while read -r name rest; do
        read -r "T_N[$name]" "T_MEAN[$name]" "T_SD[$name]" "T_MED[$name]" "T_MIN[$name]" < <(
            echo "$rest" | tr ' ' '\n' | sort -g | awk '
                {x[NR] = $1 * 1000; s += x[NR]}
                END {
                    m = s / NR; for (i = 1; i <= NR; i++) v += (x[i] - m) ^ 2
                    sd = NR > 1 ? sqrt(v / (NR - 1)) : 0
                    med = NR % 2 ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2
                    printf "%d %.3f %.3f %.3f %.3f\n", NR, m, sd, med, x[1]
                }')
    done <"$T/startup.times"
fi

# ------------------------------------------------------------------ 2. memory
echo "# 2. memory: VmRSS and Pss of the init, 0.5 s after start, app: sleep 5"
declare -A RSS PSS
# mem NAME: prints "VmRSS Pss" in kB, or nothing when the init was not found.
mem() {
    local name=$1 upid ipid comm rss pss want i
    # shellcheck disable=SC2086 # PREFIX holds words on purpose
    "${CLEANENV[@]}" "${NS[@]}" --kill-child ${PREFIX[$name]} sleep 5 \
        >/dev/null 2>&1 &
    BG=$!
    upid=$BG
    want=$(basename "${PATHOF[$name]}")
    for ((i = 0; i < 100; i++)); do
        ipid=$(pgrep -P "$upid" | head -n 1)
        comm=$(cat "/proc/$ipid/comm" 2>/dev/null)
        [ -n "$ipid" ] && [ "$comm" = "${want:0:15}" ] && break
        sleep 0.01
    done
    sleep 0.5
    if [ -n "$ipid" ] && [ "$comm" = "${want:0:15}" ]; then
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$ipid/status" 2>/dev/null)
        pss=$(awk '/^Pss:/ {print $2}' "/proc/$ipid/smaps_rollup" 2>/dev/null)
        echo "${rss:-} ${pss:-}"
        kill -KILL "$ipid" 2>/dev/null
    fi
    kill -KILL "$upid" 2>/dev/null
    wait "$upid" 2>/dev/null
    BG=
}
for name in "${INITS[@]}" "$DEFAULTS"; do
    rs=""
    ps=""
    for ((r = 1; r <= 3; r++)); do
        read -r a b < <(mem "$name")
        rs="$rs ${a:-}"
        ps="$ps ${b:-}"
    done
    RSS[$name]=$(echo "$rs" | median)
    PSS[$name]=$(echo "$ps" | median)
    echo "# $name: VmRSS kB:$rs; Pss kB:$ps"
done

# ----------------------------------------------------------------- 3. reaping
declare -A REAP_T REAP_TMIN REAP_Z REAP_ALL REAP_AMIN
if [ -x "$ORPHANS" ]; then
    echo "# 3. reaping: $N orphans exit at once, $ROUNDS rounds of orphans (200 ms settle) and of --reap-time"
    # reap NAME SETTLE_MS: prints "milliseconds zombies".
    reap() {
        local name=$1 t0 t1 out z
        t0=$(date +%s%N)
        # shellcheck disable=SC2086 # PREFIX holds words on purpose
        out=$(timeout -k 2 60 "${CLEANENV[@]}" "${NS[@]}" --kill-child \
            ${PREFIX[$name]} "$ORPHANS" "$N" "$2" 2>/dev/null)
        t1=$(date +%s%N)
        z=$(echo "$out" | sed -n 's/^zombies=//p')
        echo "$(((t1 - t0) / 1000000)) ${z:-n/a}"
    }
    # reap_all NAME: prints the milliseconds until all N are reaped.
    reap_all() {
        local out
        # shellcheck disable=SC2086 # PREFIX holds words on purpose
        out=$(timeout -k 2 60 "${CLEANENV[@]}" "${NS[@]}" --kill-child \
            ${PREFIX[$1]} "$REAPTIME" "$N" --reap-time 2>/dev/null)
        out=$(echo "$out" | sed -n 's/^reaped_ms=//p')
        echo "${out:-n/a}"
    }
    declare -A times zs alls
    skipped=0
    for ((r = 1; r <= ROUNDS; r++)); do
        if [ "$r" -gt 2 ] && [ "$SECONDS" -gt $((BUDGET - 60)) ]; then
            skipped=1
            break
        fi
        for name in none "${INITS[@]}"; do
            read -r ms z < <(reap "$name" 200)
            times[$name]="${times[$name]:-} $ms"
            zs[$name]="${zs[$name]:-} $z"
        done
    done
    for ((r = 1; r <= ROUNDS; r++)); do
        [ -x "$REAPTIME" ] || break
        if [ "$r" -gt 2 ] && [ "$SECONDS" -gt "$BUDGET" ]; then
            skipped=1
            break
        fi
        for name in "${INITS[@]}"; do
            alls[$name]="${alls[$name]:-} $(reap_all "$name")"
        done
    done
    [ "$skipped" = 1 ] && echo "# reaping: some rounds skipped to stay in the time budget"
    for name in none "${INITS[@]}"; do
        REAP_T[$name]=$(echo "${times[$name]}" | median)
        REAP_TMIN[$name]=$(echo "${times[$name]}" | minimum)
        REAP_Z[$name]=$(echo "${zs[$name]}" | median)
        REAP_ALL[$name]=$(echo "${alls[$name]:-}" | tr ' ' '\n' | grep -v n/a | median)
        REAP_AMIN[$name]=$(echo "${alls[$name]:-}" | tr ' ' '\n' | grep -v n/a | minimum)
        echo "# $name: wall ms:${times[$name]}; zombies@200ms:${zs[$name]}; reap-all ms:${alls[$name]:-}"
    done
else
    echo "# 3. reaping skipped: $ORPHANS missing (make B=$B test-helpers)"
fi

# -------------------------------------------------------------------- 4. size
declare -A SIZE SSIZE LINK
for name in "${INITS[@]}"; do
    p=${PATHOF[$name]}
    SIZE[$name]=$(stat -c %s "$p")
    strip -o "$T/stripped" "$p" 2>/dev/null && SSIZE[$name]=$(stat -c %s "$T/stripped")
    if readelf -d "$p" 2>/dev/null | grep -q NEEDED; then
        LINK[$name]="dynamic: $(readelf -d "$p" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ' | sed 's/ $//')"
    else
        LINK[$name]=static
    fi
done

LOAD_END=$(loadavg)

# ------------------------------------------------------------------ report
version_of() {
    case $1 in
    airlock)
        echo "$("$B/airlock" --version | cut -d' ' -f2) (repo at $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?'))"
        ;;
    *) dpkg-query -W -f='${Version}' "$1" 2>/dev/null ;;
    esac
}
REPORT=$T/report.md
{
    echo "# Init bench: airlock vs tini, dumb-init, catatonit"
    echo
    echo "- run: $STARTED, $(nproc) CPUs ($(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -n 1)), kernel $(uname -r)"
    echo "- load average (1/5/15 min): $LOAD_START at start, $LOAD_END at end"
    echo "- versions: airlock $(version_of airlock), tini $(version_of tini), dumb-init $(version_of dumb-init), catatonit $(version_of catatonit), $(hyperfine --version)"
    echo "- airlock runs with AIRLOCK_ROOT=<temp dir> AIRLOCK_SSH=off -q --no-syslog; airlock-defaults the same without --no-syslog (its default: /dev/log bound, the collector started on demand); every init gets the same environment: PATH, HOME, AIRLOCK_ROOT, AIRLOCK_SSH=off"
    echo
    echo "## 1. Start-up: \`unshare --pid --fork --mount-proc INIT -- /bin/true\`"
    echo
    echo "hyperfine, ${T_N[none]:-0} runs each (in $PASSES passes, each in another order). Overhead: mean minus the mean of no init, ± its standard error; and median minus the median of no init (less swayed by runs that other processes slowed down)."
    echo
    echo "| init | mean ± sd (ms) | median (ms) | min (ms) | overhead of mean (ms) | overhead of median (ms) |"
    echo "|---|---|---|---|---|---|"
    for name in none "${INITS[@]}" "$DEFAULTS"; do
        if [ -z "${T_MEAN[$name]:-}" ]; then
            echo "| $name | n/a | n/a | n/a | n/a | n/a |"
            continue
        fi
        if [ "$name" = none ]; then
            ov="—"
            om="—"
        else
            om=$(awk -v a="${T_MED[$name]}" -v b="${T_MED[none]}" 'BEGIN {printf "%+.2f", a - b}')
            ov=$(awk -v a="${T_MEAN[$name]}" -v b="${T_MEAN[none]}" -v sa="${T_SD[$name]}" \
                -v sb="${T_SD[none]}" -v na="${T_N[$name]}" -v nb="${T_N[none]}" \
                'BEGIN {printf "%+.2f ± %.2f", a - b, sqrt(sa * sa / na + sb * sb / nb)}')
        fi
        printf '| %s | %.2f ± %.2f | %.2f | %.2f | %s | %s |\n' "$name" "${T_MEAN[$name]}" \
            "${T_SD[$name]}" "${T_MED[$name]}" "${T_MIN[$name]}" "$ov" "$om"
    done
    echo
    echo "## 2. Memory of the init while the app sleeps (kB, median of 3)"
    echo
    echo "| init | VmRSS | Pss |"
    echo "|---|---|---|"
    for name in "${INITS[@]}" "$DEFAULTS"; do
        echo "| $name | ${RSS[$name]:-n/a} | ${PSS[$name]:-n/a} |"
    done
    echo
    echo "## 3. Reaping: $N orphans exit at once (\`orphans $N SETTLE_MS\`)"
    echo
    echo "Wall: the whole \`orphans $N 200\` run (setting up 2×$N clones, the release, 200 ms settle, namespace teardown); zombies: left in the namespace 200 ms after the release. Reap all: from the release until the last of the $N has left the process table (\`orphans N --reap-time\`, polls kill(pid, 0)), which is the init's own work. Median of the rounds, and in brackets the best round (least disturbed by other load). \"none\": the helper itself is PID 1 and reaps nothing."
    echo
    echo "| init | wall (ms) | zombies @200 ms | reap all (ms) |"
    echo "|---|---|---|---|"
    for name in none "${INITS[@]}"; do
        ra="${REAP_ALL[$name]:-n/a} (${REAP_AMIN[$name]:-n/a})"
        [ "$name" = none ] && ra="never"
        echo "| $name | ${REAP_T[$name]:-n/a} (${REAP_TMIN[$name]:-n/a}) | ${REAP_Z[$name]:-n/a} | $ra |"
    done
    echo
    echo "## 4. Binary size (bytes)"
    echo
    echo "airlock's binary also holds its syslog collector, setuser and the status/restart client."
    echo
    echo "| init | as built/installed | stripped | linking |"
    echo "|---|---|---|---|"
    for name in "${INITS[@]}"; do
        echo "| $name | ${SIZE[$name]:-n/a} | ${SSIZE[$name]:-n/a} | ${LINK[$name]} |"
    done
    echo
    echo "## Ratios airlock / peer (below 1: airlock smaller or faster)"
    echo
    echo "Zombie counts have no ratio (a peer's 0 would divide): they read airlock's count / the peer's."
    echo
    echo "| peer | start-up mean | start-up median | overhead of mean | overhead of median | VmRSS | Pss | reap wall | reap all | zombies @200 ms | stripped size |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    for peer in tini dumb-init catatonit; do
        oa=n/a
        ob=n/a
        ma=n/a
        mb=n/a
        if [ -n "${T_MEAN[none]:-}" ]; then
            oa=$(awk -v a="${T_MEAN[airlock]:-0}" -v b="${T_MEAN[none]}" 'BEGIN {print a - b}')
            ob=$(awk -v a="${T_MEAN[$peer]:-0}" -v b="${T_MEAN[none]}" 'BEGIN {print a - b}')
            ma=$(awk -v a="${T_MED[airlock]:-0}" -v b="${T_MED[none]}" 'BEGIN {print a - b}')
            mb=$(awk -v a="${T_MED[$peer]:-0}" -v b="${T_MED[none]}" 'BEGIN {print a - b}')
        fi
        echo "| $peer | $(ratio "${T_MEAN[airlock]:-}" "${T_MEAN[$peer]:-}") | $(ratio "${T_MED[airlock]:-}" "${T_MED[$peer]:-}") | $(ratio "$oa" "$ob") | $(ratio "$ma" "$mb") | $(ratio "${RSS[airlock]:-}" "${RSS[$peer]:-}") | $(ratio "${PSS[airlock]:-}" "${PSS[$peer]:-}") | $(ratio "${REAP_T[airlock]:-}" "${REAP_T[$peer]:-}") | $(ratio "${REAP_ALL[airlock]:-}" "${REAP_ALL[$peer]:-}") | ${REAP_Z[airlock]:-n/a}/${REAP_Z[$peer]:-n/a} | $(ratio "${SSIZE[airlock]:-}" "${SSIZE[$peer]:-}") |"
    done
    echo
    echo "airlock-defaults / tini: start-up median $(ratio "${T_MED[$DEFAULTS]:-}" "${T_MED[tini]:-}"), overhead of median $(ratio "$(awk -v a="${T_MED[$DEFAULTS]:-0}" -v b="${T_MED[none]:-0}" 'BEGIN {print a - b}')" "$(awk -v a="${T_MED[tini]:-0}" -v b="${T_MED[none]:-0}" 'BEGIN {print a - b}')"), Pss $(ratio "${PSS[$DEFAULTS]:-}" "${PSS[tini]:-}")."
} >"$REPORT"

echo
cat "$REPORT"
mkdir -p "$here/bench/results"
out="$here/bench/results/init-$(date -u +%F).md"
cp "$REPORT" "$out"
echo
echo "# written to $out (${SECONDS} s)"
