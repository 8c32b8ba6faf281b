#!/bin/bash
# Turns one bench run's BENCH_OUT (bench/lib.sh) into
#   bench/results/DATE.md    the machine, the versions, the load of every
#                            phase (UNRELIABLE when others were busy), each
#                            bench's own section (BENCH_OUT/NAME.md), then
#                            every ratio of metrics.jsonl in one table
#   bench/results/DATE.json  machine, versions, phases, metrics
#   bench/results/DATE.svg   airlock / reference for every ratio: median of
#                            the per-round ratios, min-max whiskers (gnuplot)
# and copies them to bench/results/latest.{md,json,svg}, the paths the
# README shows. With BENCH_README=1 it also puts the table of airlock's
# ratios between the bench markers of README.md.
#
# usage: bench/report.sh BENCH_OUT [RESULTS_DIR]
# DATE is the day the run started (BENCH_OUT/started, else today), UTC.
set -u
OUT=${1:?usage: bench/report.sh BENCH_OUT [RESULTS_DIR]}
if [ ! -d "$OUT" ]; then
    echo "bench/report.sh: $OUT: no such directory" >&2
    exit 1
fi
here=$(cd "$(dirname "$0")/.." && pwd)
RES=${2:-$here/bench/results}
sh "$here/tests/install-deps.sh" jq gnuplot-nox || exit 1
mkdir -p "$RES"
for f in metrics.jsonl phases.jsonl versions.jsonl; do
    [ -f "$OUT/$f" ] || : >"$OUT/$f"
done

started=$(cat "$OUT/started" 2>/dev/null || date -u '+%Y-%m-%d %H:%M:%S UTC')
DATE=$(date -u -d "${started% UTC}" +%F 2>/dev/null || date -u +%F)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
[ -n "$cpu" ] || cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
mem=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
load_start=$(cat "$OUT/load-start" 2>/dev/null || echo '?')
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# One JSON document for the run: what DATE.json holds and what the rest
# of this script reads. A metric's phase marks it unreliable when that
# phase was.
jq -n --arg date "$started" --arg nproc "$(nproc)" --arg cpu "$cpu" \
    --arg kernel "$(uname -r)" --arg mem "$mem" --arg os "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")" \
    --arg load_start "$load_start" --arg load_end "$load_end" \
    --slurpfile versions "$OUT/versions.jsonl" \
    --slurpfile phases "$OUT/phases.jsonl" \
    --slurpfile metrics "$OUT/metrics.jsonl" '
    ($phases | map({key: "\(.bench)/\(.phase)", value: .unreliable}) | from_entries) as $bad
    | {date: $date,
       machine: {nproc: ($nproc | tonumber), cpu: $cpu, kernel: $kernel,
                 memory: $mem, os: $os,
                 load_average: {start: $load_start, end: $load_end}},
       versions: ($versions | unique_by([.name, .version]) | map({name, version, bench})),
       phases: $phases,
       metrics: ($metrics | map(. + {unreliable: ($bad["\(.bench)/\(.phase // "")"] // false)}))}' \
    >"$RES/$DATE.json" || exit 1
J=$RES/$DATE.json

# jq: a number with D decimals below 100, whole above; n/a for null.
JQ_NUM='def num(d): if . == null then "n/a" elif fabs >= 100 then (round | tostring)
                 else (. * pow(10; d) | round / pow(10; d) | tostring) end;'

# A ratio's direction, from "METRIC UNIT": per second (a unit ending in
# /s), percentages and successes are better higher; everything else
# (times, memory, sizes, losses) lower.
HIGHER='(/s$|%$|success|per second)'

{
    echo "# airlock bench, $DATE"
    echo
    echo "\`make bench\` ($(jq -r '[.versions[] | select(.name == "airlock") | .version][0] // "?"' "$J")) on one machine, every peer in the same run. Absolute figures are this machine's at this hour; the ratios, computed within each round, are what carries over (bench/README.md)."
    echo
    echo "## Machine"
    echo
    jq -r '.machine | "- \(.nproc) CPUs: \(.cpu)\n- kernel \(.kernel), \(.os), \(.memory) memory\n- load average (1/5/15 min): \(.load_average.start) at the start, \(.load_average.end) at the end"' "$J"
    echo "- started $started"
    echo
    echo "## Versions"
    echo
    echo "| program | version |"
    echo "|---|---|"
    jq -r '.versions[] | "| \(.name) | \(.version) |"' "$J"
    echo
    echo "## Load during each phase"
    echo
    echo "CPUs used on average by the bench (its cgroup) and by everything else on the machine (/proc/stat minus the bench). A phase during which the rest used more than ${BENCH_BUSY_LIMIT:-0.25} CPUs is marked UNRELIABLE: its figures are reported as they came out, but other load was in them."
    echo
    echo "| bench | phase | seconds | bench CPUs | other CPUs | |"
    echo "|---|---|---|---|---|---|"
    jq -r '.phases[] | "| \(.bench) | \(.phase) | \(.seconds) | \(.bench_cpus // "?") | \(.other_cpus) | \(if .unreliable then "**UNRELIABLE**" else "" end)\(if .note then " " + .note else "" end) |"' "$J"
    for f in "$OUT"/*.md; do
        [ -f "$f" ] || continue
        echo
        cat "$f"
    done
    echo
    echo "## All ratios"
    echo
    echo "Subject / reference for each figure, computed within each round, then min / **median** / max over the rounds. ↓: lower is better (times, memory, sizes), ↑: higher is better. (!) marks a figure from an UNRELIABLE phase."
    echo
    echo "| bench | figure | subject / reference | subject, median | ratio min / **median** / max | |"
    echo "|---|---|---|---|---|---|"
    jq -r --arg higher "$HIGHER" "$JQ_NUM"'
        .metrics[] | select(.reference != null)
        | "| \(.bench) | \(.section) \(.metric) (\(.unit)) | \(.subject) / \(.reference) | \(.median | num(3)) | \(.ratio.min | num(3)) / **\(.ratio.median | num(3))** / \(.ratio.max | num(3)) | \(if ((.metric + " " + .unit) | test($higher)) then "↑" else "↓" end)\(if .unreliable then " (!)" else "" end) |"' "$J"
} >"$RES/$DATE.md"

# ------------------------------------------------------------------ chart
# One bar per ratio whose subject is airlock (any airlock row), from 1 to
# the median per-round ratio, whiskers from min to max; a log scale when
# the ratios span more than a factor of 4.
DAT=$(mktemp /tmp/airlock-bench-chart.XXXXXX)
trap 'rm -f "$DAT"' EXIT
jq -r --arg higher "$HIGHER" '
    [.metrics[] | select(.reference != null and (.subject | startswith("airlock"))
                 and .ratio.median != null)]
    | reverse | to_entries[]
    | .value as $m
    | [.key,
       $m.ratio.median, ($m.ratio.min // $m.ratio.median), ($m.ratio.max // $m.ratio.median),
       "\($m.bench) \($m.section) \($m.metric), \($m.subject) / \($m.reference) \(if (($m.metric + " " + $m.unit) | test($higher)) then "↑" else "↓" end)\(if $m.unreliable then " (!)" else "" end)"]
    | @tsv' "$J" >"$DAT"
rows=$(wc -l <"$DAT")
if [ "$rows" -gt 0 ]; then
    read -r lo hi < <(awk -F'\t' 'NR == 1 {lo = $3; hi = $4}
        {if ($3 < lo) lo = $3; if ($4 > hi) hi = $4}
        END {if (lo > 1) lo = 1; if (hi < 1) hi = 1; print lo, hi}' "$DAT")
    logscale=$(awk -v lo="$lo" -v hi="$hi" 'BEGIN {print (lo > 0 && hi / lo > 4) ? 1 : 0}')
    height=$((rows * 26 + 140))
    # Room on the left for the longest label (gnuplot's character widths,
    # about 4/5 of its bytes), the bars right of it.
    labels=$(awk -F'\t' '{n = length($5); if (n > m) m = n} END {print m + 2}' "$DAT")
    labels=$((labels * 4 / 5 + 2))
    width=$((labels * 8 + 560))
    {
        echo "set terminal svg size $width,$height dynamic noenhanced font 'sans,12' background rgb 'white'"
        echo "set output '$RES/$DATE.svg'"
        printf '%s\n' 'set datafile separator "\t"'
        printf '%s\n' "set title \"airlock / reference, $DATE, $(nproc) CPUs\\nbar: median of the per-round ratios; whiskers: min-max over the rounds\\n↓: below 1 is better for airlock, ↑: above 1; (!): the machine was busy\""
        echo "set style fill solid 0.6 border lc rgb '#1f4e79'"
        echo "set ytics nomirror scale 0"
        echo "set yrange [-0.7:$rows-0.3]"
        echo "set grid xtics lc rgb '#dddddd'"
        echo "set key off"
        echo "set lmargin $labels"
        echo "set xlabel 'ratio airlock / reference'"
        if [ "$logscale" = 1 ]; then
            echo "set logscale x 2"
            echo "set xrange [$(awk -v v="$lo" 'BEGIN {print v / 1.3}'):$(awk -v v="$hi" 'BEGIN {print v * 1.7}')]"
        else
            echo "set xrange [$(awk -v v="$lo" 'BEGIN {print (v > 0.2 ? v - 0.1 : 0)}'):$(awk -v v="$hi" 'BEGIN {print v + 0.3}')]"
        fi
        echo "set arrow from 1, graph 0 to 1, graph 1 nohead lc rgb '#c00000' lw 2 dt 2"
        echo "plot '$DAT' using (\$2 > 1 ? (1 + \$2) / 2 : (\$2 + 1) / 2):1:(\$2 > 1 ? (\$2 - 1) / 2 : (1 - \$2) / 2):(0.3):yticlabels(5) title 'median ratio' with boxxyerror lc rgb '#6fa8dc', \\"
        echo "     '' using 2:1:3:4 title 'min-max' with xerrorbars lc rgb '#000000' pt 7 ps 0.5, \\"
        echo "     '' using (\$4):1:(sprintf('  %.2f', \$2)) title 'median' with labels left tc rgb '#333333'"
    } >"$DAT.gp"
    if ! gnuplot "$DAT.gp"; then
        echo "bench/report.sh: gnuplot failed; no chart" >&2
    fi
    rm -f "$DAT.gp"
else
    echo "bench/report.sh: no ratio of airlock in $OUT: no chart" >&2
fi

for ext in md json svg; do
    [ -f "$RES/$DATE.$ext" ] && cp "$RES/$DATE.$ext" "$RES/latest.$ext"
done

# ------------------------------------------------------------------ README
# BENCH_README=1: the README's table of airlock's ratios, between
# <!-- bench:begin --> and <!-- bench:end -->.
if [ "${BENCH_README:-0}" = 1 ] && grep -q '<!-- bench:begin -->' "$here/README.md"; then
    table=$(mktemp /tmp/airlock-bench-readme.XXXXXX)
    {
        echo "<!-- bench:begin -->"
        echo "$(jq -r '.machine | "\(.nproc) CPUs (\(.cpu)), kernel \(.kernel)"' "$J"), $DATE ([bench/results/$DATE.md](bench/results/$DATE.md)); ratio airlock / reference within each round, min / **median** / max over the rounds:"
        echo
        echo "| figure | airlock | reference | ratio |"
        echo "|---|---|---|---|"
        jq -r --arg higher "$HIGHER" "$JQ_NUM"'
            .metrics[] | select(.reference != null and (.subject | startswith("airlock")))
            | "| \(.bench) \(.section) \(.metric) (\(.unit), \(if ((.metric + " " + .unit) | test($higher)) then "↑" else "↓" end))\(if .subject != "airlock" then ", " + .subject else "" end)\(if .unreliable then " (!)" else "" end) | \(.median | num(2)) | \(.reference) | \(.ratio.min | num(2)) / **\(.ratio.median | num(2))** / \(.ratio.max | num(2)) |"' "$J"
        jq -r '[.metrics[] | select(.metric == "daemon-got-sigterm") | "\(.subject) \(.median) \(.unit)"]
            | if length > 0 then "\nRounds in which an orphaned daemon got SIGTERM when the init did (rather than SIGKILL as PID 1 exited): \(join(", "))." else empty end' "$J"
        echo "<!-- bench:end -->"
    } >"$table"
    awk -v table="$table" '
        /<!-- bench:begin -->/ {while ((getline l < table) > 0) print l; skip = 1; next}
        /<!-- bench:end -->/ {skip = 0; next}
        !skip' "$here/README.md" >"$table.readme" && cat "$table.readme" >"$here/README.md"
    rm -f "$table" "$table.readme"
    echo "# README.md: the table between the bench markers is now this run's"
fi

echo "# bench/results/$DATE.md, .json, .svg (and latest.*): $(jq '.metrics | length' "$J") figures, $(jq '[.phases[] | select(.unreliable)] | length' "$J") unreliable phases of $(jq '.phases | length' "$J")"
