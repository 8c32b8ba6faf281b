#!/bin/bash
# What ships besides the behaviour: `--version` on every binary.
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

finish
