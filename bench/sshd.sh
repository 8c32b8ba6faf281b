#!/bin/bash
# airlock-sshd next to OpenSSH's sshd (the reference) and dropbear, in one
# run, on a loopback of private namespaces, all serving the same user with
# the same client key and no GSSAPI attempt (Debian's ssh_config turns it
# on). The client asks for curve25519-sha256 (the only key exchange
# airlock-sshd offers) everywhere, except in the row "OpenSSH (default
# kex)": the same OpenSSH server with the client's default key exchange
# (OpenSSH 9.2: the post-quantum hybrid sntrup761x25519-sha512).
# Sections (BENCH_SECTIONS), each a phase of its own (bench/lib.sh):
#   latency     connect + auth + `exec true`, RUNS rounds, each taking the
#               servers in another order;
#   throughput  BENCH_THR_BYTES (1 GiB) from the server
#               (`head -c` there, `wc -c` here: a short count marks the
#               figure failed), per cipher in BENCH_CIPHERS (the client's
#               default cipher is named), BENCH_THR_ROUNDS rounds (3),
#               rotated; a cipher a server refuses is "not offered";
#   memory      the server's Pss with no connection, then IDLE idle
#               sessions (`sleep`) and the Pss they add, per session,
#               BENCH_MEM_ROUNDS rounds (3), rotated;
#   audit       ssh-audit against a fresh instance of each server at its
#               defaults: the [fail], [warn] and (cve) lines.
# Then the figures of the SSH hardening issue (issue 9), each against fresh
# server instances at their default admission settings:
#   logins      simultaneous logins from one address: N = 50 and 200
#               (BENCH_LOGIN_NS) `ssh ... true` started at once from
#               127.0.0.1, against airlock-sshd, OpenSSH and dropbear at
#               their defaults, then airlock-sshd with its limits raised;
#               BENCH_LOGIN_ROUNDS rounds (3), rotated; successes out of N
#               and why the others failed;
#   slowloris   tests/e2e/slowloris.py from 4 addresses (3 silent
#               connections from each of 127.0.0.2-5, renewed every 25 s)
#               while a real login is tried every 2 s from 127.0.0.1 for
#               BENCH_LORIS_SECONDS (60): the share that succeeds,
#               airlock-sshd and OpenSSH;
#   window      tests/e2e/window_flood.py (as root): a paramiko client
#               ignoring the channel window pushes BENCH_FLOOD_BYTES (1 GiB)
#               into `sleep 30`; the peak memory (VmHWM) of the server
#               processes serving that connection.
# Every figure goes to $BENCH_OUT/metrics.jsonl (airlock-sshd and the peers
# with their per-round ratio to OpenSSH (curve25519)), the markdown to
# $BENCH_OUT/sshd.md and bench/results/sshd-<date>.md (a run of some
# sections only: sshd-<date>-<sections>.md). Asserts nothing.
#
# usage: [BENCH_SECTIONS=latency,throughput,memory,audit,logins,slowloris,window]
#        bench/sshd.sh [BUILD_DIR] [RUNS] [IDLE]
# BENCH_SECTIONS defaults to all of them; later rounds and sections are
# skipped once the run has taken BENCH_BUDGET seconds (default 540).
set -u
B=$(cd "${1:-build}" && pwd)
RUNS=${2:-20}
IDLE=${3:-10}
SECTIONS=${BENCH_SECTIONS:-all}
THR_BYTES=${BENCH_THR_BYTES:-1073741824}
THR_ROUNDS=${BENCH_THR_ROUNDS:-3}
read -r -a CIPHERS <<<"${BENCH_CIPHERS:-chacha20-poly1305@openssh.com aes128-gcm@openssh.com aes128-ctr}"
MEM_ROUNDS=${BENCH_MEM_ROUNDS:-3}
LOGIN_ROUNDS=${BENCH_LOGIN_ROUNDS:-3}
LOGIN_NS=${BENCH_LOGIN_NS:-50 200}
LORIS_SECONDS=${BENCH_LORIS_SECONDS:-60}
FLOOD_BYTES=${BENCH_FLOOD_BYTES:-1073741824}
BUDGET=${BENCH_BUDGET:-540}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
# shellcheck source=bench/helpers/figures.sh
. "$here/helpers/figures.sh"

if [ -z "${AIRLOCK_BENCH_NS:-}" ]; then
    sh "$here/../tests/install-deps.sh" openssh-server dropbear-bin ssh-audit jq || exit 1
    bench_cpu_setup
    export AIRLOCK_BENCH_NS=1
    # Everything the bench starts lives in these namespaces and dies with
    # them (--kill-child: the PID namespace's init is killed at the end).
    unshare --mount --net --pid --fork --mount-proc --kill-child \
        bash "$0" "$B" "$RUNS" "$IDLE"
    rc=$?
    bench_cpu_teardown
    exit "$rc"
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
for p in "$SSHD_BIN" /usr/sbin/sshd /usr/sbin/dropbear /usr/bin/dropbearkey /usr/bin/ssh-audit; do
    if [ ! -x "$p" ]; then
        echo "bench/sshd.sh: $p missing (make all; apt-get install openssh-server dropbear-bin ssh-audit)"
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

# ssh_to TIMEOUT PORT KEX CMD...: one login from 127.0.0.1 as the bench
# user (SSHL_USER if set) with the bench's key; KEX "" leaves the client's
# default key exchange; SSH_LOGLEVEL (ERROR) and SSH_EXTRA (options) apply.
SSH_EXTRA=()
ssh_to() {
    local t=$1 port=$2 kex=$3 k=()
    shift 3
    [ -n "$kex" ] && k=(-o KexAlgorithms="$kex")
    timeout -k 2 "$t" ssh -p "$port" -b 127.0.0.1 -i "$T/client" -o BatchMode=yes \
        -o ConnectTimeout="$t" -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes \
        -o LogLevel="${SSH_LOGLEVEL:-ERROR}" -o GSSAPIAuthentication=no \
        "${k[@]}" "${SSH_EXTRA[@]}" "${SSHL_USER:-$U}@127.0.0.1" "$@" </dev/null
}
sshc() { # sshc PORT CMD...: curve25519, bounded by 120 s
    local port=$1
    shift
    ssh_to 120 "$port" curve25519-sha256 "$@"
}
sshl() { # sshl PORT TIMEOUT CMD...: curve25519, bounded by TIMEOUT
    local port=$1 t=$2
    shift 2
    ssh_to "$t" "$port" curve25519-sha256 "$@"
}

# The subjects of the first sections: a label, the server's port and
# process, the key exchange the client asks for. REF is the reference
# (OpenSSH with curve25519, the key exchange airlock-sshd offers).
S_LABEL=("airlock-sshd" "OpenSSH (curve25519)" "OpenSSH (default kex)" "dropbear")
S_PORT=(2222 2223 2223 2224)
S_PID=("$AIRLOCK_PID" "$OPENSSH_PID" "$OPENSSH_PID" "$DROPBEAR_PID")
S_KEX=(curve25519-sha256 curve25519-sha256 "" curve25519-sha256)
REF=1
# One server each (the default-kex row is the same OpenSSH server).
SERVERS=(0 1 3)
sshs() { # sshs SUBJECT CMD...: a login to that subject, bounded by 120 s
    local i=$1
    shift
    ssh_to 120 "${S_PORT[$i]}" "${S_KEX[$i]}" "$@"
}

for i in "${SERVERS[@]}"; do
    ok=0
    for ((n = 0; n < 100; n++)); do
        if [ "$(sshs "$i" echo up 2>/dev/null)" = up ]; then
            ok=1
            break
        fi
        sleep 0.1
    done
    if [ "$ok" -ne 1 ]; then
        echo "bench/sshd.sh: ${S_LABEL[$i]} does not serve; its log:"
        tail -5 "$T"/*.err 2>/dev/null
        exit 1
    fi
done

now_ns() { date +%s%N; }
# ms_between T0 T1: milliseconds from T0 to T1 (now_ns), 2 decimals.
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b - a) / 1e6}'; }
# rotated N R: 0..N-1 starting at R mod N, the order of a round.
rotated() { local k; for ((k = 0; k < $1; k++)); do echo $(((k + $2) % $1)); done; }

kex_of() { # kex_of SUBJECT: the key exchange and host key the login negotiated
    SSH_LOGLEVEL=DEBUG1 sshs "$1" true 2>&1 | sed -n 's/.*kex: algorithm: //p; s/.*kex: host key algorithm: /host key /p' |
        paste -sd' ' -
}
for i in 0 1 2 3; do S_KEXNEG[i]=$(kex_of "$i"); done

bench_version airlock-sshd "$(airlock_version "$here/.."), libssh $(dpkg-query -W -f='${Version}' libssh-4 2>/dev/null)"
bench_version "OpenSSH sshd" "$(/usr/sbin/sshd -V 2>&1 | head -n 1) ($(dpkg-query -W -f='${Version}' openssh-server 2>/dev/null))"
bench_version "OpenSSH client" "$(ssh -V 2>&1)"
bench_version dropbear "$(dpkg-query -W -f='${Version}' dropbear-bin 2>/dev/null)"
bench_version ssh-audit "$(dpkg-query -W -f='${Version}' ssh-audit 2>/dev/null)"

LOAD_START="$(uptime) (/proc/loadavg: $(cat /proc/loadavg))"
echo "# load at start: $LOAD_START"
echo "# sections: $SECTIONS"

# 1. Latency: RUNS rounds, one login to each subject per round, the order
# rotated; "x" for a login that failed.
declare -A lat
lat_fail=0
if want latency; then
    phase_begin latency
    for ((r = 0; r < RUNS; r++)); do
        for i in $(rotated 4 "$r"); do
            t0=$(now_ns)
            if sshs "$i" true; then
                t1=$(now_ns)
                lat[$i]="${lat[$i]:-} $(ms_between "$t0" "$t1")"
            else
                lat[$i]="${lat[$i]:-} x"
                lat_fail=$((lat_fail + 1))
            fi
        done
    done
    for i in 0 1 2 3; do
        figure latency "connect + auth + exec true" ms "${S_LABEL[$i]}" "${lat[$i]}" \
            "${S_LABEL[$REF]}" "${lat[$REF]}"
    done
    phase_end
fi

# 2. Throughput, per cipher. Which ciphers each server takes, and the one
# the client picks by default, from a probe login with -c (-v).
# probe SUBJECT [CIPHER]: "CIPHER MAC" negotiated, "not offered", or
# "error: FIRST LINE".
probe() {
    local i=$1 out
    SSH_EXTRA=()
    [ $# -ge 2 ] && SSH_EXTRA=(-c "$2")
    out=$(SSH_LOGLEVEL=DEBUG1 sshs "$i" true 2>&1)
    local rc=$?
    SSH_EXTRA=()
    if [ "$rc" -eq 0 ]; then
        sed -n 's/.*kex: server->client cipher: \([^ ]*\) MAC: \([^ ]*\).*/\1 \2/p' <<<"$out" | head -n 1
    elif grep -q 'no matching cipher' <<<"$out"; then
        echo "not offered"
    else
        echo "error: $(grep -v '^debug' <<<"$out" | head -n 1)"
    fi
}
declare -A thr thr_neg thr_short
thr_cases=()
if want throughput; then
    phase_begin throughput
    # The cases: BENCH_CIPHERS, and the client's default cipher of each
    # server if it is not one of them.
    thr_cases=("${CIPHERS[@]}")
    for i in "${SERVERS[@]}"; do
        read -r def _ <<<"$(probe "$i")"
        S_DEFCIPHER[i]=$def
        case " ${thr_cases[*]} " in *" $def "*) ;; *) thr_cases+=("$def") ;; esac
        for c in "${thr_cases[@]}"; do thr_neg[$i,$c]=$(probe "$i" "$c"); done
    done
    for ((r = 0; r < THR_ROUNDS; r++)); do
        if ! in_budget; then
            echo "# 2. throughput: round $((r + 1)) and later skipped (time budget)"
            break
        fi
        for c in "${thr_cases[@]}"; do
            for k in $(rotated ${#SERVERS[@]} "$r"); do
                i=${SERVERS[$k]}
                case ${thr_neg[$i,$c]} in "not offered" | error:*) continue ;; esac
                # Timed from the first byte (dd reads exactly one) to the
                # end of the stream: the login is not part of it.
                SSH_EXTRA=(-c "$c")
                read -r first t0 n < <(sshs "$i" "head -c $THR_BYTES /dev/zero" |
                    { dd bs=1 count=1 2>/dev/null | wc -c | tr '\n' ' '; now_ns | tr '\n' ' '; wc -c; })
                t1=$(now_ns)
                SSH_EXTRA=()
                n=$((first + n))
                if [ "$n" -eq "$THR_BYTES" ]; then
                    v=$(awk -v b="$((THR_BYTES - 1))" -v ms="$(ms_between "$t0" "$t1")" \
                        'BEGIN {printf "%.1f", b / 1048576 / (ms / 1000)}')
                else
                    v=x
                    thr_short[$i,$c]="${thr_short[$i,$c]:-}round $((r + 1)): $n bytes; "
                fi
                thr[$i,$c]="${thr[$i,$c]:-} $v"
            done
        done
        echo "# 2. throughput round $((r + 1)) done at $SECONDS s"
    done
    size=$(awk -v b="$THR_BYTES" 'BEGIN {if (b % 1073741824 == 0) print b / 1073741824 " GiB"; else printf "%.0f MiB\n", b / 1048576}')
    for c in "${thr_cases[@]}"; do
        # "(default)" when the client picks it with every server unasked.
        defs=0
        for i in "${SERVERS[@]}"; do [ "${S_DEFCIPHER[$i]}" = "$c" ] && defs=$((defs + 1)); done
        label=$c
        [ "$defs" -eq ${#SERVERS[@]} ] && label="$c (default)"
        [ "$defs" -gt 0 ] && [ "$defs" -lt ${#SERVERS[@]} ] && label="$c (default with some)"
        for i in "${SERVERS[@]}"; do
            case ${thr_neg[$i,$c]} in "not offered" | error:*) continue ;; esac
            figure throughput "$size from the server, $label" MiB/s \
                "${S_LABEL[$i]}" "${thr[$i,$c]:-}" "${S_LABEL[$REF]}" "${thr[$REF,$c]:-}"
        done
    done
    phase_end
fi

# 3. Memory: the summed Pss of the server's own processes (the session
# commands, `sleep`, left out) with no connection, then with IDLE idle
# sessions: the difference divided by IDLE.
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
# no_children PID: waits (at most 5 s) until PID has no child process.
no_children() {
    local w
    for ((w = 0; w < 100; w++)); do
        [ -z "$(pgrep -P "$1")" ] && return 0
        sleep 0.05
    done
    return 1
}
declare -A mem_idle mem_sess
if want memory; then
    phase_begin memory
    for ((r = 0; r < MEM_ROUNDS; r++)); do
        if ! in_budget; then
            echo "# 3. memory: round $((r + 1)) and later skipped (time budget)"
            break
        fi
        for k in $(rotated ${#SERVERS[@]} "$r"); do
            i=${SERVERS[$k]}
            no_children "${S_PID[$i]}"
            before=$(tree_pss "${S_PID[$i]}")
            cl=()
            for ((s = 0; s < IDLE; s++)); do
                sshs "$i" 'exec sleep 60' >/dev/null 2>&1 &
                cl+=($!)
            done
            # Wait (bounded) until every session's sleep runs.
            for ((w = 0; w < 100; w++)); do
                [ "$(pgrep -c -x sleep)" -ge "$IDLE" ] && break
                sleep 0.1
            done
            sleep 0.5
            after=$(tree_pss "${S_PID[$i]}")
            mem_idle[$i]="${mem_idle[$i]:-} $before"
            mem_sess[$i]="${mem_sess[$i]:-} $(((after - before) / IDLE))"
            kill "${cl[@]}" 2>/dev/null
            # The session sleeps, in our own PID namespace only.
            for p in $(pgrep -x sleep); do kill "$p" 2>/dev/null; done
            wait "${cl[@]}" 2>/dev/null
        done
    done
    for i in "${SERVERS[@]}"; do
        figure memory "idle server, no connection, Pss" KiB "${S_LABEL[$i]}" "${mem_idle[$i]:-}" \
            "${S_LABEL[$REF]}" "${mem_idle[$REF]:-}"
    done
    for i in "${SERVERS[@]}"; do
        figure memory "per idle session, Pss" KiB "${S_LABEL[$i]}" "${mem_sess[$i]:-}" \
            "${S_LABEL[$REF]}" "${mem_sess[$REF]:-}"
    done
    phase_end
fi

# Fresh server instances for sections 4-7, at their default admission
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
# Client errors, one line each, port numbers and addresses folded.
fold_errors() { sed -e 's/port [0-9]*/port P/g' | sort | uniq -c | sort -rn | head -n 4; }

# 4. ssh-audit against fresh instances at their defaults (airlock-sshd
# without the bench's MaxStartups 100; all with the bench's one ed25519
# host key).
audit_case=(airlock openssh dropbear)
audit_label=("airlock-sshd" "OpenSSH" "dropbear")
audit_port=(2235 2236 2237)
# What ssh-audit 2.5.0 reports about libssh 0.10 wrongly: it does not know
# the strict-KEX marker and compares libssh versions as strings
# (tests/e2e/test_auth.sh).
AUDIT_FALSE='kex-strict-s-v00@openssh.com|CVE-2016-0739'
AUDIT_FINDINGS='\[(fail|warn)\]|^\(cve\)'
if want audit; then
    phase_begin audit
    for i in 0 1 2; do
        start_server "${audit_case[$i]}" "audit-${audit_case[$i]}" "${audit_port[$i]}" || continue
        timeout 60 ssh-audit -n -p "${audit_port[$i]}" 127.0.0.1 >"$T/audit.$i" 2>&1
        stop_server "$SRV_PID"
        for kind in fail warn cve; do
            case $kind in
            cve) n=$(grep -c '^(cve)' "$T/audit.$i") ;;
            *) n=$(grep -c "\[$kind\]" "$T/audit.$i") ;;
            esac
            bench_metric audit "ssh-audit $kind lines" count "${audit_label[$i]}" - "$n" "$n" "$n"
        done
        echo "# 4. ssh-audit ${audit_case[$i]}: $(grep -cE "$AUDIT_FINDINGS" "$T/audit.$i") fail/warn/cve lines"
    done
    phase_end
fi

# 5. Simultaneous logins from one address.
lcase=(airlock openssh dropbear raised)
lsubj=("airlock-sshd" "OpenSSH (curve25519)" "dropbear" "airlock-sshd (limits raised)")
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
# peer_log_reasons LOG: the lines of an OpenSSH or dropbear log (-e, -E)
# but those of logins that worked, without dropbear's time stamp and with
# numbers folded, so that equal reasons count together.
peer_log_reasons() {
    grep -vE 'Server listening|Accepted publickey|Received disconnect|Disconnected from|Child connection from|Pubkey auth succeeded|Disconnect received|Not backgrounding|Received signal|Terminated by signal' "$1" |
        sed -E -e 's/^\[[0-9]+\] [A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} //' -e 's/[0-9]+/N/g'
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
    phase_begin logins
    for ((r = 0; r < LOGIN_ROUNDS; r++)); do
        if ! in_budget; then
            echo "# 5. logins: round $((r + 1)) and later skipped (time budget)"
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
                # Why the server refused: airlock-sshd's audit log, the
                # peers' log lines other than those of a login that worked.
                [ "${lkind[$c]}" = airlock ] || peer_log_reasons "$T/$name.err" >"$T/$name.reasons"
                sed "s/^/${lcase[$c]} $n /" "$T/$name.reasons" >>"$T/logins.refusals"
                echo "# 5. round $((r + 1)) ${lcase[$c]} N=$n: $good succeeded (refused: $capped at the authenticated cap, $other other; $unlogged failures not refused at accept), ${dt} s"
            done
        done
        LOGIN_DONE=$((r + 1))
    done
    # Successes per round ("x": no figure that round), then the figures
    # with their ratio to OpenSSH in the same round.
    for n in $LOGIN_NS; do
        lv=()
        for c in 0 1 2 3; do
            lv[c]=$(for ((r = 1; r <= LOGIN_DONE; r++)); do
                awk -F'\t' -v c="${lcase[$c]}" -v n="$n" -v r="$r" \
                    '$1 == c && $2 == n && $3 == r {v = $4} END {print (v == "" ? "x" : v)}' "$T/logins.tsv"
            done | paste -sd' ' -)
        done
        for c in 0 1 2 3; do
            figure logins "successes of $n simultaneous logins from one address" count \
                "${lsubj[$c]}" "${lv[$c]}" "${lsubj[1]}" "${lv[1]}"
        done
    done
    phase_end
fi

# 6. Slowloris from 4 addresses while real logins run from a fifth.
declare -A loris
loris_case=(airlock openssh)
loris_label=("airlock-sshd" "OpenSSH (curve25519)")
loris_share=(x x)
loris_port=(2231 2232)
if want slowloris; then
    phase_begin slowloris
    for i in 0 1; do
        name=loris-${loris_case[$i]}
        if ! in_budget; then
            echo "# 6. slowloris ${loris_case[$i]} skipped (time budget)"
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
        echo "# 6. slowloris ${loris_case[$i]}: $good of $tries logins succeeded; silent connections: $(cat "$T/$name.loris")"
        loris_share[i]=$(awk -v g="$good" -v t="$tries" 'BEGIN {if (t) printf "%.1f", 100 * g / t; else print "x"}')
    done
    for i in 0 1; do
        [ -n "${loris[$i]:-}" ] || continue
        figure slowloris "logins that succeeded during the slowloris" % "${loris_label[$i]}" \
            "${loris_share[$i]}" "${loris_label[1]}" "${loris_share[1]:-x}"
    done
    phase_end
fi

# 7. Window abuse: the peak memory of the processes serving the flooding
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
flood_label=("airlock-sshd" "OpenSSH (curve25519)" "dropbear")
fl_done=()
mib() { awk -v v="$1" 'BEGIN {printf "%.1f", v / 1048576}'; }
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
    phase_begin window
    for i in 0 1 2; do
        if ! in_budget; then
            echo "# 7. window ${flood_case[$i]} skipped (time budget)"
            continue
        fi
        lpid=${S_PID[${SERVERS[$i]}]}
        # Baseline: the same measurement for a root login running
        # `sleep 2` with the OpenSSH client, no flood.
        SSHL_USER=root sshl "${S_PORT[${SERVERS[$i]}]}" 20 'sleep 2' >/dev/null 2>&1 &
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
        timeout 90 /usr/bin/python3 "$E2E/window_flood.py" "${S_PORT[${SERVERS[$i]}]}" "$T/client" \
            "$FLOOD_BYTES" "trap '' HUP; sleep 30" >"$T/flood.$i" 2>&1 &
        fl=$!
        hwm_poll "$lpid" "$T/hwm.$i" "$fl"
        wait "$fl"
        t1=$(now_ns)
        sent=$(sed -n 's/^sent \([0-9]*\)$/\1/p' "$T/flood.$i")
        procs=$(awk '{if ($4 > m[$2]) m[$2] = $4; c[$2] = $3; r[$2] = ($1 == $2) ? "conn" : "child"} END {for (p in m) printf "%s %s %s kB; ", r[p], c[p], m[p]}' "$T/hwm.$i")
        fl_sent[i]=${sent:-0} fl_conn[i]=$(hwm_conn "$T/hwm.$i") fl_kids[i]=$(hwm_kids "$T/hwm.$i")
        fl_ms[i]=$(((t1 - t0) / 1000000)) fl_procs[i]=$procs
        echo "# 7. window ${flood_case[$i]}: $(tail -n 1 "$T/flood.$i"), peak VmHWM: $procs baseline ${fl_base[i]} / ${fl_base_kids[i]} kB"
        # The sessions' sleeps, in our own PID namespace only.
        sleep 2.5
        for p in $(pgrep -x sleep); do kill "$p" 2>/dev/null; done
        for f in "${logs[@]}"; do
            tail -n +"$(($(cat "$f.mark") + 1))" "$f"
        done | cut -c1-200 >"$T/flood-log-all.$i"
        head -n 8 "$T/flood-log-all.$i" >"$T/flood-log.$i"
        echo "($(wc -l <"$T/flood-log-all.$i") lines in all)" >>"$T/flood-log.$i"
        fl_done[i]=1
    done
    # One round: the ratio is that of the single figures.
    for i in 0 1 2; do
        [ -n "${fl_done[$i]:-}" ] || continue
        figure window "sent into the ignored window before the cut or the end" MiB "${flood_label[$i]}" \
            "$(mib "${fl_sent[$i]}")"
        figure window "peak VmHWM under the flood, the listener's child" KiB "${flood_label[$i]}" \
            "${fl_conn[$i]}" "${flood_label[1]}" "${fl_conn[1]}"
        figure window "peak VmHWM under the flood, the server processes below it" KiB "${flood_label[$i]}" \
            "${fl_kids[$i]}"
        figure window "baseline VmHWM (sleep 2, no flood), the listener's child" KiB "${flood_label[$i]}" \
            "${fl_base[$i]}" "${flood_label[1]}" "${fl_base[1]}"
    done
    phase_end
fi


LOAD_END="$(uptime) (/proc/loadavg: $(cat /proc/loadavg))"
echo "# load at end: $LOAD_END"

date_=$(date -u +%Y-%m-%d)
suffix=
[ "$SECTIONS" = all ] || suffix=-$(echo "$SECTIONS" | tr ',' '-')
out=$here/results/sshd-$date_$suffix.md
mkdir -p "$here/results"
{
    echo "## SSH: airlock-sshd vs OpenSSH sshd vs dropbear ($date_)"
    echo
    echo "libssh $(dpkg-query -W -f='${Version}' libssh-4 2>/dev/null), $(/usr/sbin/sshd -V 2>&1 | head -n 1 || true), dropbear $(dpkg-query -W -f='${Version}' dropbear-bin 2>/dev/null), ssh-audit $(dpkg-query -W -f='${Version}' ssh-audit 2>/dev/null);"
    echo "client: $(ssh -V 2>&1), no GSSAPI; loopback in a private network namespace;"
    echo "$(nproc) CPUs; sections: $SECTIONS; run took $SECONDS s. Reference: OpenSSH"
    echo "with curve25519-sha256, the one key exchange airlock-sshd offers; ratios are"
    echo "subject / reference within each round, then min / median / max."
    echo
    echo "Key exchange and host key each subject negotiated:"
    echo
    for i in 0 1 2 3; do echo "- ${S_LABEL[$i]}: ${S_KEXNEG[$i]:-?}"; done
    echo
    echo "- load at start: $LOAD_START"
    echo "- load at end: $LOAD_END"
    echo
    phase_table
    if want latency; then
        echo
        echo "### Connect + auth + \`exec true\`"
        echo
        echo "$RUNS rounds, one login to each subject per round, the order rotated;"
        echo "$lat_fail logins failed (left out). Lower is better."
        echo
        metric_table latency
    fi
    if want throughput; then
        echo
        echo "### Throughput per cipher"
        echo
        echo "\`head -c $THR_BYTES /dev/zero\` on the server, \`wc -c\` on this side (a"
        echo "count other than $THR_BYTES marks the round failed and leaves it out), timed"
        echo "from the first byte to the end of the stream (the login left out). $THR_ROUNDS"
        echo "rounds, the servers' order rotated."
        echo "Higher is better. What each server negotiated for each cipher asked for"
        echo "(cipher and MAC; \"not offered\": the server refused that cipher):"
        echo
        echo "| cipher asked for | $(for i in "${SERVERS[@]}"; do printf '%s | ' "${S_LABEL[$i]}"; done)"
        echo "|---|$(for i in "${SERVERS[@]}"; do printf -- '---|'; done)"
        for c in "${thr_cases[@]}"; do
            printf '| %s | ' "$c"
            for i in "${SERVERS[@]}"; do printf '%s | ' "${thr_neg[$i,$c]}"; done
            echo
        done
        echo
        echo "The client's default cipher: $(for i in "${SERVERS[@]}"; do printf '%s %s; ' "${S_LABEL[$i]}" "${S_DEFCIPHER[$i]:-?}"; done)"
        short=$(for i in "${SERVERS[@]}"; do for c in "${thr_cases[@]}"; do
            [ -n "${thr_short[$i,$c]:-}" ] && echo "- FAILED byte count: ${S_LABEL[$i]}, $c: ${thr_short[$i,$c]}"
        done; done)
        echo
        echo "${short:-Every transfer counted $THR_BYTES bytes.}"
        echo
        metric_table throughput
    fi
    if want memory; then
        echo
        echo "### Memory"
        echo
        echo "Summed Pss of the server's process tree with no connection, then with"
        echo "$IDLE sessions running \`exec sleep 60\` (the sleeps left out): the"
        echo "difference divided by $IDLE. $MEM_ROUNDS rounds, rotated. Lower is better. Per"
        echo "session airlock-sshd runs one connection process, OpenSSH two (privileged"
        echo "monitor + user child), dropbear one."
        echo
        metric_table memory
    fi
    if want audit; then
        echo
        echo "### ssh-audit"
        echo
        echo "\`ssh-audit -n\` against a fresh instance of each server at its defaults"
        echo "(the bench's sshd_config: no PAM, no passwords; all with one ed25519 host"
        echo "key). Lines marked [fail], [warn] and (cve), as reported; \"known false\":"
        echo "what ssh-audit 2.5.0 reports wrongly: it does not know the strict-KEX marker"
        echo "kex-strict-s-v00@openssh.com (Terrapin countermeasure, all three servers), and"
        echo "compares libssh versions as strings (CVE-2016-0739 for libssh 0.10.6)."
        echo
        echo "| server | [fail] | [warn] | (cve) | of which known false |"
        echo "|---|---|---|---|---|"
        for i in 0 1 2; do
            [ -f "$T/audit.$i" ] || continue
            printf '| %s | %s | %s | %s | %s |\n' "${audit_label[$i]}" \
                "$(grep -c '\[fail\]' "$T/audit.$i")" "$(grep -c '\[warn\]' "$T/audit.$i")" \
                "$(grep -c '^(cve)' "$T/audit.$i")" \
                "$(grep -E "$AUDIT_FINDINGS" "$T/audit.$i" | grep -cE "$AUDIT_FALSE")"
        done
        echo
        echo '```'
        for i in 0 1 2; do
            [ -f "$T/audit.$i" ] || continue
            grep -E "$AUDIT_FINDINGS" "$T/audit.$i" | tr -s ' ' | sed "s/^/${audit_case[$i]}: /"
            grep -q . "$T/audit.$i" || echo "${audit_case[$i]}: (no output)"
        done
        echo '```'
    fi
    if want logins; then
        echo
        echo "### Simultaneous logins from one address"
        echo
        echo "N \`ssh ... true\` started at once from 127.0.0.1 (each bounded by 60 s),"
        echo "against a fresh server instance per burst; rounds: $LOGIN_DONE, the order of the"
        echo "servers rotated. Successes out of N; higher is better."
        echo
        metric_table logins
        echo
        echo "Per round, with airlock-sshd's refusals as A / O / U: A logged as \"too many"
        echo "authenticated connections\" (its fixed cap of 16 authenticated connections at"
        echo "once), O refused with another reason (from the lines of their own and the"
        echo "per-second summaries of those not logged one by one), U failed logins the"
        echo "server did not refuse at accept."
        echo
        echo "| server, settings | N | successes per round | refused per round, A / O / U |"
        echo "|---|---|---|---|"
        for c in 0 1 2 3; do
            for n in $LOGIN_NS; do
                rows=$(awk -F'\t' -v c="${lcase[$c]}" -v n="$n" '$1 == c && $2 == n' "$T/logins.tsv" | sort -t"$(printf '\t')" -k3n)
                [ -n "$rows" ] || continue
                per=$(echo "$rows" | cut -f4 | paste -sd, -)
                cap=$(echo "$rows" | awk -F'\t' '{printf "%s%s / %s / %s", (NR > 1 ? ", " : ""), $5, $6, $7}')
                [ "${lkind[$c]}" = airlock ] || cap=-
                printf '| %s | %s | %s | %s |\n' "${ldesc[$c]}" "$n" "$per" "$cap"
            done
        done
        echo
        echo "Ready lines of the airlock-sshd instances:"
        echo
        for c in airlock raised; do
            [ -s "$T/$c.ready" ] && echo "- $c: \`$(sed 's/`//g' "$T/$c.ready")\`"
        done
        echo
        echo "Why the failed logins failed, summed over the rounds, the 4 most frequent"
        echo "of each: the client's first error line; the server's reason (airlock-sshd:"
        echo "its audit log; OpenSSH, dropbear: their log lines other than those of the"
        echo "logins that worked and its own stop, numbers folded to N; \"nothing"
        echo "logged\": the server said nothing about the logins that failed):"
        echo
        echo '```'
        for c in "${lcase[@]}"; do
            for n in $LOGIN_NS; do
                grep "^$c $n " "$T/logins.errors" 2>/dev/null | sed "s/^$c $n //" | fold_errors |
                    sed "s/^/$c N=$n client: /"
                grep "^$c $n " "$T/logins.refusals" 2>/dev/null | sed "s/^$c $n //" | fold_errors |
                    sed "s/^/$c N=$n server: /" | grep . ||
                    { grep -q "^$c $n " "$T/logins.errors" 2>/dev/null && echo "$c N=$n server: nothing logged"; }
            done
        done
        echo '```'
    fi
    if want slowloris; then
        echo
        echo "### Slowloris from 4 addresses"
        echo
        echo "3 silent connections (no version string) from each of 127.0.0.2-127.0.0.5,"
        echo "renewed every 25 s, while a login (\`echo in\`, bounded by 20 s) is tried"
        echo "every 2 s from 127.0.0.1 for $LORIS_SECONDS s; defaults of each server; one round."
        echo
        echo "| server | logins that succeeded | share | silent connections admitted / refused |"
        echo "|---|---|---|---|"
        for i in 0 1; do
            [ -n "${loris[$i]:-}" ] || continue
            read -r g t a f <<<"${loris[$i]}"
            printf '| %s | %s of %s | %s %% | %s / %s |\n' "${loris_label[$i]}" "$g" "$t" \
                "${loris_share[$i]}" "${a:-?}" "${f:-?}"
        done
        echo
        metric_table slowloris
        if [ -s "$T/loris.errors" ]; then
            echo
            echo '```'
            fold_errors <"$T/loris.errors" | sed 's/^/client: /'
            echo '```'
        fi
    fi
    if want window; then
        echo
        echo "### Window abuse"
        echo
        echo "tests/e2e/window_flood.py as root: a paramiko client ignoring the channel"
        echo "window sends up to $FLOOD_BYTES bytes into \`trap '' HUP; sleep 30\`. Peak"
        echo "VmHWM of the connection's server processes, polled every 20 ms: the"
        echo "listener's child serving the connection (OpenSSH: the privileged monitor),"
        echo "and the server processes below it (OpenSSH: the post-auth child that"
        echo "handles the channels; n/a: none). Baseline: the same figures for a root"
        echo "login running \`sleep 2\` with the OpenSSH client, no flood. The servers are"
        echo "the instances of the first sections (airlock-sshd with MaxStartups 100,"
        echo "OpenSSH with MaxStartups 100, dropbear at its defaults); one round."
        echo
        metric_table window
        echo
        for i in 0 1 2; do
            [ -n "${fl_done[$i]:-}" ] || continue
            echo "- ${flood_case[$i]}: $(tail -n 1 "$T/flood.$i" 2>/dev/null), ${fl_ms[$i]} ms; ${fl_procs[$i]}"
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
} >"$BENCH_OUT/sshd.md"
cp "$BENCH_OUT/sshd.md" "$out"
cat "$out"
echo "# figures: $BENCH_OUT/metrics.jsonl, markdown: $BENCH_OUT/sshd.md and $out"
