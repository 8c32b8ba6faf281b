#!/bin/bash
# build/setuser as root: ids, groups, capabilities and no_new_privs read back
# from /proc/self/status of CMD itself, the session environment, exec in
# place (same pid, signals, exit status), a setuid-root binary that must not
# regain root, and the error cases with their exit statuses. A fake user
# database is bind-mounted over /etc/passwd and /etc/group only inside a
# private mount namespace; the machine's /etc is never changed.
# The single-quoted scripts below are expanded by the inner shell, as meant.
# shellcheck disable=SC2016
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

SETUSER=$B/setuser
if [ "$(id -u)" -ne 0 ]; then
    echo "# test_setuser.sh needs root"
    not_ok "running as root"
    finish
    exit
fi

# status_field FILE NAME: the values of a /proc/PID/status line, one space
# between them, no trailing blanks.
status_field() {
    awk -F'\t' -v k="$2:" '$1 == k { $1 = ""; print }' "$1" | xargs
}

# sorted_words WORDS...: numerically sorted, space separated.
sorted_words() {
    printf '%s\n' "$@" | sort -n | xargs
}

# run_err NAME WANT_STATUS ARGS...: runs setuser, expects that exit status,
# an empty stdout and exactly one stderr line starting "setuser[".
run_err() {
    local name=$1 want=$2 rc lines
    shift 2
    "$SETUSER" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    lines=$(wc -l <"$T/err")
    if [ "$rc" -eq "$want" ] && [ "$lines" -eq 1 ] && [ ! -s "$T/out" ] &&
        grep -q '^setuser\[[0-9]*\]: error: ' "$T/err"; then
        ok "$name"
    else
        not_ok "$name (status $rc want $want, $lines stderr lines: $(head -c 300 "$T/err"))"
    fi
}

ZERO=0000000000000000
mkdir -m 1777 "$T/w"

# ---- nobody: ids, groups, capabilities, no_new_privs --------------------
nobody_uid=$(id -u nobody)
nobody_gid=$(id -g nobody)
# shellcheck disable=SC2046 # word splitting of the group list is wanted
nobody_groups=$(sorted_words $(id -G nobody))

"$SETUSER" nobody cat /proc/self/status >"$T/st.nobody"
expect_eq "nobody: exit status 0" 0 $?
u=$nobody_uid
g=$nobody_gid
expect_eq "nobody: Uid real/eff/saved/fs" "$u $u $u $u" "$(status_field "$T/st.nobody" Uid)"
expect_eq "nobody: Gid real/eff/saved/fs" "$g $g $g $g" "$(status_field "$T/st.nobody" Gid)"
# shellcheck disable=SC2046
expect_eq "nobody: Groups exact" "$nobody_groups" "$(sorted_words $(status_field "$T/st.nobody" Groups))"
expect_eq "nobody: NoNewPrivs 1" 1 "$(status_field "$T/st.nobody" NoNewPrivs)"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
    expect_eq "nobody: $c 0" "$ZERO" "$(status_field "$T/st.nobody" "$c")"
done

# ---- environment -----------------------------------------------------------
IFS=: read -r _ _ _ _ _ pw_home pw_shell < <(getent passwd nobody)
expect_eq "nobody: HOME USER LOGNAME SHELL set, PATH and others kept" \
    "$pw_home|nobody|nobody|$pw_shell|/usr/bin:/bin|bar" \
    "$(FOO=bar PATH=/usr/bin:/bin "$SETUSER" nobody sh -c 'echo "$HOME|$USER|$LOGNAME|$SHELL|$PATH|$FOO"')"

clean=$(env -i PATH=/usr/bin:/bin TERM=xterm LANG=C.UTF-8 LC_TIME=POSIX FOO=bar \
    LD_LIBRARY_PATH=/x HOME=/root USER=root "$SETUSER" --clean-env nobody env | sort | xargs)
expect_eq "--clean-env keeps only PATH TERM LANG LC_* plus the session variables" \
    "$(printf '%s\n' "HOME=$pw_home" LANG=C.UTF-8 LC_TIME=POSIX LOGNAME=nobody \
        PATH=/usr/bin:/bin "SHELL=$pw_shell" TERM=xterm USER=nobody | sort | xargs)" \
    "$clean"

# nobody's home usually does not exist: --login warns and uses /.
cwd=$(cd /tmp && "$SETUSER" --login nobody sh -c 'pwd' 2>"$T/err")
if [ -d "$pw_home" ]; then want_cwd=$pw_home; else want_cwd=/; fi
expect_eq "--login without a home directory falls back to /" "$want_cwd" "$cwd"
cwd=$(cd /tmp && "$SETUSER" nobody sh -c 'pwd' 2>/dev/null)
expect_eq "without --login the working directory is kept" /tmp "$cwd"

# ---- numeric ids without passwd entry ----------------------------------------
if getent passwd 12345 >/dev/null; then
    not_ok "uid 12345 has a passwd entry here; the numeric cases assume none"
fi
"$SETUSER" 12345:12345 cat /proc/self/status >"$T/st.num"
expect_eq "12345:12345: Uid" "12345 12345 12345 12345" "$(status_field "$T/st.num" Uid)"
expect_eq "12345:12345: Gid" "12345 12345 12345 12345" "$(status_field "$T/st.num" Gid)"
expect_eq "12345:12345: Groups exactly 12345" 12345 "$(status_field "$T/st.num" Groups)"
expect_eq "12345:12345: CapBnd 0" "$ZERO" "$(status_field "$T/st.num" CapBnd)"
expect_eq "12345:12345: NoNewPrivs 1" 1 "$(status_field "$T/st.num" NoNewPrivs)"
expect_eq "12345 alone: gid defaults to the uid, HOME / USER 12345" \
    "12345 12345 12345|/|12345|/bin/sh" \
    "$("$SETUSER" 12345 sh -c 'echo "$(id -u) $(id -g) $(id -G)|$HOME|$USER|$SHELL"')"
expect_eq "nobody:12: exactly the given group" "$nobody_uid 12 12" \
    "$("$SETUSER" "nobody:12" sh -c 'echo "$(id -u) $(id -g) $(id -G)"')"

# ---- exec in place: pid, signal, exit status -----------------------------
"$SETUSER" nobody sh -c 'exit 42'
expect_eq "exit status is CMD's" 42 $?

"$SETUSER" nobody sh -c "echo \$\$ >$T/w/pid; trap 'echo TERM >$T/w/sig; exit 7' TERM
    i=0; while [ \$i -lt 500 ]; do sleep 0.02; i=\$((i + 1)); done; exit 1" &
spid=$!
CLEANUP_PIDS+=("$spid")
if wait_until 5 test -s "$T/w/pid"; then
    expect_eq "CMD runs as setuser's pid (exec, no parent left)" "$spid" "$(cat "$T/w/pid")"
    kill -TERM "$spid"
    wait "$spid"
    rc=$?
    CLEANUP_PIDS=()
    expect_eq "SIGTERM to setuser's pid reaches CMD" "TERM 7" "$(cat "$T/w/sig" 2>/dev/null) $rc"
else
    not_ok "CMD did not start"
fi

# ---- a setuid-root binary cannot regain root ---------------------------
cat >"$T/suid.c" <<'EOF'
#include <stdio.h>
#include <unistd.h>
int main(void)
{
    int r = setuid(0);
    printf("euid=%d setuid0=%d\n", (int)geteuid(), r);
    return 0;
}
EOF
if cc -o "$T/suid" "$T/suid.c"; then
    chown root:root "$T/suid"
    chmod 4755 "$T/suid"
    # Control: without no_new_privs the same drop does give root back, so
    # the filesystem honours setuid and the next check means something.
    ctl=$(setpriv --reuid="$nobody_uid" --regid="$nobody_gid" --clear-groups "$T/suid")
    expect_eq "control: setuid bit works without setuser" "euid=0 setuid0=0" "$ctl"
    expect_eq "setuid-root binary cannot regain root under setuser" \
        "euid=$nobody_uid setuid0=-1" "$("$SETUSER" nobody "$T/suid")"
else
    not_ok "compiling the setuid test binary"
fi

# ---- named user with supplementary groups, fake /etc --------------------
mkdir -p "$T/etc" "$T/home/alice"
chown 4001:4001 "$T/home/alice"
{
    grep -E '^(root|nobody):' /etc/passwd
    echo "alice:x:4001:4001:Alice:$T/home/alice:/bin/bash"
    echo "bob:x:4002:4002::/:"
} >"$T/etc/passwd"
{
    grep -E '^(root|nogroup):' /etc/group
    echo "alice:x:4001:"
    echo "devs:x:4100:alice,bob"
    echo "ops:x:4101:alice"
    echo "bob:x:4002:"
} >"$T/etc/group"
in_fake_etc() {
    unshare --mount sh -c 'mount --bind "$1/passwd" /etc/passwd &&
        mount --bind "$1/group" /etc/group && shift && exec "$@"' \
        sh "$T/etc" "$@"
}
in_fake_etc "$SETUSER" alice cat /proc/self/status >"$T/st.alice"
expect_eq "alice: Uid" "4001 4001 4001 4001" "$(status_field "$T/st.alice" Uid)"
# shellcheck disable=SC2046
expect_eq "alice: Groups = primary + every group listing her" "4001 4100 4101" \
    "$(sorted_words $(status_field "$T/st.alice" Groups))"
expect_eq "alice:ops: Groups exactly ops" 4101 \
    "$(in_fake_etc "$SETUSER" alice:ops sh -c 'id -G')"
expect_eq "alice --login: cwd and HOME are her home" "$T/home/alice|$T/home/alice|/bin/bash" \
    "$(cd / && in_fake_etc "$SETUSER" --login alice sh -c 'echo "$(pwd)|$HOME|$SHELL"')"
expect_eq "bob: empty shell gets /bin/sh" "/bin/sh|/" \
    "$(in_fake_etc "$SETUSER" bob sh -c 'echo "$SHELL|$HOME"')"
expect_eq "4001 numeric: passwd fields, primary group only" "alice|4001" \
    "$(in_fake_etc "$SETUSER" 4001 sh -c 'echo "$USER|$(id -G)"')"

# ---- errors -------------------------------------------------------------------
run_err "unknown user: status 2, one line" 2 no-such-user-xq true
run_err "unknown group: status 2, one line" 2 nobody:no-such-group-xq true
run_err "bad spec a:b:c: status 2" 2 a:b:c true
run_err "uid 4294967295 out of range: status 2" 2 4294967295 true
run_err "missing CMD: status 2" 2 nobody
run_err "no arguments: status 2" 2
run_err "unknown option: status 2" 2 --bogus nobody true
run_err "command not found: status 127" 127 nobody no-such-command-xq
run_err "command path not found: status 127" 127 nobody /no/such/cmd
printf 'echo hi\n' >"$T/noexec"
chmod 644 "$T/noexec"
run_err "command not executable: status 126" 126 nobody "$T/noexec"
run_err "directory as command: status 126" 126 nobody /
printf '#!/no/such/interpreter\n' >"$T/badinterp"
chmod 755 "$T/badinterp"
# Not found is not found, the interpreter's included: 127, as bash and dash
# say, and as airlock says for an app or startup script (spawn_exec_status).
run_err "script with a missing interpreter: status 127" 127 nobody "$T/badinterp"

# Not root: another user is refused, the current user is fine.
cp "$SETUSER" "$T/setuser"
chmod 755 "$T/setuser"
setpriv --reuid="$nobody_uid" --regid="$nobody_gid" --clear-groups \
    "$T/setuser" 12345 true >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q 'that needs root with CAP_SETUID and CAP_SETGID' "$T/err"; then
    ok "non-root caller to another user: status 2, one line"
else
    not_ok "non-root caller to another user (status $rc: $(cat "$T/err"))"
fi
out=$(setpriv --reuid="$nobody_uid" --regid="$nobody_gid" --init-groups \
    "$T/setuser" nobody sh -c 'echo "$(id -u) $(grep NoNewPrivs /proc/self/status | cut -f2)"' 2>&1)
expect_eq "non-root caller to itself: runs, with no_new_privs" "$nobody_uid 1" "$out"

# As under `docker run --user 12345`: uid 12345, gid 0, no passwd entry.
out=$(setpriv --reuid=12345 --regid=0 --clear-groups \
    "$T/setuser" 12345 sh -c 'echo "$(id -u) $(id -g) $(grep NoNewPrivs /proc/self/status | cut -f2)"' 2>&1)
expect_eq "non-root uid 12345 gid 0 to 12345: runs, keeps gid 0, no_new_privs" "12345 0 1" "$out"

# The same front end inside airlock.
if [ -x "$AIRLOCK" ]; then
    "$AIRLOCK" setuser nobody cat /proc/self/status >"$T/st.airlock"
    expect_eq "airlock setuser: Uid and NoNewPrivs" "$u $u $u $u|1" \
        "$(status_field "$T/st.airlock" Uid)|$(status_field "$T/st.airlock" NoNewPrivs)"
    run_airlock_err() {
        "$AIRLOCK" setuser no-such-user-xq true 2>"$T/err"
        echo "$?|$(wc -l <"$T/err")"
    }
    expect_eq "airlock setuser unknown user: status 2, one line" "2|1" "$(run_airlock_err)"
else
    echo "# $AIRLOCK not built: 'airlock setuser' cases skipped"
fi

expect_eq "--help: status 0" 0 "$("$SETUSER" --help >/dev/null 2>&1; echo $?)"

finish
