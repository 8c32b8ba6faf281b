#!/bin/bash
# airlock-sshd next to OpenSSH's sshd and dropbear, in one run, on a
# loopback of private namespaces, all three serving the same user with the
# same client key, the OpenSSH client's default cipher and, for all three,
# the curve25519-sha256 key exchange (the only one airlock-sshd offers;
# OpenSSH would otherwise pick the slower sntrup761 hybrid) and no GSSAPI
# attempt (Debian's ssh_config turns it on):
#   1. connect + auth + `exec true` latency (RUNS logins each, interleaved),
#   2. 1 GiB from the server (`head -c 1G /dev/zero | wc -c` on our side),
#   3. memory per idle session: IDLE sessions running `sleep`, the summed
#      Pss of the server's own processes (the sleeps excluded) before and
#      after, divided by IDLE.
# Then the figures of the SSH hardening issue (issue 9), each against fresh
# server instances at their default admission settings:
#   4. simultaneous logins from one address: N = 50 and 200 (BENCH_LOGIN_NS)
#      `ssh ... true` started at once from 127.0.0.1, against airlock-sshd,
#      OpenSSH and dropbear at their defaults, then airlock-sshd with its
#      limits raised; BENCH_LOGIN_ROUNDS rounds (default 3), the order of
#      the servers rotated; min/median/max successes out of N. Logins that
#      airlock-sshd refused at its fixed cap of 16 authenticated connections
#      are counted apart;
#   5. slowloris from 4 addresses (tests/e2e/slowloris.py: 3 silent
#      connections from each of 127.0.0.2-5, renewed every 25 s) while a
#      real login is tried every 2 s from 127.0.0.1 for BENCH_LORIS_SECONDS
#      (default 60): the share that succeeds, airlock-sshd and OpenSSH;
#   6. window abuse (tests/e2e/window_flood.py, as root): a paramiko client
#      ignoring the channel window pushes BENCH_FLOOD_BYTES (1 GiB) into
#      `sleep 30`; the peak memory (VmHWM) of the server processes serving
#      that connection.
# Figures, then ratios airlock/OpenSSH and airlock/dropbear. Prints a table
# and writes it to bench/results/sshd-<date>.md (a run of some sections
# only: sshd-<date>-<sections>.md). Asserts nothing.
#
# usage: [BENCH_SECTIONS=latency,throughput,memory,logins,slowloris,window]
#        bench/sshd.sh [BUILD_DIR] [RUNS] [IDLE]
# BENCH_SECTIONS defaults to all of them; later login rounds and sections
# are skipped once the run has taken BENCH_BUDGET seconds (default 780).
set -u
B=$(cd "${1:-build}" && pwd)
RUNS=${2:-20}
IDLE=${3:-10}
SECTIONS=${BENCH_SECTIONS:-all}
LOGIN_ROUNDS=${BENCH_LOGIN_ROUNDS:-3}
LOGIN_NS=${BENCH_LOGIN_NS:-50 200}
LORIS_SECONDS=${BENCH_LORIS_SECONDS:-60}
FLOOD_BYTES=${BENCH_FLOOD_BYTES:-1073741824}
BUDGET=${BENCH_BUDGET:-780}
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${AIRLOCK_BENCH_NS:-}" ]; then
    sh "$here/../tests/install-deps.sh" openssh-server dropbear-bin || exit 1
    export AIRLOCK_BENCH_NS=1
    exec unshare --mount --net --pid --fork --mount-proc --kill-child \
        bash "$0" "$B" "$RUNS" "$IDLE"
fi

want() { # want SECTION: SECTION is selected in BENCH_SECTIONS
    case ",$SECTIONS," in
    *,all,* | *",$1,"*) return 0 ;;
    esac
    return 1
}
# in_budget: the run has not yet taken BUDGET seconds.
in_budget() { [ "$SECONDS" -lt "$BUDGET" ]; }

SSHD_BIN=$B/airlock-sshd
E2E=$here/../tests/e2e
for p in "$SSHD_BIN" /usr/sbin/sshd /usr/sbin/dropbear /usr/bin/dropbearkey; do
    if [ ! -x "$p" ]; then
        echo "bench/sshd.sh: $p missing (make all; apt-get install openssh-server dropbear-bin)"
        exit 1
    fi
done

T=$(mktemp -d /tmp/airlock-bench-sshd.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

mount --make-rprivate /
ip link set lo up
# OpenSSH wants /run/sshd; a private tmpfs keeps the machine's /run as is.
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/sshd

# One user, shell /bin/sh (no rc file runs), in bind-mounted copies of
# /etc/passwd and /etc/group. root (window_flood.py logs in as root) gets a
# home under $T holding the same client key, for OpenSSH and dropbear.
U=bench
UID_=3100
HOME_=$T/home/$U
ROOTHOME=$T/roothome
mkdir -p "$T/etc" "$HOME_/.ssh" "$ROOTHOME/.ssh"
sed "s|^root:.*|root:x:0:0:root:$ROOTHOME:/bin/sh|" /etc/passwd >"$T/etc/passwd"
echo "$U:x:$UID_:$UID_:bench:$HOME_:/bin/sh" >>"$T/etc/passwd"
cp /etc/group "$T/etc/group"
echo "$U:x:$UID_:" >>"$T/etc/group"
mount --bind "$T/etc/passwd" /etc/passwd
mount --bind "$T/etc/group" /etc/group
# sshd refuses accounts locked in shadow ("!"); give bench a "*" entry.
if [ -r /etc/shadow ]; then
    sed 's|^root:[^:]*:|root:*:|' /etc/shadow >"$T/etc/shadow"
    echo "$U:*:19000:0:99999:7:::" >>"$T/etc/shadow"
    chmod 640 "$T/etc/shadow"
    mount --bind "$T/etc/shadow" /etc/shadow
fi

ssh-keygen -q -t ed25519 -N '' -f "$T/client" </dev/null
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" </dev/null
cp "$T/client.pub" "$HOME_/.ssh/authorized_keys"
chmod 700 "$HOME_/.ssh"
chmod 600 "$HOME_/.ssh/authorized_keys"
chown -R "$UID_:$UID_" "$HOME_"
chmod 755 "$T/home"
cp "$T/client.pub" "$ROOTHOME/.ssh/authorized_keys"
chmod 700 "$ROOTHOME" "$ROOTHOME/.ssh"

# airlock-sshd on 2222 (host key generated under its AIRLOCK_ROOT); root's
# key from the authorized_keys directory.
mkdir -p "$T/root/etc/airlock/authorized_keys.d"
cp "$T/etc/passwd" "$T/etc/group" "$T/root/etc/"
cp "$T/client.pub" "$T/root/etc/airlock/authorized_keys.d/root"
env AIRLOCK_ROOT="$T/root" AIRLOCK_SSH_LISTEN=127.0.0.1 AIRLOCK_SSH_PORT=2222 \
    AIRLOCK_SSH_USER=$U AIRLOCK_AUTHORIZED_KEYS="$(cat "$T/client.pub")" \
    AIRLOCK_SSH_MAX_STARTUPS=100 \
    setsid "$SSHD_BIN" >"$T/airlock.out" 2>"$T/airlock.err" &
PIDS+=($!)
AIRLOCK_PID=$!

# OpenSSH sshd on 2223: its defaults, minus PAM and DNS lookups, with the
# same ed25519 host key type.
cat >"$T/sshd_config" <<EOF
Port 2223
ListenAddress 127.0.0.1
HostKey $T/hostkey
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PidFile none
MaxStartups 100
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
setsid /usr/sbin/sshd -D -e -f "$T/sshd_config" 2>"$T/openssh.err" &
PIDS+=($!)
OPENSSH_PID=$!

# dropbear on 2224: -F foreground, -E log to stderr, -s no passwords.
/usr/lib/dropbear/dropbearconvert openssh dropbear "$T/hostkey" "$T/hostkey.db" >/dev/null 2>&1 ||
    dropbearkey -t ed25519 -f "$T/hostkey.db" >/dev/null 2>&1
setsid /usr/sbin/dropbear -F -E -s -p 127.0.0.1:2224 -r "$T/hostkey.db" 2>"$T/dropbear.err" &
PIDS+=($!)
DROPBEAR_PID=$!

sshc() { # sshc PORT CMD...
    local port=$1
    shift
    timeout -k 2 120 ssh -p "$port" -i "$T/client" -o BatchMode=yes \
        -o ConnectTimeout=5 -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes \
        -o LogLevel=ERROR -o GSSAPIAuthentication=no \
        -o KexAlgorithms=curve25519-sha256 "$U@127.0.0.1" "$@"
}

names=(airlock openssh dropbear)
ports=(2222 2223 2224)
pids=("$AIRLOCK_PID" "$OPENSSH_PID" "$DROPBEAR_PID")

for i in 0 1 2; do
    ok=0
    for ((n = 0; n < 100; n++)); do
        if [ "$(sshc "${ports[$i]}" echo up 2>/dev/null)" = up ]; then
            ok=1
            break
        fi
        sleep 0.1
    done
    if [ "$ok" -ne 1 ]; then
        echo "bench/sshd.sh: ${names[$i]} does not serve; its log:"
        tail -5 "$T/${names[$i]}.err" 2>/dev/null
        exit 1
    fi
done

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }
# minmedmax: "min / median / max" of the numbers on stdin, "n/a" if none.
minmedmax() { sort -n | awk '{a[NR] = $1} END {if (!NR) print "n/a"; else printf "%d / %d / %d\n", a[1], (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2), a[NR]}'; }

LOAD_START="$(uptime) (/proc/loadavg: $(cat /proc/loadavg))"
echo "# load at start: $LOAD_START"
echo "# sections: $SECTIONS"

# 1. Latency: RUNS logins per server, round-robin so load drifts evenly.
declare -A lat
lat=([0]=0 [1]=0 [2]=0)
if want latency; then
    for i in 0 1 2; do : >"$T/lat.$i"; done
    for ((r = 0; r < RUNS; r++)); do
        for i in 0 1 2; do
            t0=$(now_ns)
            sshc "${ports[$i]}" true
            t1=$(now_ns)
            echo $(((t1 - t0) / 1000)) >>"$T/lat.$i"
        done
    done
    for i in 0 1 2; do
        lat[$i]=$(median <"$T/lat.$i")
    done
    echo "# 1. latency done at $SECONDS s"
fi

# 2. Throughput: 1 GiB from the server, best of two.
declare -A thr
thr=([0]=0 [1]=0 [2]=0)
if want throughput; then
    for i in 0 1 2; do
        best=0
        for r in 1 2; do
            t0=$(now_ns)
            n=$(sshc "${ports[$i]}" 'head -c 1073741824 /dev/zero' | wc -c)
            t1=$(now_ns)
            if [ "$n" -eq 1073741824 ]; then
                mibs=$(awk -v ns=$((t1 - t0)) 'BEGIN {printf "%.0f", 1024 / (ns / 1e9)}')
                [ "$mibs" -gt "$best" ] && best=$mibs
            fi
        done
        thr[$i]=$best
    done
    echo "# 2. throughput done at $SECONDS s"
fi

# 3. Memory per idle session: Pss of the server's process tree, sleeps
# (the session commands) left out.
tree_pss() { # tree_pss ROOTPID: summed Pss in kB of ROOTPID and descendants
    local all=() p kids sum=0 v
    local queue=("$1")
    while [ ${#queue[@]} -gt 0 ]; do
        p=${queue[0]}
        queue=("${queue[@]:1}")
        all+=("$p")
        kids=$(cat "/proc/$p/task/"*/children 2>/dev/null)
        for k in $kids; do queue+=("$k"); done
    done
    for p in "${all[@]}"; do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && continue
        v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}
declare -A mem
mem=([0]=0 [1]=0 [2]=0)
if want memory; then
    for i in 0 1 2; do
        before=$(tree_pss "${pids[$i]}")
        cl=()
        for ((s = 0; s < IDLE; s++)); do
            sshc "${ports[$i]}" 'exec sleep 60' </dev/null >/dev/null 2>&1 &
            cl+=($!)
        done
        # Wait (bounded) until every session's sleep runs.
        for ((w = 0; w < 100; w++)); do
            [ "$(pgrep -c -x sleep)" -ge "$IDLE" ] && break
            sleep 0.1
        done
        sleep 0.5
        after=$(tree_pss "${pids[$i]}")
        mem[$i]=$(((after - before) / IDLE))
        kill "${cl[@]}" 2>/dev/null
        # The session sleeps, in our own PID namespace only.
        for p in $(pgrep -x sleep); do kill "$p" 2>/dev/null; done
        wait "${cl[@]}" 2>/dev/null
        sleep 0.5
    done
    echo "# 3. memory done at $SECONDS s"
fi

# Fresh server instances for sections 4-6, at their default admission
# settings unless told otherwise, each logging to $T/NAME.{out,err}.
port_listening() { ss -Hltn "sport = :$1" | grep -q .; }
# start_server KIND NAME PORT [VAR=value...]: KIND airlock (VAR=value are
# its settings), openssh or dropbear; sets SRV_PID; fails if the port
# does not listen within 5 s.
start_server() {
    local kind=$1 name=$2 port=$3 w
    shift 3
    : >"$T/$name.out"
    : >"$T/$name.err"
    case $kind in
    airlock)
        env AIRLOCK_ROOT="$T/root" AIRLOCK_SSH_LISTEN=127.0.0.1 AIRLOCK_SSH_PORT="$port" \
            AIRLOCK_SSH_USER=$U AIRLOCK_AUTHORIZED_KEYS="$(cat "$T/client.pub")" "$@" \
            setsid "$SSHD_BIN" >"$T/$name.out" 2>"$T/$name.err" &
        ;;
    openssh)
        # The bench's config minus its MaxStartups 100: OpenSSH's default.
        sed -e "s/^Port .*/Port $port/" -e '/^MaxStartups/d' "$T/sshd_config" >"$T/$name.config"
        setsid /usr/sbin/sshd -D -e -f "$T/$name.config" 2>"$T/$name.err" &
        ;;
    dropbear)
        setsid /usr/sbin/dropbear -F -E -s -p "127.0.0.1:$port" -r "$T/hostkey.db" 2>"$T/$name.err" &
        ;;
    esac
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    for ((w = 0; w < 100; w++)); do
        port_listening "$port" && return 0
        sleep 0.05
    done
    echo "bench/sshd.sh: $name does not listen on $port; its log:"
    tail -5 "$T/$name.err"
    return 1
}
stop_server() { # stop_server PID: SIGTERM, SIGKILL after 5 s
    local w
    kill -TERM "$1" 2>/dev/null
    for ((w = 0; w < 250; w++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.02
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}
# sshl PORT TIMEOUT CMD...: one login as the bench user (SSHL_USER if set)
# from 127.0.0.1.
sshl() {
    local port=$1 t=$2
    shift 2
    timeout -k 2 "$t" ssh -p "$port" -b 127.0.0.1 -i "$T/client" -o BatchMode=yes \
        -o ConnectTimeout="$t" -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes \
        -o LogLevel=ERROR -o GSSAPIAuthentication=no \
        -o KexAlgorithms=curve25519-sha256 "${SSHL_USER:-$U}@127.0.0.1" "$@" </dev/null
}
# Client errors, one line each, port numbers and addresses folded.
fold_errors() { sed -e 's/port [0-9]*/port P/g' | sort | uniq -c | sort -rn | head -n 4; }

# 4. Simultaneous logins from one address.
lcase=(airlock openssh dropbear raised)
lkind=(airlock openssh dropbear airlock)
lport=(2225 2226 2227 2228)
ldesc=("airlock-sshd, defaults (MaxStartups 10:30:100, per source none)"
    "OpenSSH sshd, defaults (MaxStartups 10:30:100)"
    "dropbear, defaults"
    "airlock-sshd, MaxStartups 200:100:200, per source none, 200 authenticated, 127.0.0.1 exempt from penalties")
lenv_raised=(AIRLOCK_SSH_MAX_STARTUPS=200:100:200 AIRLOCK_SSH_PER_SOURCE_MAX_STARTUPS=none
    AIRLOCK_SSH_MAX_AUTHENTICATED=200 AIRLOCK_SSH_PER_SOURCE_PENALTY_EXEMPT=127.0.0.1)
: >"$T/logins.tsv"
LOGIN_DONE=0
# refusal_reasons AUDIT_LOG: one line per connection airlock-sshd refused,
# its reason: at accept, the lines of their own ("refused connection from
# ... : REASON") and the per-second summaries ("N more refused connections
# not logged: 30 REASON, 7 REASON"); at the login, "login refused for ...:
# REASON" (the authenticated cap).
refusal_reasons() {
    sed -n 's/.*refused connection from [^ ]* port [0-9]*: //p' "$1"
    sed -n 's/.*login refused for .* port [0-9]*: //p' "$1"
    sed -n 's/.*more refused connections not logged: //p' "$1" | tr -s ',' '\n' |
        awk '{sub(/^ +/, ""); n = $1; sub(/^[0-9]+ /, ""); for (i = 0; i < n; i++) print}'
}
# burst PORT N: N `ssh ... true` at once; prints how many exited 0. The
# first line of each failure's stderr goes to $T/burst.errors.
burst() {
    local port=$1 n=$2 i bp=() good=0
    for ((i = 0; i < n; i++)); do
        sshl "$port" 60 true 2>"$T/burst.$i.err" &
        bp+=($!)
    done
    for ((i = 0; i < n; i++)); do
        if wait "${bp[$i]}"; then
            good=$((good + 1))
        else
            { head -n 1 "$T/burst.$i.err" | grep . || echo "(exit without message)"; } >>"$T/burst.errors"
        fi
    done
    rm -f "$T"/burst.*.err
    echo "$good"
}
if want logins; then
    for ((r = 0; r < LOGIN_ROUNDS; r++)); do
        if ! in_budget; then
            echo "# 4. logins: round $((r + 1)) and later skipped (time budget)"
            break
        fi
        for ((k = 0; k < 4; k++)); do
            c=$(((k + r) % 4))
            for n in $LOGIN_NS; do
                name=logins-${lcase[$c]}
                env_=()
                [ "${lcase[$c]}" = raised ] && env_=("${lenv_raised[@]}")
                start_server "${lkind[$c]}" "$name" "${lport[$c]}" "${env_[@]}" || continue
                [ -s "$T/${lcase[$c]}.ready" ] || grep -m1 'ready:' "$T/$name.err" >"$T/${lcase[$c]}.ready"
                : >"$T/burst.errors"
                t0=$SECONDS
                good=$(burst "${lport[$c]}" "$n")
                dt=$((SECONDS - t0))
                # Let the connections of the burst end, bounded.
                for ((w = 0; w < 100; w++)); do
                    [ -z "$(pgrep -P "$SRV_PID")" ] && break
                    sleep 0.05
                done
                stop_server "$SRV_PID"
                # airlock-sshd logs at most 10 refusals a second, then one
                # line counting the rest by reason: refusal_reasons expands
                # both into one reason per refused connection.
                refusal_reasons "$T/$name.out" >"$T/$name.reasons"
                capped=$(grep -c "^too many authenticated connections" "$T/$name.reasons")
                other=$(($(wc -l <"$T/$name.reasons") - capped))
                unlogged=$((n - good - capped - other))
                [ "${lkind[$c]}" = airlock ] || capped=- other=- unlogged=-
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${lcase[$c]}" "$n" "$((r + 1))" "$good" \
                    "$capped" "$other" "$unlogged" >>"$T/logins.tsv"
                sed "s/^/${lcase[$c]} $n /" "$T/burst.errors" >>"$T/logins.errors"
                # Why airlock-sshd refused: its audit log.
                sed "s/^/${lcase[$c]} $n /" "$T/$name.reasons" >>"$T/logins.refusals"
                echo "# 4. round $((r + 1)) ${lcase[$c]} N=$n: $good succeeded (refused: $capped at the authenticated cap, $other other; $unlogged failures not refused at accept), ${dt} s"
            done
        done
        LOGIN_DONE=$((r + 1))
    done
fi

# 5. Slowloris from 4 addresses while real logins run from a fifth.
declare -A loris
loris_case=(airlock openssh)
loris_port=(2231 2232)
if want slowloris; then
    for i in 0 1; do
        name=loris-${loris_case[$i]}
        if ! in_budget; then
            echo "# 5. slowloris ${loris_case[$i]} skipped (time budget)"
            continue
        fi
        start_server "${loris_case[$i]}" "$name" "${loris_port[$i]}" || continue
        timeout 100 /usr/bin/python3 "$E2E/slowloris.py" "${loris_port[$i]}" $((LORIS_SECONDS + 2)) 25 3 \
            127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 >"$T/$name.loris" 2>&1 &
        lp=$!
        sleep 1
        good=0 tries=0 t0=$SECONDS
        : >"$T/burst.errors"
        while [ $((SECONDS - t0)) -lt "$LORIS_SECONDS" ] && [ "$tries" -lt 40 ]; do
            tries=$((tries + 1))
            if [ "$(sshl "${loris_port[$i]}" 20 echo in 2>>"$T/burst.errors")" = in ]; then
                good=$((good + 1))
            fi
            sleep 2
        done
        wait "$lp"
        stop_server "$SRV_PID"
        loris[$i]="$good $tries $(sed -n 's/^admitted \([0-9]*\) refused \([0-9]*\)$/\1 \2/p' "$T/$name.loris")"
        sed "s/^/${loris_case[$i]} /" "$T/burst.errors" >>"$T/loris.errors"
        echo "# 5. slowloris ${loris_case[$i]}: $good of $tries logins succeeded; silent connections: $(cat "$T/$name.loris")"
    done
fi

# 6. Window abuse: the peak memory of the processes serving the flooding
# connection, polled every 20 ms while it lasts. VmHWM only grows, so the
# last reading is the peak.
# hwm_tree ROOT: "ROOT PID COMM VmHWM-kB" for ROOT and its descendants,
# the session's shell and sleep left out.
hwm_tree() {
    local root=$1 p f kids k comm key val
    local queue=("$root")
    while [ ${#queue[@]} -gt 0 ]; do
        p=${queue[0]}
        queue=("${queue[@]:1}")
        for f in /proc/"$p"/task/*/children; do
            [ -r "$f" ] || continue
            read -r -a kids <"$f" 2>/dev/null || true
            for k in "${kids[@]}"; do queue+=("$k"); done
        done
        read -r comm <"/proc/$p/comm" 2>/dev/null || continue
        case $comm in sh | dash | bash | sleep) continue ;; esac
        while read -r key val _; do
            if [ "$key" = VmHWM: ]; then
                echo "$root $p $comm $val"
                break
            fi
        done <"/proc/$p/status" 2>/dev/null
    done
}
flood_case=(airlock openssh dropbear)
fl_sent=(0 0 0) fl_conn=(0 0 0) fl_ms=(0 0 0) fl_procs=("" "" "")
# hwm_poll LPID OUT PID: until PID exits (at most 100 s), appends the
# hwm_tree of every child of the listener LPID not there at the start to
# OUT, every 20 ms.
hwm_poll() {
    local lpid=$1 out=$2 pid=$3 base c w
    base=" $(pgrep -P "$lpid" | tr '\n' ' ') "
    : >"$out"
    for ((w = 0; w < 5000; w++)); do
        for c in $(pgrep -P "$lpid"); do
            case $base in *" $c "*) continue ;; esac
            hwm_tree "$c" >>"$out"
        done
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
}
# hwm_conn FILE: peak VmHWM of the listener's child; hwm_kids FILE: of its
# server processes below it ("-" if none).
hwm_conn() { awk '$1 == $2 && $4 > m {m = $4} END {print m + 0}' "$1"; }
hwm_kids() { awk '$1 != $2 {n++; if ($4 > m) m = $4} END {if (n) print m; else print "-"}' "$1"; }
fl_base=(0 0 0) fl_base_kids=(- - -) fl_kids=(- - -)
if want window; then
    for i in 0 1 2; do
        if ! in_budget; then
            echo "# 6. window ${flood_case[$i]} skipped (time budget)"
            continue
        fi
        lpid=${pids[$i]}
        # Baseline: the same measurement for a root login running
        # `sleep 2` with the OpenSSH client, no flood.
        SSHL_USER=root sshl "${ports[$i]}" 20 'sleep 2' >/dev/null 2>&1 &
        bl=$!
        hwm_poll "$lpid" "$T/hwm-base.$i" "$bl"
        wait "$bl"
        fl_base[i]=$(hwm_conn "$T/hwm-base.$i") fl_base_kids[i]=$(hwm_kids "$T/hwm-base.$i")
        sleep 0.5
        # The servers' log lines during the flood, for the report.
        logs=("$T/${flood_case[$i]}.err")
        [ "$i" -eq 0 ] && logs+=("$T/airlock.out")
        for f in "${logs[@]}"; do wc -l <"$f" >"$f.mark"; done
        t0=$(now_ns)
        timeout 90 /usr/bin/python3 "$E2E/window_flood.py" "${ports[$i]}" "$T/client" \
            "$FLOOD_BYTES" "trap '' HUP; sleep 30" >"$T/flood.$i" 2>&1 &
        fl=$!
        hwm_poll "$lpid" "$T/hwm.$i" "$fl"
        wait "$fl"
        t1=$(now_ns)
        sent=$(sed -n 's/^sent \([0-9]*\)$/\1/p' "$T/flood.$i")
        procs=$(awk '{if ($4 > m[$2]) m[$2] = $4; c[$2] = $3; r[$2] = ($1 == $2) ? "conn" : "child"} END {for (p in m) printf "%s %s %s kB; ", r[p], c[p], m[p]}' "$T/hwm.$i")
        fl_sent[i]=${sent:-0} fl_conn[i]=$(hwm_conn "$T/hwm.$i") fl_kids[i]=$(hwm_kids "$T/hwm.$i")
        fl_ms[i]=$(((t1 - t0) / 1000000)) fl_procs[i]=$procs
        echo "# 6. window ${flood_case[$i]}: $(tail -n 1 "$T/flood.$i"), peak VmHWM: $procs baseline ${fl_base[i]} / ${fl_base_kids[i]} kB"
        # The sessions' sleeps, in our own PID namespace only.
        sleep 2.5
        for p in $(pgrep -x sleep); do kill "$p" 2>/dev/null; done
        for f in "${logs[@]}"; do
            tail -n +"$(($(cat "$f.mark") + 1))" "$f"
        done | cut -c1-200 >"$T/flood-log-all.$i"
        head -n 8 "$T/flood-log-all.$i" >"$T/flood-log.$i"
        echo "($(wc -l <"$T/flood-log-all.$i") lines in all)" >>"$T/flood-log.$i"
    done
fi

LOAD_END="$(uptime) (/proc/loadavg: $(cat /proc/loadavg))"
echo "# load at end: $LOAD_END"

date_=$(date -u +%Y-%m-%d)
suffix=
[ "$SECTIONS" = all ] || suffix=-$(echo "$SECTIONS" | tr ',' '-')
out=$here/results/sshd-$date_$suffix.md
mkdir -p "$here/results"
mib() { awk -v v="$1" 'BEGIN {printf "%.1f", v / 1048576}'; }
{
    echo "# airlock-sshd vs OpenSSH sshd vs dropbear ($date_)"
    echo
    echo "libssh $(dpkg-query -W -f='${Version}' libssh-4 2>/dev/null), $(/usr/sbin/sshd -V 2>&1 | head -n 1 || true), dropbear $(dpkg-query -W -f='${Version}' dropbear-bin 2>/dev/null);"
    echo "client: $(ssh -V 2>&1), default cipher, KexAlgorithms=curve25519-sha256, no GSSAPI;"
    echo "loopback in a private network namespace;"
    echo "$(nproc) CPUs; sections: $SECTIONS; run took $SECONDS s."
    echo
    echo "- load at start: $LOAD_START"
    echo "- load at end: $LOAD_END"
    if want latency || want throughput || want memory; then
        echo
        echo "| | airlock-sshd | OpenSSH sshd | dropbear | airlock/OpenSSH | airlock/dropbear |"
        echo "|---|---|---|---|---|---|"
        want latency && printf '| connect+auth+exec true, median of %d (ms) | %s | %s | %s | %s | %s |\n' "$RUNS" \
            "$(awk -v v="${lat[0]}" 'BEGIN {printf "%.1f", v / 1000}')" \
            "$(awk -v v="${lat[1]}" 'BEGIN {printf "%.1f", v / 1000}')" \
            "$(awk -v v="${lat[2]}" 'BEGIN {printf "%.1f", v / 1000}')" \
            "$(ratio "${lat[0]}" "${lat[1]}")" "$(ratio "${lat[0]}" "${lat[2]}")"
        want throughput && printf '| 1 GiB from the server, best of 2 (MiB/s) | %s | %s | %s | %s | %s |\n' \
            "${thr[0]}" "${thr[1]}" "${thr[2]}" \
            "$(ratio "${thr[0]}" "${thr[1]}")" "$(ratio "${thr[0]}" "${thr[2]}")"
        want memory && printf '| memory per idle session, Pss (KiB) | %s | %s | %s | %s | %s |\n' \
            "${mem[0]}" "${mem[1]}" "${mem[2]}" \
            "$(ratio "${mem[0]}" "${mem[1]}")" "$(ratio "${mem[0]}" "${mem[2]}")"
        echo
        echo "Latency: lower is better; throughput: higher is better; memory: lower is better."
        echo "Per idle session: airlock-sshd runs one connection process, OpenSSH two"
        echo "(privileged monitor + user child), dropbear one."
    fi
    if want logins; then
        echo
        echo "## Simultaneous logins from one address"
        echo
        echo "N \`ssh ... true\` started at once from 127.0.0.1 (each bounded by 60 s),"
        echo "against a fresh server instance per burst; rounds: $LOGIN_DONE, the order of the"
        echo "servers rotated. Successes out of N, min / median / max over the rounds;"
        echo "airlock-sshd refusals per round, as A / O / U: A logged as \"too many"
        echo "authenticated connections\" (its fixed cap of 16 authenticated connections at"
        echo "once), O refused with another reason (from the lines of their own and the"
        echo "per-second summaries of those not logged one by one), U failed logins the"
        echo "server did not refuse at accept."
        echo
        echo "| server, settings | N | successes min / median / max | per round | refused per round, A / O / U |"
        echo "|---|---|---|---|---|"
        for c in 0 1 2 3; do
            for n in $LOGIN_NS; do
                rows=$(awk -F'\t' -v c="${lcase[$c]}" -v n="$n" '$1 == c && $2 == n' "$T/logins.tsv" | sort -t"$(printf '\t')" -k3n)
                [ -n "$rows" ] || continue
                per=$(echo "$rows" | cut -f4 | paste -sd, -)
                cap=$(echo "$rows" | awk -F'\t' '{printf "%s%s / %s / %s", (NR > 1 ? ", " : ""), $5, $6, $7}')
                [ "${lkind[$c]}" = airlock ] || cap=-
                printf '| %s | %s | %s | %s | %s |\n' "${ldesc[$c]}" "$n" \
                    "$(echo "$rows" | cut -f4 | minmedmax)" "$per" "$cap"
            done
        done
        echo
        echo "Ready lines of the airlock-sshd instances:"
        echo
        for c in airlock raised; do
            [ -s "$T/$c.ready" ] && echo "- $c: \`$(sed 's/`//g' "$T/$c.ready")\`"
        done
        echo
        echo "Why the failed logins failed, summed over the rounds (client's first error"
        echo "line; airlock-sshd's audit reason):"
        echo
        echo '```'
        for c in "${lcase[@]}"; do
            for n in $LOGIN_NS; do
                grep "^$c $n " "$T/logins.errors" 2>/dev/null | sed "s/^$c $n //" | fold_errors |
                    sed "s/^/$c N=$n client: /"
                grep "^$c $n " "$T/logins.refusals" 2>/dev/null | sed "s/^$c $n //" | fold_errors |
                    sed "s/^/$c N=$n server: /"
            done
        done
        echo '```'
    fi
    if want slowloris; then
        echo
        echo "## Slowloris from 4 addresses"
        echo
        echo "3 silent connections (no version string) from each of 127.0.0.2-127.0.0.5,"
        echo "renewed every 25 s, while a login (\`echo in\`, bounded by 20 s) is tried"
        echo "every 2 s from 127.0.0.1 for $LORIS_SECONDS s; defaults of each server."
        echo
        echo "| server | logins that succeeded | share | silent connections admitted / refused |"
        echo "|---|---|---|---|"
        for i in 0 1; do
            [ -n "${loris[$i]:-}" ] || continue
            read -r g t a f <<<"${loris[$i]}"
            printf '| %s | %s of %s | %s %% | %s / %s |\n' "${loris_case[$i]}" "$g" "$t" \
                "$(awk -v g="$g" -v t="$t" 'BEGIN {if (t) printf "%.0f", 100 * g / t; else print "n/a"}')" \
                "${a:-?}" "${f:-?}"
        done
        if [ -s "$T/loris.errors" ]; then
            echo
            echo '```'
            fold_errors <"$T/loris.errors" | sed 's/^/client: /'
            echo '```'
        fi
    fi
    if want window; then
        echo
        echo "## Window abuse"
        echo
        echo "tests/e2e/window_flood.py as root: a paramiko client ignoring the channel"
        echo "window sends up to $FLOOD_BYTES bytes into \`trap '' HUP; sleep 30\`. Peak"
        echo "VmHWM of the connection's server processes, polled every 20 ms: the"
        echo "listener's child serving the connection (OpenSSH: the privileged monitor),"
        echo "and the server processes below it (OpenSSH: the post-auth child that"
        echo "handles the channels; \"-\": none). Baseline: the same figures for a root"
        echo "login running \`sleep 2\` with the OpenSSH client, no flood. The servers are"
        echo "the instances of sections 1-3 (airlock-sshd with MaxStartups 100, OpenSSH"
        echo "with MaxStartups 100, dropbear at its defaults)."
        echo
        echo "| | airlock-sshd | OpenSSH sshd | dropbear | airlock/OpenSSH |"
        echo "|---|---|---|---|---|"
        printf '| sent before the server cut it off or the client finished (MiB) | %s | %s | %s | |\n' \
            "$(mib "${fl_sent[0]}")" "$(mib "${fl_sent[1]}")" "$(mib "${fl_sent[2]}")"
        printf '| duration of the flood client (ms) | %s | %s | %s | |\n' "${fl_ms[0]}" "${fl_ms[1]}" "${fl_ms[2]}"
        printf '| VmHWM under the flood, listener'"'"'s child (KiB) | %s | %s | %s | %s |\n' \
            "${fl_conn[0]}" "${fl_conn[1]}" "${fl_conn[2]}" "$(ratio "${fl_conn[0]}" "${fl_conn[1]}")"
        printf '| VmHWM under the flood, server processes below it (KiB) | %s | %s | %s | |\n' \
            "${fl_kids[0]}" "${fl_kids[1]}" "${fl_kids[2]}"
        printf '| baseline VmHWM, listener'"'"'s child (KiB) | %s | %s | %s | %s |\n' \
            "${fl_base[0]}" "${fl_base[1]}" "${fl_base[2]}" "$(ratio "${fl_base[0]}" "${fl_base[1]}")"
        printf '| baseline VmHWM, server processes below it (KiB) | %s | %s | %s | |\n' \
            "${fl_base_kids[0]}" "${fl_base_kids[1]}" "${fl_base_kids[2]}"
        echo
        for i in 0 1 2; do
            echo "- ${flood_case[$i]}: $(tail -n 1 "$T/flood.$i" 2>/dev/null); ${fl_procs[$i]}"
        done
        echo
        echo "The servers' log lines during the flood (the first 8 of each):"
        echo
        echo '```'
        for i in 0 1 2; do
            sed "s/^/${flood_case[$i]}: /" "$T/flood-log.$i" 2>/dev/null
        done
        echo '```'
    fi
} | tee "$out"
