# shellcheck shell=bash
# Sourced by bench/sshd.sh and bench/syslog.sh after bench/lib.sh: figures
# kept per round (a space-separated list, "x" for a round that has none)
# into metrics.jsonl, and this bench's figures back out as markdown.

# paired "A1 A2 ..." "B1 B2 ...": two lines, the values of A and of B in
# the rounds where both are numbers (rounds paired by position).
paired() {
    paste -d' ' <(tr ' ' '\n' <<<"$1" | grep .) <(tr ' ' '\n' <<<"$2" | grep .) |
        awk '$1 ~ /^[0-9.]+$/ && $2 ~ /^[0-9.]+$/ {a = a " " $1; b = b " " $2}
             END {print a; print b}'
}

# numbers "V1 x V3 ...": the values that are numbers.
numbers() { tr ' ' '\n' <<<"$1" | grep -E '^[0-9.]+$' | tr '\n' ' '; }

# figure SECTION METRIC UNIT SUBJECT "V1 V2 ..." [REFERENCE "R1 R2 ..."]:
# bench_metric with SUBJECT's min/median/max over its rounds and, given a
# REFERENCE other than SUBJECT itself, the min/median/max of the per-round
# ratios SUBJECT/REFERENCE over the rounds both have a figure for.
figure() {
    local mn md mx rmn=n/a rmd=n/a rmx=n/a a b
    read -r mn md mx <<<"$(min_med_max "$(numbers "$5")")"
    if [ $# -ge 7 ] && [ "$6" != "$4" ]; then
        { read -r a; read -r b; } <<<"$(paired "$5" "$7")"
        read -r rmn rmd rmx <<<"$(round_ratios "$a" "$b")"
        bench_metric "$1" "$2" "$3" "$4" "$6" "$mn" "$md" "$mx" "$rmn" "$rmd" "$rmx"
    else
        bench_metric "$1" "$2" "$3" "$4" - "$mn" "$md" "$mx"
    fi
}

# metric_table SECTION: this bench's figures of SECTION in metrics.jsonl
# as a markdown table (nothing if there are none): one row per metric and
# subject, the rows of a metric together in the order given, min / median /
# max over the rounds (one number when they are equal), and the per-round
# ratio to the reference.
metric_table() {
    [ -s "$BENCH_OUT/metrics.jsonl" ] || return 0
    jq -rs --arg bench "$BENCH_NAME" --arg section "$1" '
        def n: if . == null then "n/a" else tostring end;
        def mmm: if .min == .max then (.min | n)
                 else "\(.min | n) / \(.median | n) / \(.max | n)" end;
        map(select(.bench == $bench and .section == $section))
        | (map(.metric)) as $order
        | to_entries | sort_by(.value.metric as $m | [($order | index($m)), .key]) | map(.value)
        | if length == 0 then empty else
            "| metric | subject | min / median / max | ratio to the reference, min / median / max |",
            "|---|---|---|---|",
            (.[] | "| \(.metric) (\(.unit)) | \(.subject) | \(mmm) | \(
                if .reference == null then "" else
                    "\(.ratio | mmm) (/ \(.reference))" end) |")
          end' "$BENCH_OUT/metrics.jsonl"
}

# phase_table: this bench's phases (phases.jsonl) as a markdown table.
phase_table() {
    [ -s "$BENCH_OUT/phases.jsonl" ] || return 0
    echo "| phase | seconds | CPUs used by the bench | by everything else | |"
    echo "|---|---|---|---|---|"
    jq -r --arg bench "$BENCH_NAME" 'select(.bench == $bench)
        | "| \(.phase) | \(.seconds) | \(.bench_cpus // "?") | \(.other_cpus) | \(
            if .unreliable then "busy machine: unreliable" else "" end) |"' \
        "$BENCH_OUT/phases.jsonl"
}

# airlock_version REPO: VERSION and, in a git checkout, the commit.
airlock_version() {
    local v d
    v=$(cat "$1/VERSION" 2>/dev/null)
    d=$(git -C "$1" describe --always --dirty 2>/dev/null)
    echo "${v:-?}${d:+ ($d)}"
}
