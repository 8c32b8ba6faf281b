#!/bin/bash
# What ships besides the behaviour: `--version` on every binary, the man
# pages (rendered by groff with every warning on; every option of --help
# documented), and `make install` (stripped binaries that still run, the man
# pages under share/man/man8, the build directory's binaries untouched).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

VERSION=$(cat "$B/../VERSION")

# ---- --version -------------------------------------------------------------
bins=(airlock setuser)
if [ -x "$B/airlock-sshd" ]; then
    bins+=(airlock-sshd)
fi
for bin in "${bins[@]}"; do
    for flag in --version -V; do
        out=$("$B/$bin" "$flag" 2>"$T/err")
        rc=$?
        expect_eq "$bin $flag: name and version on stdout, status 0, no stderr" \
            "$bin $VERSION|0|" "$out|$rc|$(cat "$T/err")"
    done
done
expect_eq "airlock setuser --version: setuser's" "setuser $VERSION" \
    "$("$B/airlock" setuser --version)"
# setuser takes options only before USER: after it, --version is CMD's.
expect_eq "setuser USER --version: an argument of CMD" "--version" \
    "$("$B/setuser" "$(id -un)" printf %s --version)"
if [ -x "$B/airlock-sshd" ]; then
    "$B/airlock-sshd" --version extra >/dev/null 2>"$T/err"
    expect_eq "airlock-sshd --version with more arguments: a usage error" 2 "$?"
fi

# ---- man pages --------------------------------------------------------------
for bin in "${bins[@]}"; do
    page=$B/man/$bin.8
    if [ ! -f "$page" ]; then
        not_ok "$page not built"
        continue
    fi
    groff -man -ww -z -Tutf8 "$page" >"$T/out" 2>"$T/err"
    rc=$?
    expect_eq "man $bin: groff -ww renders it without a warning" "0|" "$rc|$(cat "$T/err")"
    text=$(groff -man -Tutf8 -P-cbou "$page" 2>/dev/null)
    check "man $bin: NAME, SYNOPSIS, EXIT STATUS and the version" \
        grep -q "airlock $VERSION" <<<"$text"
    for section in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" "SEE ALSO"; do
        grep -qx "$section" <<<"$text" || not_ok "man $bin: no $section section"
    done
done
# Every long option --help names is in the page (the pages are written by
# hand; this is what keeps them from falling behind).
for bin in airlock setuser; do
    text=$(groff -man -Tutf8 -P-cbou "$B/man/$bin.8" 2>/dev/null)
    missing=""
    for opt in $("$B/$bin" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
        grep -qF -- "$opt" <<<"$text" || missing="$missing $opt"
    done
    expect_eq "man $bin: every option of --help is documented" "" "$missing"
done
if [ -x "$B/airlock-sshd" ]; then
    text=$(groff -man -Tutf8 -P-cbou "$B/man/airlock-sshd.8" 2>/dev/null)
    missing=""
    # The names in string constants, but env.c's, which lists the ones
    # kept out of sessions.
    vars=$(grep -ohE '"AIRLOCK_(SSH|AUTHORIZED_KEYS)[A-Z_]*"' "$B"/../src/sshd/*.[ch] \
        "$B"/../src/keys/*.[ch] --exclude=env.c | tr -d '"' | sort -u)
    for var in $vars; do
        grep -qw -- "$var" <<<"$text" || missing="$missing $var"
    done
    check "man airlock-sshd: more than 20 variables found in the code" \
        test "$(wc -w <<<"$vars")" -gt 20
    expect_eq "man airlock-sshd: every AIRLOCK_SSH_*/AIRLOCK_AUTHORIZED_KEYS* variable the code reads" \
        "" "$missing"
fi

# ---- make install --------------------------------------------------------------
D=$T/dest
if make -s -C "$B/.." B="$B" DESTDIR="$D" PREFIX=/usr install >"$T/out" 2>&1; then
    for bin in "${bins[@]}"; do
        f=$D/usr/sbin/$bin
        expect_eq "install: $bin stripped (no .symtab, no .debug_info)" "" \
            "$(readelf -SW "$f" 2>&1 | grep -E '\.(symtab|debug_info)')"
        expect_eq "install: the stripped $bin runs" "$bin $VERSION" "$("$f" --version)"
        check "install: $B/$bin keeps its debug information" \
            grep -q '\.debug_info' <<<"$(readelf -SW "$B/$bin")"
        m=$D/usr/share/man/man8/$bin.8
        expect_eq "install: man8/$bin.8, mode 0644, version filled in" "644|0" \
            "$(stat -c %a "$m" 2>/dev/null)|$(grep -c @VERSION@ "$m" 2>/dev/null)"
    done
else
    not_ok "make install: $(tail -n 5 "$T/out")"
fi

finish
