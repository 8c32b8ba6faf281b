#!/bin/bash
# The rootfs e2e (`make e2e`): airlock installed as the Dockerfile installs
# it into a real Debian bookworm root filesystem (built once by build.sh,
# cached), started as a container runtime would start it (container.sh),
# in four modes (and a fifth: as root, with airlock installed by apt-get
# from `make deb`), with the same checks in each, using the real OpenSSH
# client inside the container's network namespace. Prints one closing
# "N passed, N failed" line. Every wait is bounded; every namespace, mount
# and process is gone when it returns, whether a check failed or not.
set -u
B=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
B=$(cd "$B" && pwd)
# shellcheck source=tests/integration/lib.sh
AIRLOCK_BUILD=$B source "$repo/tests/integration/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! unshare --mount --net --pid --fork true 2>/dev/null; then
    echo "rootfs: needs root and namespaces"
    echo "0 passed, 1 failed"
    exit 1
fi
if [ ! -x "$B/airlock-sshd" ]; then
    echo "rootfs: $B/airlock-sshd not built (SSH=no): nothing to test"
    echo "0 passed, 0 failed"
    exit 0
fi
t0=$(date +%s)
if ! rootfs=$(sh "$here/build.sh" "$repo"); then
    echo "rootfs: cannot build the Debian root filesystem"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "# rootfs $rootfs ready in $(($(date +%s) - t0)) s"

PORT=2222
GRACE=5
CT_UNSHARE= # the unshare process of the running container
CT_PID=     # its child: the container's PID 1 (airlock), as the host sees it
CT_DIR=

# Stops the running container, bounded: SIGTERM, then SIGKILL; unshare's
# --kill-child takes the namespace down with it.
stop_container() {
    [ -n "$CT_UNSHARE" ] || return 0
    kill -TERM "$CT_PID" 2>/dev/null
    wait_until $((GRACE + 3)) eval '! kill -0 "$CT_UNSHARE" 2>/dev/null' ||
        kill -KILL "$CT_UNSHARE" 2>/dev/null
    wait "$CT_UNSHARE" 2>/dev/null
    CT_UNSHARE=
    CT_PID=
}
trap 'stop_container; cleanup' EXIT

# make install DESTDIR=, as the Dockerfile's build stage, plus the service
# definition the Dockerfile copies.
install_dir=$T/install
if ! make -s -C "$repo" B="$B" install DESTDIR="$install_dir" \
    PREFIX=/usr/local >"$T/install.log" 2>&1; then
    echo "rootfs: make install failed:"
    cat "$T/install.log"
    echo "0 passed, 1 failed"
    exit 1
fi
mkdir -p "$install_dir/etc/service"
cp -R "$repo/etc/service/cron" "$install_dir/etc/service/"
# The Debian package (make deb), for the mode that installs it with apt.
if ! make -s -C "$repo" B="$B" deb >"$T/deb.log" 2>&1; then
    echo "rootfs: make deb failed:"
    cat "$T/deb.log"
    echo "0 passed, 1 failed"
    exit 1
fi
debs=("$B"/airlock_*.deb)
deb_file=${debs[0]}

ssh-keygen -q -N '' -C e2e-env -f "$T/key_env" </dev/null
ssh-keygen -q -N '' -C e2e-old -f "$T/key_old" </dev/null
ssh-keygen -q -N '' -C e2e-new -f "$T/key_new" </dev/null

# The image's own files for the test: the app (exits 42 on SIGTERM, so the
# status is the app's, not a signal's 143) and one supervised service.
make_extra() {
    local x=$1
    mkdir -p "$x/usr/local/bin" "$x/etc/service/e2e" \
        "$x/etc/airlock/authorized_keys.d"
    chmod 755 "$x/etc/airlock/authorized_keys.d"
    chmod "${ETC_AIRLOCK_MODE:-755}" "$x/etc/airlock"
    cat >"$x/usr/local/bin/e2e-app" <<'APP'
#!/bin/sh
trap 'echo "e2e-app: got SIGTERM"; exit 42' TERM
echo "e2e-app: up as uid $(id -u), env in ${AIRLOCK_ENV_DIR:-/etc}"
sleep 100000 &
wait
APP
    cat >"$x/etc/service/e2e/run" <<'SVC'
#!/bin/sh
echo "e2e-service: up as uid $(id -u)"
exec sleep 100001
SVC
    chmod 755 "$x/usr/local/bin/e2e-app" "$x/etc/service/e2e/run"
}

# secret_put DIR NAME USER PUBKEY: a Kubernetes Secret volume's layout,
# switched atomically as the kubelet does: files are links through ..data
# to a timestamped directory, and ..data is renamed over.
secret_put() {
    local d=$1 name=$2 user=$3 key=$4
    mkdir "$d/$name"
    cp "$key" "$d/$name/$user"
    ln -s "$name" "$d/..data_tmp"
    mv -T "$d/..data_tmp" "$d/..data"
    [ -L "$d/$user" ] || ln -s "..data/$user" "$d/$user"
}

# start_container MODE NAME=VALUE...: starts one and waits (bounded) for
# the app to be up. Returns non-zero when it did not come up.
start_container() {
    local mode=$1 user
    shift
    CT_DIR=$T/ct$((++CT_SEQ))
    mkdir -p "$CT_DIR"/{extra,upper,work,merged,secret}
    make_extra "$CT_DIR/extra"
    ln -s "$install_dir" "$CT_DIR/install"
    ln -s "$deb_file" "$CT_DIR/airlock.deb"
    user=root
    [ "$mode" = nonroot ] && user=app
    secret_put "$CT_DIR/secret" ..2026_01 "$user" "$T/key_old.pub"
    chmod -R a+rX "$CT_DIR/secret"
    # --pdeathsig: should this script die, even by SIGKILL, unshare goes
    # too, and --kill-child takes the container's PID 1 (and with it the
    # namespace and every mount in it) along.
    setpriv --pdeathsig=KILL \
        unshare --pid --mount --uts --ipc --net --fork --kill-child \
        sh "$here/container.sh" "$rootfs" "$CT_DIR" "$mode" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOSTNAME=airlock-e2e "$@" \
        >"$CT_DIR/out" 2>&1 </dev/null &
    CT_UNSHARE=$!
    CT_PID=
    # $! is setpriv, which execs unshare: the same pid.
    wait_until 5 eval 'CT_PID=$(pgrep -P "$CT_UNSHARE")' || return 1
    wait_until 10 grep -q 'e2e-app: up' "$CT_DIR/out"
}

# in_ct CMD...: runs CMD inside the container (all its namespaces and its
# root), as root of the host: for looking, not for the checks' actions.
in_ct() {
    timeout -k 2 20 nsenter -t "$CT_PID" -m -u -i -n -p -r -w "$@"
}

# sshc KEY USER CMD...: the host's OpenSSH client, run in the container's
# network namespace, against airlock-sshd on its loopback.
sshc() {
    local key=$1 user=$2
    shift 2
    timeout -k 2 20 nsenter -t "$CT_PID" -n ssh -p "$PORT" -i "$T/$key" \
        -o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes \
        -o LogLevel=ERROR "$user@127.0.0.1" "$@" </dev/null
}

listening() {
    nsenter -t "$CT_PID" -n ss -Hltn "sport = :$PORT" | grep -q .
}

zombies() {
    in_ct ps -eo stat= | grep -c '^Z'
}

# known_fail NAME REASON: a check that fails because of a defect not fixed
# yet; printed as such, counted as failed.
known_fail() {
    echo "not ok $1 # KNOWN FAILURE: $2"
    TESTS_FAILED=$((TESTS_FAILED + 1))
}

# The same checks in every mode.
run_mode() {
    local mode=$1 user uid mark old status t_stop logsock envdir
    user=root uid=0
    [ "$mode" = nonroot ] && user=app uid=65532
    mark=mark-$mode-$RANDOM
    echo "# mode $mode"
    if ! start_container "$mode" E2E_MARK="$mark" AIRLOCK_GRACE=$GRACE \
        AIRLOCK_SSH_USER=$user \
        AIRLOCK_AUTHORIZED_KEYS="$(cat "$T/key_env.pub")"; then
        not_ok "$mode: container starts"
        sed 's/^/#   /' "$CT_DIR/out"
        stop_container
        return
    fi
    ok "$mode: container starts, app runs"
    check "$mode: app runs as uid $uid" \
        grep -q "e2e-app: up as uid $uid," "$CT_DIR/out"
    envdir=/etc
    case $mode in nonroot | rootnocaps) envdir=/run/airlock/etc ;; esac
    check "$mode: the app finds the container environment in $envdir" \
        grep -q "e2e-app: up as uid $uid, env in $envdir\$" "$CT_DIR/out"
    if [ "$mode" = deb ]; then
        check "deb: apt-get installed the package" \
            eval 'in_ct dpkg-query -W -f "\${Status}" airlock | grep -qx "install ok installed"'
        check "deb: PID 1 is the packaged /usr/sbin/airlock" \
            eval '[ "$(in_ct readlink /proc/1/exe)" = /usr/sbin/airlock ]'
    fi
    check "$mode: one mode line" \
        eval '[ "$(grep -c "airlock\[1\]: info: mode: " "$CT_DIR/out")" = 1 ]'
    wait_until 10 listening
    expect_eq "$mode: login with the injected key" "$uid" \
        "$(sshc key_env "$user" id -u)"
    # shellcheck disable=SC2016 # expanded by the session's shell
    expect_eq "$mode: session sees the container environment" "$mark" \
        "$(sshc key_env "$user" 'echo $E2E_MARK')"
    # Non-root cannot create /dev/log (/dev belongs to root): the
    # collector listens in the run dir instead, and says so.
    logsock=
    [ "$mode" = nonroot ] && logsock="-u /run/airlock/log"
    # shellcheck disable=SC2086 # logsock is empty or two words
    sshc key_env "$user" logger $logsock -t e2e "logger-$mark" >/dev/null
    check "$mode: logger reaches stdout" \
        wait_until 5 grep -q "logger-$mark" "$CT_DIR/out"

    # setuser: works where the capabilities are, names them where not.
    if [ "$mode" = nonroot ] || [ "$mode" = rootnocaps ]; then
        check "$mode: setuser to another user names CAP_SETUID/CAP_SETGID" \
            eval 'sshc key_env "$user" setuser nobody true 2>&1 |
                grep -q "CAP_SETUID and CAP_SETGID"'
    else
        expect_eq "$mode: setuser nobody" 65534 \
            "$(sshc key_env "$user" setuser nobody id -u)"
    fi

    old=$(in_ct pgrep -f 'sleep 100001')
    if [ -n "$old" ] && in_ct kill -KILL "$old"; then
        check "$mode: a killed service is restarted" wait_until 10 eval \
            'n=$(in_ct pgrep -f "sleep 100001") && [ -n "$n" ] && [ "$n" != "$old" ]'
    else
        not_ok "$mode: the e2e service runs"
    fi

    expect_eq "$mode: the Secret's first key logs in" "$uid" \
        "$(sshc key_old "$user" id -u)"
    secret_put "$CT_DIR/secret" ..2026_02 "$user" "$T/key_new.pub"
    chmod -R a+rX "$CT_DIR/secret"
    check "$mode: a ..data swap takes effect without a restart" \
        wait_until 10 eval '[ "$(sshc key_new "$user" id -u)" = "$uid" ]'
    check "$mode: the swapped-out key is refused" \
        eval 'sshc key_old "$user" true 2>&1 | grep -q "Permission denied"'

    # Orphans by the hundred, from a session: all must be reaped.
    sshc key_env "$user" \
        'for i in $(seq 300); do (sleep 0.05 &) ; done' >/dev/null
    check "$mode: no zombies after a storm" \
        wait_until 10 eval '[ "$(zombies)" = 0 ]'

    # The control socket belongs to the uid airlock runs as.
    check "$mode: 'airlock status' as uid $uid" eval \
        'in_ct setpriv --reuid=$uid --regid=$uid --clear-groups \
            airlock status | grep -q "^e2e "'

    t_stop=$(date +%s%N)
    kill -TERM "$CT_PID"
    wait_until $((GRACE + 3)) eval '! kill -0 "$CT_UNSHARE" 2>/dev/null'
    wait "$CT_UNSHARE"
    status=$?
    t_stop=$((($(date +%s%N) - t_stop) / 1000000))
    CT_UNSHARE=
    expect_eq "$mode: SIGTERM stops with the app's status" 42 "$status"
    check "$mode: the stop took ${t_stop} ms, within ${GRACE} s" \
        [ "$t_stop" -lt $((GRACE * 1000)) ]
    # Only the service the test killed was restarted.
    check "$mode: nothing restarted on its own (no crash loop)" \
        eval '! grep "restarting in" "$CT_DIR/out" | grep -qv "service .e2e."'
    echo "# --- $mode output"
    grep -v "^e2e-\|logger-" "$CT_DIR/out" | sed 's/^/#   /' | head -n 60

    # The production switch: no listener, no SSH process.
    if start_container "$mode" AIRLOCK_SSH=off \
        AIRLOCK_AUTHORIZED_KEYS="$(cat "$T/key_env.pub")"; then
        sleep 0.5
        check "$mode: AIRLOCK_SSH=off leaves no listener" eval '! listening'
        check "$mode: AIRLOCK_SSH=off starts no airlock-sshd" \
            eval '! in_ct pgrep -f airlock-sshd >/dev/null'
    else
        not_ok "$mode: container with AIRLOCK_SSH=off starts"
    fi
    stop_container

    # A root-only /etc/airlock, as a run as root used to leave it, must
    # not stop a non-root start: its scripts are skipped with one line.
    if [ "$mode" = nonroot ]; then
        if ETC_AIRLOCK_MODE=700 start_container "$mode" AIRLOCK_SSH=off; then
            ok "$mode: starts with a root-only /etc/airlock"
            check "$mode: ... and says which path it could not list" \
                grep -q "startup: '/etc/airlock/init.d' cannot be listed" \
                "$CT_DIR/out"
        else
            not_ok "$mode: starts with a root-only /etc/airlock"
            sed 's/^/#   /' "$CT_DIR/out"
        fi
        stop_container
    fi

    # Read-only root and nothing writable at /run: every feature that
    # needs the run dir says so once; nothing restarts in a loop.
    if [ "$mode" = nonroot ] || [ "$mode" = rootnocaps ]; then
        if E2E_NO_RUN=1 start_container "$mode" AIRLOCK_SSH_USER=$user \
            AIRLOCK_AUTHORIZED_KEYS="$(cat "$T/key_env.pub")"; then
            check "$mode, no /run volume: the SSH server stops, saying why" \
                wait_until 5 grep -q "SSH server not started: set" \
                "$CT_DIR/out"
            sleep 1
            check "$mode, no /run volume: the control socket line names the fix" \
                grep -q "control socket in '/run/airlock' unavailable" \
                "$CT_DIR/out"
            check "$mode, no /run volume: nothing restarts" \
                eval '! grep -q "restarting in" "$CT_DIR/out"'
        else
            not_ok "$mode, no /run volume: starts"
            sed 's/^/#   /' "$CT_DIR/out"
        fi
        stop_container
    fi
}

CT_SEQ=0
# deb: as root, with airlock installed by apt-get from `make deb`.
modes=${AIRLOCK_E2E_MODES:-root caps rootnocaps nonroot deb}
for mode in $modes; do
    run_mode "$mode"
done
echo "# rootfs e2e took $(($(date +%s) - t0)) s"
echo "$TESTS_PASSED passed, $TESTS_FAILED failed"
[ "$TESTS_FAILED" -eq 0 ]
