#!/bin/bash
# Session recording (AIRLOCK_SSH_RECORD_*): asciicast v2 files made by the
# listener, written by the connection process, played back with
# asciinema; input only when asked; the size cap; fail closed with
# AIRLOCK_SSH_RECORD_REQUIRED=yes; unsafe directories refused.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

CAST="$E2E_DIR/castcheck.py"
RDIR=/var/log/airlock/sessions
REC=$AIRLOCK_ROOT$RDIR

newkey root -t ed25519
newkey alice -t ed25519
mkdir -p "$AIRLOCK_ROOT/etc/airlock/authorized_keys.d" "$REC"
chmod 700 "$REC"
pub alice >"$AIRLOCK_ROOT/etc/airlock/authorized_keys.d/alice"
KEYS="AIRLOCK_AUTHORIZED_KEYS=$(pub root)"

# newest: the most recent recording (names sort by time).
newest() { find "$REC" -maxdepth 1 -name '*.cast' | sort | tail -n 1; }
count() { find "$REC" -maxdepth 1 -name '*.cast' | wc -l; }
# play FILE: what asciinema prints for it, carriage returns removed.
play() { timeout 20 script -qec "asciinema cat $1" /dev/null </dev/null | tr -d '\r'; }
log_has() { grep -qE "$1" "$T/sshd.err"; }

start_sshd "$KEYS" AIRLOCK_SSH_RECORD_DIR=$RDIR || { finish; exit 1; }
check "start: the recording settings logged" log_has "recording sessions to '.*$RDIR' \(input not recorded, at most 67108864 bytes each\)"

# --- a pty session, played back by asciinema ---
out=$(TERM=xterm-256color python3 "$E2E_DIR/ptydrive.py" 30 100 40 120 \
    timeout 20 ssh -tt -p "$PORT" -i "$T/keys/alice" -o BatchMode=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o IdentitiesOnly=yes -o LogLevel=ERROR alice@127.0.0.1 \
    'printf "hello-%s\n" pty; echo WINCH-NOW; read x; printf "bye-%s\n" pty' | tr -d '\r')
check "pty session ran" grep -q bye-pty <<<"$out"
f=$(newest)
expect_eq "pty: one recording" 1 "$(count)"
check "pty: name sorts by time: DATE-user-pid-chan.cast" \
    grep -qE '/[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-alice-[0-9]+-[0-9]+\.cast$' <<<"$f"
expect_eq "pty: file 0600 root:root" "600 0:0" "$(stat -c '%a %u:%g' "$f")"
check "pty: every line is valid asciicast v2 JSON" "$CAST" "$f" valid
check "pty: asciinema cat prints the output back" grep -q '^hello-pty$' <<<"$(play "$f")"
check "pty: asciinema cat prints the output after the resize" grep -q '^bye-pty$' <<<"$(play "$f")"
expect_eq "pty: header width" 100 "$("$CAST" "$f" header width)"
expect_eq "pty: header height" 30 "$("$CAST" "$f" header height)"
expect_eq "pty: header TERM" xterm-256color "$("$CAST" "$f" header env.TERM)"
expect_eq "pty: header SHELL" /bin/sh "$("$CAST" "$f" header env.SHELL)"
expect_eq "pty: header user" alice "$("$CAST" "$f" header airlock.user)"
check "pty: header key fingerprint" grep -qE '^SHA256:[A-Za-z0-9+/]{43}$' <<<"$("$CAST" "$f" header airlock.key_fingerprint)"
fp=$(ssh-keygen -lf "$T/keys/alice.pub" | awk '{print $2}')
expect_eq "pty: header fingerprint is the login key's" "$fp" "$("$CAST" "$f" header airlock.key_fingerprint)"
expect_eq "pty: header source address" 127.0.0.1 "$("$CAST" "$f" header airlock.source_address)"
check "pty: header source port" grep -qE '^[0-9]+$' <<<"$("$CAST" "$f" header airlock.source_port)"
expect_eq "pty: window change as an r event" 120x40 "$("$CAST" "$f" events r)"
expect_eq "pty: no input events without RECORD_INPUT" "" "$("$CAST" "$f" events i)"
check "audit: session start names its recording" \
    audit_has "session [0-9]+ start for 'alice' .*exec with pty.*, recording '$(basename "$f")'"
check "audit: the listener logs the file it created" \
    audit_has "recording session [0-9]+ of 'alice' from 127.0.0.1 port [0-9]+ to '$(basename "$f")'"

# --- an exec session: stdout and stderr, split and invalid UTF-8 ---
out=$(sshc -- 'echo exec-out; echo exec-err >&2; printf "\342\202"; sleep 0.3; printf "\254|\377|\033[1m\n"' 2>&1)
check "exec ran" grep -q exec-out <<<"$out"
f=$(newest)
expect_eq "exec: a second recording" 2 "$(count)"
check "exec: valid asciicast v2 JSON" "$CAST" "$f" valid
o=$("$CAST" "$f" events o)
check "exec: stdout recorded" grep -q exec-out <<<"$o"
check "exec: stderr recorded" grep -q exec-err <<<"$o"
check "exec: a UTF-8 sequence split across two writes is kept whole" grep -q '€|' <<<"$o"
check "exec: an invalid byte becomes U+FFFD" grep -q '|�|' <<<"$o"
check "exec: control characters escaped (\\u001b in the file)" grep -qF '\u001b[1m' "$f"
expect_eq "exec: header width without a pty" 80 "$("$CAST" "$f" header width)"
check "exec: header command" grep -q 'echo exec-out' <<<"$("$CAST" "$f" header command)"
check "exec: asciinema cat prints it" grep -q exec-out <<<"$(play "$f")"

# The recording's fd stays in the connection process (close-on-exec): the
# session's processes cannot write to it.
out=$(sshc -- "exec $(cd "$B" && pwd)/tests/helpers/procstate" | tr -s "\t " " ")
check "recorded session: its processes hold fds 0 1 2 only" grep -qx 'fds: 0 1 2' <<<"$out"

# What a command does without output is not in the recording.
out=$(sshc -- "echo hidden-data >$T/quiet-file; echo shown")
expect_eq "quiet: the command ran" shown "$out"
check "quiet: the file was written" grep -q hidden-data "$T/quiet-file"
expect_eq "quiet: only the output is recorded" "shown" "$("$CAST" "$(newest)" events o | tr -d '\n')"

# The user may kill their own connection process (same uid): the session
# ends there, and the recording keeps what came before, valid.
sshc -- 'echo before-kill; sleep 0.3; kill -KILL $PPID; sleep 1; echo after-kill' >"$T/killed.out" 2>/dev/null
f=$(newest)
check "kill: the client saw the output before the kill" grep -q before-kill "$T/killed.out"
check "kill: nothing after the kill reached the client" test -z "$(grep after-kill "$T/killed.out")"
check "kill: the recording holds what came before" grep -q before-kill <<<"$("$CAST" "$f" events o)"
check "kill: the recording is valid asciicast" "$CAST" "$f" valid

# --- input events only with AIRLOCK_SSH_RECORD_INPUT=yes ---
out=$(echo typed-secret | sshc -- cat)
expect_eq "input: session without RECORD_INPUT" typed-secret "$out"
expect_eq "input: not recorded without RECORD_INPUT" "" "$("$CAST" "$(newest)" events i)"
check "input: output still recorded" grep -q typed-secret <<<"$("$CAST" "$(newest)" events o)"

# --- SFTP: not recorded, one line says so ---
if [ -x /usr/lib/openssh/sftp-server ]; then
    n=$(count)
    echo "ls" | SSH_TIMEOUT=20 timeout 20 sftp -b - -P "$PORT" -i "$T/keys/root" \
        -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o IdentitiesOnly=yes -o LogLevel=ERROR root@127.0.0.1 >/dev/null 2>&1
    expect_eq "sftp: session ran" 0 $?
    expect_eq "sftp: no recording file" "$n" "$(count)"
    check "sftp: one line says it is not recorded" audit_has "session [0-9]+ of 'root': SFTP is not recorded"
else
    not_ok "sftp: /usr/lib/openssh/sftp-server missing"
fi
stop_sshd

start_sshd "$KEYS" AIRLOCK_SSH_RECORD_DIR=$RDIR AIRLOCK_SSH_RECORD_INPUT=yes \
    AIRLOCK_SSH_TCP_FORWARDING=yes || { finish; exit 1; }
out=$(echo typed-secret | sshc -- cat)
expect_eq "input: session with RECORD_INPUT" typed-secret "$out"
expect_eq "input: i events with RECORD_INPUT=yes" typed-secret "$("$CAST" "$(newest)" events i | tr -d '\n')"

# An interactive login shell on a pty: the typed line is an "i" event, its
# output an "o" event, and the header says "shell" with no command.
out=$(PTYDRIVE_INPUT=$'echo typed-in-$((6*7))\nexit\n' TERM=xterm python3 "$E2E_DIR/ptydrive.py" 24 80 24 80 \
    timeout 20 ssh -tt -p "$PORT" -i "$T/keys/alice" -o BatchMode=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o IdentitiesOnly=yes -o LogLevel=ERROR alice@127.0.0.1 | tr -d '\r')
check "shell: the typed command ran" grep -q '^typed-in-42$' <<<"$out"
f=$(newest)
expect_eq "shell: header kind" shell "$("$CAST" "$f" header airlock.kind)"
expect_eq "shell: no command in the header" "" "$("$CAST" "$f" header command)"
check "shell: the typed line is recorded as input" grep -qF 'echo typed-in-$((6*7))' <<<"$("$CAST" "$f" events i)"
check "shell: asciinema cat prints the shell's output" grep -q '^typed-in-42$' <<<"$(play "$f")"

# Forwarded TCP connections are not recorded, not even with input events:
# only the session channel (here: sleep) has a recording.
mkdir -p "$T/www"
echo forwarded-marker-7f3a >"$T/www/page"
(cd "$T/www" && exec python3 -m http.server --bind 127.0.0.1 8099) >/dev/null 2>&1 &
CLEANUP_PIDS+=($!)
disown $! # no job notice when the cleanup kills it
wait_until 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8099' 2>/dev/null
n=$(count)
sshc -o ExitOnForwardFailure=yes -L 18001:127.0.0.1:8099 -- 'echo tunnel-up; sleep 3' >"$T/tunnel.out" 2>/dev/null &
tun=$!
CLEANUP_PIDS+=("$tun")
wait_until 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/18001' 2>/dev/null
got=$(timeout 10 python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:18001/page', timeout=5).read().decode().strip())" 2>/dev/null)
expect_eq "forward: data went through the tunnel" forwarded-marker-7f3a "$got"
wait "$tun"
expect_eq "forward: one recording, for the session channel" $((n + 1)) "$(count)"
check "forward: the session's output is recorded" grep -q tunnel-up <<<"$("$CAST" "$(newest)" events o)"
check "forward: the tunnel's bytes are in no recording" test -z "$(grep -l forwarded-marker-7f3a "$REC"/*.cast)"
stop_sshd

# --- a certificate login: the header carries the certificate's key ID ---
newkey ca -t ed25519
newkey certuser -t ed25519
cp "$T/keys/certuser.pub" "$T/keys/certuser-c.pub"
ssh-keygen -q -s "$T/keys/ca" -I 'rec-id "quoted"' -n root -z 42 -V -5m:+1h "$T/keys/certuser-c.pub"
start_sshd "$KEYS" AIRLOCK_SSH_TRUSTED_USER_CA_KEYS="$(pub ca)" AIRLOCK_SSH_RECORD_DIR=$RDIR || { finish; exit 1; }
out=$(sshc -k certuser -o CertificateFile="$T/keys/certuser-c-cert.pub" -- echo cert-login)
expect_eq "cert: logged in with the certificate" cert-login "$out"
f=$(newest)
expect_eq "cert: header key_id is the certificate's" 'rec-id "quoted"' "$("$CAST" "$f" header airlock.key_id)"
fp=$(ssh-keygen -lf "$T/keys/certuser.pub" | awk '{print $2}')
expect_eq "cert: header fingerprint is the certified key's" "$fp" "$("$CAST" "$f" header airlock.key_fingerprint)"
out=$(sshc -- echo plain-login)
expect_eq "cert: a plain key's recording has no key_id" "" "$("$CAST" "$(newest)" header airlock.key_id)"
stop_sshd

# --- the size cap ---
start_sshd "$KEYS" AIRLOCK_SSH_RECORD_DIR=$RDIR AIRLOCK_SSH_RECORD_MAX=8k || { finish; exit 1; }
n=$(sshc -- 'head -c 300000 /dev/zero | tr "\0" a' | wc -c)
expect_eq "cap: the session goes on past the cap" 300000 "$n"
f=$(newest)
check "cap: file at most 8 KiB" test "$(stat -c %s "$f")" -le 8192
check "cap: file holds the start of the output" test "$(stat -c %s "$f")" -gt 4096
check "cap: what was written is valid asciicast" "$CAST" "$f" valid
check "cap: logged" log_has "recording '$(basename "$f")' of session [0-9]+ of 'root' ended: size cap reached"
stop_sshd

start_sshd "$KEYS" AIRLOCK_SSH_RECORD_DIR=$RDIR AIRLOCK_SSH_RECORD_MAX=8k \
    AIRLOCK_SSH_RECORD_REQUIRED=yes || { finish; exit 1; }
n=$(sshc -- 'head -c 300000 /dev/zero | tr "\0" a' | wc -c)
check "cap + REQUIRED: the session is ended short of its output" test "$n" -lt 300000
check "cap + REQUIRED: no more output than was recorded" test "$n" -le 8192
check "cap + REQUIRED: logged" log_has "ended: size cap reached .*ending the session"
# SFTP is not recorded, so with REQUIRED=yes it is refused.
echo "ls" | timeout 20 sftp -b - -P "$PORT" -i "$T/keys/root" \
    -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o IdentitiesOnly=yes -o LogLevel=ERROR root@127.0.0.1 >/dev/null 2>&1
check "sftp + REQUIRED: refused" test $? -ne 0
check "sftp + REQUIRED: refusal audited" audit_has "sftp refused for 'root' .*SFTP is not recorded and AIRLOCK_SSH_RECORD_REQUIRED=yes"
stop_sshd

# --- REQUIRED and an unusable directory: the session is refused ---
start_sshd "$KEYS" AIRLOCK_SSH_RECORD_DIR=/nonexistent/dir AIRLOCK_SSH_RECORD_REQUIRED=yes || { finish; exit 1; }
out=$(sshc -- 'echo must-not-run' 2>/dev/null)
st=$?
expect_eq "REQUIRED, no dir: no output" "" "$out"
check "REQUIRED, no dir: ssh fails" test "$st" -ne 0
check "REQUIRED, no dir: refusal audited" audit_has "session refused for 'root' .*no recording .*AIRLOCK_SSH_RECORD_REQUIRED=yes"
check "REQUIRED, no dir: one line names the directory" log_has "recording: directory '.*/nonexistent/dir' does not exist"
out=$(sshc -tt -- 'echo must-not-run' 2>/dev/null </dev/null | tr -d '\r')
check "REQUIRED, no dir: pty session refused too" test -z "$(grep must-not-run <<<"$out")"
stop_sshd

# --- hostile directories ---
mkdir -p "$AIRLOCK_ROOT/gw"
chmod 770 "$AIRLOCK_ROOT/gw"
start_sshd "$KEYS" AIRLOCK_SSH_RECORD_DIR=/gw || { finish; exit 1; }
check "start: an unsafe directory is reported once at start" log_has "recording: directory '.*/gw' is group or world writable .*sessions will be unrecorded until it is fixed"
out=$(sshc -- 'echo runs-unrecorded')
expect_eq "group-writable dir, not required: session runs" runs-unrecorded "$out"
check "group-writable dir: refused with a reason" log_has "recording: directory '.*/gw' is group or world writable"
expect_eq "group-writable dir: nothing created in it" "" "$(ls -A "$AIRLOCK_ROOT/gw")"
check "group-writable dir: the session says it is not recorded" log_has "session [0-9]+ of 'root' is not recorded"
stop_sshd

chmod 1777 "$AIRLOCK_ROOT/gw"
start_sshd "$KEYS" AIRLOCK_SSH_RECORD_DIR=/gw AIRLOCK_SSH_RECORD_REQUIRED=yes || { finish; exit 1; }
out=$(sshc -- 'echo must-not-run' 2>/dev/null)
expect_eq "world-writable dir + REQUIRED: refused" "" "$out"
stop_sshd

ln -s "$REC" "$AIRLOCK_ROOT/link"
n=$(count)
start_sshd "$KEYS" AIRLOCK_SSH_RECORD_DIR=/link AIRLOCK_SSH_RECORD_REQUIRED=yes || { finish; exit 1; }
out=$(sshc -- 'echo must-not-run' 2>/dev/null)
expect_eq "symlinked dir + REQUIRED: refused" "" "$out"
check "symlinked dir: refused with a reason" log_has "recording: directory '.*/link' is a symlink"
expect_eq "symlinked dir: nothing created through it" "$n" "$(count)"
stop_sshd

mkdir -p "$AIRLOCK_ROOT/alicedir"
chown 2001:2001 "$AIRLOCK_ROOT/alicedir"
chmod 700 "$AIRLOCK_ROOT/alicedir"
start_sshd "$KEYS" AIRLOCK_SSH_RECORD_DIR=/alicedir AIRLOCK_SSH_RECORD_REQUIRED=yes || { finish; exit 1; }
out=$(sshc -k alice -u alice -- 'echo must-not-run' 2>/dev/null)
expect_eq "dir owned by the login user + REQUIRED: refused" "" "$out"
check "user-owned dir: refused with a reason" log_has "recording: directory '.*/alicedir' is not owned by root"
stop_sshd

# --- bad configuration: one line, no start ---
env AIRLOCK_SSH_LISTEN=127.0.0.1 AIRLOCK_SSH_PORT=$PORT "$KEYS" AIRLOCK_SSH_RECORD_MAX=12x \
    timeout 5 "$SSHD" >/dev/null 2>"$T/bad.err"
check "bad RECORD_MAX: refused at start" grep -q "AIRLOCK_SSH_RECORD_MAX" "$T/bad.err"
env AIRLOCK_SSH_LISTEN=127.0.0.1 AIRLOCK_SSH_PORT=$PORT "$KEYS" AIRLOCK_SSH_RECORD_REQUIRED=yes \
    timeout 5 "$SSHD" >/dev/null 2>"$T/bad.err"
check "REQUIRED without a dir: refused at start" grep -q "needs AIRLOCK_SSH_RECORD_DIR" "$T/bad.err"

finish
