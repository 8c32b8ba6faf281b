#!/bin/bash
# `make demo`: airlock's main job end to end, in namespaces on this machine
# (no Docker needed), in about 20 seconds:
#   1. an app as PID 1 without an init: its orphans stay zombies;
#   2. the same app under airlock: startup script, container environment,
#      services, syslog, zombies reaped;
#   3. `airlock status`, and an SSH login through the hatch if airlock-sshd
#      was built;
#   4. `docker stop`: SIGTERM, graceful shutdown, the app's exit status.
set -u
B=$(cd "${1:-build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
D=$(mktemp -d /tmp/airlock-demo.XXXXXX)
chmod 755 "$D"
BGPID=
cleanup() {
    [ -n "$BGPID" ] && kill -KILL "$BGPID" 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT

step() { printf '\n===== %s\n' "$*"; }
indent() { sed 's/^/    /'; }

wait_for() {
    local i
    for ((i = 0; i < 250; i++)); do
        "$@" && return 0
        sleep 0.04
    done
    echo "demo: timed out waiting for: $*" >&2
    return 1
}

step "1. Without an init: the app is PID 1, nobody reaps its orphans"
mkdir -p "$D/noinit"
DEMO_EXIT_AFTER_PS=1 unshare --pid --fork --mount-proc \
    python3 "$HERE/demo-app.py" "$D/noinit" 2>&1 | indent

step "2. The same app under airlock, as PID 1 of a new PID namespace"
ROOT=$D/root
mkdir -p "$ROOT/etc/airlock/init.d" "$ROOT/etc/service/ticker" "$ROOT/dev" "$D/state"
cat >"$ROOT/etc/airlock/init.d/10-hello" <<EOF
#!/bin/sh
echo "init.d/10-hello: startup script runs first; sets DEMO_STAGE"
printf 'configured by a startup script' >$ROOT/etc/container_environment/DEMO_STAGE
EOF
cat >"$ROOT/etc/service/ticker/run" <<'EOF'
#!/bin/sh
# A supervised service: its output is prefixed with its name.
echo "ticker up; DEMO_GREETING=$DEMO_GREETING, DEMO_STAGE=$DEMO_STAGE"
while :; do sleep 2; echo tick; done
EOF
chmod +x "$ROOT/etc/airlock/init.d/10-hello" "$ROOT/etc/service/ticker/run"

NETNS_OPT=()
SSH_DEMO=0
if [ -x "$B/airlock-sshd" ] && command -v ssh-keygen >/dev/null; then
    SSH_DEMO=1
    ssh-keygen -q -t ed25519 -N '' -C demo@airlock -f "$D/id_demo"
    export AIRLOCK_AUTHORIZED_KEYS
    AIRLOCK_AUTHORIZED_KEYS=$(cat "$D/id_demo.pub")
    NETNS_OPT=(--net)
fi
export AIRLOCK_ROOT=$ROOT DEMO_GREETING="hello from docker run -e"
echo "    \$ airlock --grace 3 -- python3 demo-app.py   (AIRLOCK_ROOT=$ROOT)"
unshare --pid --fork --mount-proc "${NETNS_OPT[@]}" \
    "$B/airlock" --grace 3 -- sh -c 'ip link set lo up 2>/dev/null; exec python3 "$0" "$1"' \
    "$HERE/demo-app.py" "$D/state" >"$D/out" 2>&1 &
BGPID=$!
wait_for test -s "$D/state/app.ready" || exit 1
APID=$(pgrep -P "$BGPID" | head -n 1)
indent <"$D/out"

step "3. syslog: 'logger -t demo' inside the container reaches airlock's stdout"
wait_for test -S "$ROOT/dev/log"
logger --socket "$ROOT/dev/log" -t demo "hello from logger"
wait_for grep -q "hello from logger" "$D/out"
grep "hello from logger" "$D/out" | indent

step "4. airlock status (through the root-only control socket)"
"$B/airlock" status | indent

if [ "$SSH_DEMO" = 1 ]; then
    step "5. The SSH hatch: public key from AIRLOCK_AUTHORIZED_KEYS, port 2222"
    wait_for grep -q "listening" "$D/out"
    nsenter --net="/proc/$APID/ns/net" \
        timeout 20 ssh -p 2222 -i "$D/id_demo" -o BatchMode=yes \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o IdentitiesOnly=yes -o LogLevel=ERROR root@127.0.0.1 \
        'echo "in the container as $(id -un), pid 1 is $(cat /proc/1/comm)"; echo "DEMO_GREETING=$DEMO_GREETING"' 2>&1 | indent
    echo "    audit lines:"
    grep -E "airlock-sshd.*audit:" "$D/out" | head -n 4 | indent
fi

step "6. docker stop: SIGTERM to airlock"
before=$(wc -l <"$D/out")
start=$(date +%s%N)
kill -TERM "$APID"
wait "$BGPID"
rc=$?
BGPID=
ms=$((($(date +%s%N) - start) / 1000000))
tail -n +"$((before + 1))" "$D/out" | indent
echo "    daemon.flushed: $(cat "$D/state/daemon.flushed" 2>/dev/null || echo missing)"
echo "    airlock exited with status $rc after $ms ms (grace was 3 s)"
[ "$rc" -eq 0 ] && [ -s "$D/state/daemon.flushed" ]
