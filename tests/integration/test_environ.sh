#!/bin/bash
# The container environment through the real build/airlock as PID 1: the
# files it writes (exact bytes, modes, secrets left out), what the app and a
# service get, and changes made by an init.d script.
# Single quotes around $VARS are deliberate: the inner shells expand them.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

ROOT=$T/root
CE=$ROOT/etc/container_environment
mkdir -p "$ROOT/etc"

# Nasty bytes: newline, both quotes, $, backquote, backslash, a trailing
# newline and bytes that are not UTF-8.
NASTY=$(printf 'l1\nit'"'"'s "q" $HOME `id` \\n \\ \377\376 caf\303\251|')
NASTY=${NASTY%|}$'\n'
KEYS="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIairlocktestsecretkey test"

# hexof FILE: the bytes of a file, comparable as a string.
hexof() { od -An -tx1 -v "$1" | tr -d ' \n'; }
hexstr() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }

# run_airlock ARGS...: airlock as PID 1 with the test's environment; RC is
# its status, $T/err its log.
run_airlock() {
    RC=0
    env NASTY="$NASTY" OLDVAR=old AIRLOCK_AUTHORIZED_KEYS="$KEYS" \
        AIRLOCK_ROOT="$ROOT" AIRLOCK_SSH=off AIRLOCK_SYSLOG=off T="$T" \
        timeout -k 2 30 unshare --pid --fork --mount-proc --kill-child \
        "$AIRLOCK" "$@" 2>"$T/err" || RC=$?
}

# --- the files, and the app's view
run_airlock -- sh -c 'printf %s "$NASTY" > "$T/app_nasty"'
expect_eq "environ: airlock ran the app" 0 "$RC"
check "environ: /etc/container_environment/NASTY holds the exact bytes" \
    test "$(hexof "$CE/NASTY")" = "$(hexstr "$NASTY")"
check "environ: the app gets the exact value" \
    test "$(hexof "$T/app_nasty")" = "$(hexstr "$NASTY")"

# Without startup scripts the directory is written beside the start (the
# app does not wait for it); a stop right after still leaves it whole.
# Unchanged on the next start (a container restart): not rewritten.
ino_before=$(stat -c %i "$CE/NASTY" "$CE/OLDVAR" "$ROOT/etc/container_environment.json" | tr '\n' ' ')
run_airlock -v -- true
ino_after=$(stat -c %i "$CE/NASTY" "$CE/OLDVAR" "$ROOT/etc/container_environment.json" | tr '\n' ' ')
expect_eq "environ: an unchanged environment is not rewritten (same inodes)" \
    "$ino_before" "$ino_after"
# PID 1 found that out itself, by reading, before forking any writer.
check "environ: PID 1 saw the environment unchanged and forked no writer" \
    grep -q 'container environment: unchanged since the last start' "$T/err"
RC=0
env NASTY="$NASTY" OLDVAR=changed AIRLOCK_ROOT="$ROOT" AIRLOCK_SSH=off \
    AIRLOCK_SYSLOG=off timeout -k 2 30 unshare --pid --fork --mount-proc \
    --kill-child "$AIRLOCK" -- true 2>"$T/err" || RC=$?
expect_eq "environ: a changed value is rewritten" changed "$(cat "$CE/OLDVAR")"
check "environ: ...and the .json follows" \
    grep -q '"OLDVAR": *"changed"' "$ROOT/etc/container_environment.json"
run_airlock -- true
for sh in sh bash; do
    $sh -c '. "$1/etc/container_environment.sh"; printf %s "$NASTY"' \
        _ "$ROOT" >"$T/$sh.out" 2>"$T/$sh.err"
    check "environ: sourcing the .sh with $sh gives the exact bytes" \
        test "$(hexof "$T/$sh.out")" = "$(hexstr "$NASTY")"
done
if command -v python3 >/dev/null; then
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.stdout.buffer.write(d["NASTY"].encode("utf-8", "surrogateescape"))
' "$ROOT/etc/container_environment.json" >"$T/json.out" 2>"$T/json.err"
    check "environ: the .json decodes back to the exact bytes (surrogateescape)" \
        test "$(hexof "$T/json.out")" = "$(hexstr "$NASTY")"
fi
expect_eq "environ: directory mode" 700 "$(stat -c %a "$CE")"
expect_eq "environ: variable file mode" 600 "$(stat -c %a "$CE/NASTY")"
expect_eq "environ: .sh mode" 600 "$(stat -c %a "$ROOT/etc/container_environment.sh")"
expect_eq "environ: .json mode" 600 "$(stat -c %a "$ROOT/etc/container_environment.json")"
check "environ: AIRLOCK_AUTHORIZED_KEYS is not written anywhere" \
    test ! -e "$CE/AIRLOCK_AUTHORIZED_KEYS" -a \
    -z "$(grep -rl airlocktestsecretkey "$ROOT/etc")"

# --- an init.d script changes the environment; the app and a service see it
mkdir -p "$ROOT/etc/airlock/init.d" "$ROOT/etc/service/envsvc"
cat >"$ROOT/etc/airlock/init.d/10-env" <<'EOF'
#!/bin/sh
ce=$AIRLOCK_ROOT/etc/container_environment
echo "from-script" > "$ce/NEWVAR"
rm -f "$ce/OLDVAR"
EOF
cat >"$ROOT/etc/service/envsvc/run" <<'EOF'
#!/bin/sh
printf '%s|%s|%s' "$NEWVAR" "${OLDVAR-unset}" "$NASTY" > "$T/svc.tmp"
mv "$T/svc.tmp" "$T/svc_out"
exec sleep 60
EOF
chmod 755 "$ROOT/etc/airlock/init.d/10-env" "$ROOT/etc/service/envsvc/run"
run_airlock -- sh -c '
printf "%s|%s|%s" "$NEWVAR" "${OLDVAR-unset}" "$NASTY" > "$T/app_out"
i=0; while [ ! -e "$T/svc_out" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done'
expect_eq "environ: the app sees what the init.d script set and removed" \
    "$(hexstr "from-script|unset|$NASTY")" "$(hexof "$T/app_out")"
if [ -e "$T/svc_out" ]; then
    expect_eq "environ: a service sees what the init.d script set and removed" \
        "$(hexstr "from-script|unset|$NASTY")" "$(hexof "$T/svc_out")"
else
    not_ok "environ: a service sees what the init.d script set and removed (service did not run)"
fi
check "environ: the .sh is regenerated after the startup scripts" \
    grep -q "^export NEWVAR='from-script'$" "$ROOT/etc/container_environment.sh"
check "environ: a removed variable leaves the .json" \
    test -z "$(grep -l OLDVAR "$ROOT/etc/container_environment.json")"
rm -rf "$ROOT/etc/service/envsvc" "$ROOT/etc/airlock/init.d/10-env"

# --- a later start mirrors the new environment: stale files go
RC=0
env -i PATH="$PATH" ONLY=1 AIRLOCK_ROOT="$ROOT" AIRLOCK_SSH=off \
    AIRLOCK_SYSLOG=off timeout -k 2 30 \
    unshare --pid --fork --mount-proc --kill-child "$AIRLOCK" -- true \
    2>"$T/err" || RC=$?
expect_eq "environ: restart exit status" 0 "$RC"
check "environ: files of variables no longer set are removed" \
    test ! -e "$CE/NASTY" -a ! -e "$CE/NEWVAR" -a -e "$CE/ONLY"

# --- /etc read-only: the environment goes to the run dir, and a startup
# script that edits it there (through AIRLOCK_ENV_DIR) is read back
RO=$T/roroot
mkdir -p "$RO/etc/airlock/init.d" "$RO/run"
cat >"$RO/etc/airlock/init.d/10-env" <<'EOF2'
#!/bin/sh
printf from-ro-script >"$AIRLOCK_ENV_DIR/container_environment/ROVAR"
EOF2
chmod 755 "$RO/etc/airlock/init.d/10-env"
RC=0
env -i PATH="$PATH" T="$T" AIRLOCK_ROOT="$RO" AIRLOCK_SSH=off \
    AIRLOCK_SYSLOG=off timeout -k 2 30 \
    unshare --mount --pid --fork --mount-proc --kill-child sh -c '
        mount --bind "$AIRLOCK_ROOT/etc" "$AIRLOCK_ROOT/etc" &&
        mount -o remount,bind,ro "$AIRLOCK_ROOT/etc" &&
        exec "$0" -- sh -c "printf %s:%s \"\${ROVAR-unset}\" \"\$AIRLOCK_ENV_DIR\" >\"\$T/ro_out\""' \
    "$AIRLOCK" 2>"$T/err" || RC=$?
expect_eq "environ, read-only /etc: exit status" 0 "$RC"
expect_eq "environ, read-only /etc: the app sees what a startup script set in \$AIRLOCK_ENV_DIR" \
    "from-ro-script:$RO/run/airlock/etc" "$(cat "$T/ro_out" 2>/dev/null)"
check "environ, read-only /etc: one line says where the environment went" \
    grep -q "so it is in '$RO/run/airlock/etc/container_environment'" "$T/err"

finish
