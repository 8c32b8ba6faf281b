#!/bin/bash
# airlock-sshd sessions with the real OpenSSH client: identity and
# privilege drop, exit statuses and signals, stdout/stderr, byte-exact
# data both ways, PTY and window changes, environment.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

newkey root -t ed25519
newkey alice -t ed25519
newkey bob -t ed25519
mkdir -p "$AIRLOCK_ROOT/etc/airlock/authorized_keys.d" "$AIRLOCK_ROOT/etc/container_environment"
pub alice >"$AIRLOCK_ROOT/etc/airlock/authorized_keys.d/alice"
pub bob >"$AIRLOCK_ROOT/etc/airlock/authorized_keys.d/bob"
printf 'from-the-container' >"$AIRLOCK_ROOT/etc/container_environment/APP_SETTING"
start_sshd AIRLOCK_AUTHORIZED_KEYS="$(pub root)" || { finish; exit 1; }

check "startup logs the libssh version" grep -q 'with libssh 0.10.6' "$T/sshd.err"
check "startup logs the host key fingerprint" grep -qE 'host key ED25519 SHA256:' "$T/sshd.err"
check "host key generated 0600" test "$(stat -c %a "$AIRLOCK_ROOT/etc/airlock/host_keys/ssh_host_ed25519_key")" = 600

out=$(sshc -- id)
expect_eq "id as root" "uid=0(root) gid=0(root) groups=0(root)" "$out"

out=$(sshc -k alice -u alice -- id)
expect_eq "id as alice (uid, groups)" "uid=2001(alice) gid=2001(alice) groups=2001(alice),2100(staff2)" "$out"
out=$(sshc -k alice -u alice -- 'grep -E "^(NoNewPrivs|CapEff|CapPrm|CapBnd):" /proc/self/status | tr -s "\t " " "')
check "alice: NoNewPrivs 1" grep -q "NoNewPrivs: 1" <<<"$out"
check "alice: CapEff 0" grep -q "CapEff: 0000000000000000" <<<"$out"
check "alice: CapPrm 0" grep -q "CapPrm: 0000000000000000" <<<"$out"
out=$(sshc -k alice -u alice -- 'pwd; echo "$HOME $USER $LOGNAME $SHELL"')
expect_eq "alice: cwd and login variables" "$T/home/alice
$T/home/alice alice alice /bin/sh" "$out"

out=$(sshc -k bob -u bob -- 'echo "$(id -un) $SHELL"')
expect_eq "nologin shell: /bin/sh instead" "bob /bin/sh" "$out"
check "nologin shell: logged" grep -q "user 'bob' has shell '/usr/sbin/nologin', using /bin/sh" "$T/sshd.err"

sshc -- 'exit 0'
expect_eq "exit status 0" 0 $?
sshc -- 'exit 1'
expect_eq "exit status 1" 1 $?
sshc -- 'exit 42'
expect_eq "exit status 42" 42 $?
sshc -- 'kill -TERM $$' 2>/dev/null
expect_eq "exit signal TERM (ssh reports 255)" 255 $?
sshc -v -- 'kill -KILL $$' 2>"$T/sig.log"
check "exit-signal KILL reported to the client" grep -q 'exit-signal\|killed by signal' "$T/sig.log"

out=$(sshc -- 'echo to-out; echo to-err >&2' 2>"$T/err.txt")
expect_eq "stdout apart" "to-out" "$out"
expect_eq "stderr apart" "to-err" "$(cat "$T/err.txt")"

out=$(echo hello | sshc -- 'cat; echo after-eof')
expect_eq "stdin EOF reaches the command" "hello
after-eof" "$out"

out=$(yes | head -c 100000000 | sshc -- 'head -c 5' | od -An -c | tr -d ' \n')
expect_eq "command that stops reading stdin early still ends" 'y\ny\ny' "$out"

head -c 10485760 /dev/urandom >"$T/10m"
sshc -- cat <"$T/10m" >"$T/10m.back"
check "cat round-trips 10 MiB byte-exactly" cmp -s "$T/10m" "$T/10m.back"

n=$(SSH_TIMEOUT=120 sshc -- 'head -c 1073741824 /dev/zero' | wc -c)
expect_eq "1 GiB from the server completes" 1073741824 "$n"

n=$(head -c 268435456 /dev/zero | SSH_TIMEOUT=120 sshc -- 'wc -c')
expect_eq "256 MiB to the server completes" 268435456 "$n"

out=$(sshc -- 'echo "$SSH_CONNECTION|$SSH_CLIENT|${SSH_TTY-unset}|$PATH|$APP_SETTING|${AIRLOCK_AUTHORIZED_KEYS-unset}"')
check "SSH_CONNECTION set" grep -qE '^127\.0\.0\.1 [0-9]+ 127\.0\.0\.1 2222\|' <<<"$out"
check "SSH_CLIENT set" grep -qE '\|127\.0\.0\.1 [0-9]+ 2222\|' <<<"$out"
check "no SSH_TTY without a pty" grep -q '|unset|' <<<"$out"
check "container environment loaded" grep -q '|from-the-container|' <<<"$out"
check "key material not in the session environment" grep -q '|unset$' <<<"$out"
out=$(unset LANG LANGUAGE "${!LC_@}"; sshc -- 'env | cut -d= -f1 | sort | tr "\n" " "')
expect_eq "environment built from scratch" "APP_SETTING HOME LOGNAME PATH PWD SHELL SSH_CLIENT SSH_CONNECTION USER " "$out"

out=$(LANG=C.UTF-8 LC_TIME=C FOO_SECRET=x sshc -o SendEnv=LANG -o SendEnv=LC_TIME -o SendEnv=FOO_SECRET -- 'echo "$LANG|$LC_TIME|${FOO_SECRET-unset}"')
expect_eq "env requests: LANG and LC_* only" "C.UTF-8|C|unset" "$out"

# The helper reports its own state: a shell reading /proc/$$ from a forked
# ls or grep may catch itself inside the fork (signals blocked, pipe fds).
out=$(sshc -- "exec $(cd "$B" && pwd)/tests/helpers/procstate" | tr -s "\t " " ")
check "session fds: 0 1 2 only" grep -qx 'fds: 0 1 2' <<<"$out"
check "signal mask cleared" grep -q "SigBlk: 0000000000000000" <<<"$out"
check "no ignored signals" grep -q "SigIgn: 0000000000000000" <<<"$out"

# PTY: tty, TERM, initial size, then a window change.
out=$(TERM=xterm-256color python3 "$E2E_DIR/ptydrive.py" 30 100 40 120 \
    timeout 20 ssh -tt -p "$PORT" -i "$T/keys/alice" -o BatchMode=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o IdentitiesOnly=yes -o LogLevel=ERROR alice@127.0.0.1 \
    'tty; echo "term=$TERM tty=$SSH_TTY"; stty size; echo WINCH-NOW; read x; stty size; echo done' | tr -d '\r')
check "pty: tty is a pts" grep -q '^/dev/pts/' <<<"$out"
check "pty: TERM and SSH_TTY" grep -qE '^term=xterm-256color tty=/dev/pts/' <<<"$out"
check "pty: initial size 30x100" grep -qx '30 100' <<<"$out"
check "pty: size after window change 40x120" grep -qx '40 120' <<<"$out"
out=$(SSH_TIMEOUT=10 sshc -tt -- 'test -t 0 && echo has-tty; exit 7' </dev/null | tr -d '\r')
check "pty exec: tty present" grep -q has-tty <<<"$out"
out=$(sshc -tt -- 'exit 7' </dev/null >/dev/null 2>&1; echo $?)
expect_eq "pty exec: exit status" 7 "$out"

check "audit: accepted with fingerprint and source" audit_has "Accepted publickey for 'alice' from 127.0.0.1 port [0-9]+ ssh2: ssh-ed25519 SHA256:[A-Za-z0-9+/]+ \(source /etc/airlock/authorized_keys.d/alice line 1\)"
check "audit: session start" audit_has "session [0-9]+ start for 'root' .*: exec, exit 42"
check "audit: session end with status and bytes" audit_has "session [0-9]+ end for 'root' .*: exit status 42, [0-9]+ ms, [0-9]+ bytes in, [0-9]+ bytes out"
check "audit: connection line" audit_has "connection from 127.0.0.1 port [0-9]+ to 127.0.0.1 port 2222"

# A vanished client: its session's process group gets SIGHUP.
rm -f "$T/hup"
# ssh itself in the background (not through sshc's timeout), so that
# killing $cl kills the client.
ssh -p "$PORT" -i "$T/keys/root" -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o LogLevel=ERROR \
    root@127.0.0.1 "trap 'echo got-hup >$T/hup; exit' HUP; sleep 30 & wait" >/dev/null 2>&1 &
cl=$!
disown "$cl" # no job notice when it is killed below
CLEANUP_PIDS+=("$cl")
wait_until 5 audit_has "start for 'root' .*got-hup"
kill -KILL "$cl"
wait_until 5 test -s "$T/hup"
expect_eq "client gone: the session gets SIGHUP" got-hup "$(cat "$T/hup" 2>/dev/null)"
check "audit: hang-up logged" audit_has "session [0-9]+ of 'root' hung up: client disconnected|hung up: connection error"

stop_sshd
check "SIGTERM stops airlock-sshd" test -z "$SSHD_PID"
finish
