#!/bin/bash
# Local port forwarding (ssh -L): off by default, on with
# AIRLOCK_SSH_TCP_FORWARDING=yes, never for restrict/no-port-forwarding
# keys, limited by permitopen=. Remote forwarding, agent and X11 stay off.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

newkey root -t ed25519
newkey restricted -t ed25519
newkey permit -t ed25519
newkey permit6 -t ed25519
mkdir -p "$T/www"
head -c 200000 /dev/urandom >"$T/www/blob"
(cd "$T/www" && exec python3 -m http.server --bind 127.0.0.1 8099) >/dev/null 2>&1 &
HTTPD=$!
CLEANUP_PIDS+=("$HTTPD")
wait_until 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8099' 2>/dev/null
# The same files on IPv6 loopback, for permitopen="[::1]:port".
(cd "$T/www" && exec python3 -m http.server --bind ::1 8097) >/dev/null 2>&1 &
HTTPD6=$!
CLEANUP_PIDS+=("$HTTPD6")
wait_until 10 bash -c 'exec 3<>/dev/tcp/::1/8097' 2>/dev/null

fetch() { # fetch LOCALPORT: the blob through the tunnel, into $T/got
    rm -f "$T/got"
    timeout 10 python3 -c "import urllib.request,sys; sys.stdout.buffer.write(urllib.request.urlopen('http://127.0.0.1:$1/blob', timeout=5).read())" >"$T/got" 2>/dev/null
}

tunnel() { # tunnel KEY LOCALPORT TARGETPORT [TARGETHOST]: starts ssh -L in the background
    sshc -k "$1" -o ExitOnForwardFailure=yes -L "$2:${4:-127.0.0.1}:$3" -- sleep 8 >/dev/null 2>&1 &
    CLEANUP_PIDS+=($!)
    wait_until 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" 2>/dev/null
}

keys="$(pub root)
restrict $(pub restricted)
permitopen=\"127.0.0.1:8098\" $(pub permit)
permitopen=\"[::1]:8097\" $(pub permit6)"

start_sshd AIRLOCK_AUTHORIZED_KEYS="$keys" || { finish; exit 1; }
tunnel root 18001 8099
fetch 18001
check "forwarding off by default" test ! -s "$T/got"
check "audit: forwarding refused (off)" audit_has "port forwarding to 127.0.0.1 port 8099 refused for 'root': AIRLOCK_SSH_TCP_FORWARDING is off"
sshc -v -R 18009:127.0.0.1:8099 -o ExitOnForwardFailure=yes -- true 2>"$T/r.log"
check "remote forwarding (-R) refused" grep -q "remote port forwarding failed" "$T/r.log"
sshc -v -A -- true 2>"$T/a.log"
check "agent forwarding not granted" bash -c "! grep -q 'agent forwarding.*accepted\|channel .*auth-agent' '$T/a.log'"
stop_sshd

start_sshd AIRLOCK_AUTHORIZED_KEYS="$keys" AIRLOCK_SSH_TCP_FORWARDING=yes || { finish; exit 1; }
tunnel root 18002 8099
fetch 18002
check "forwarding on: data byte-exact through the tunnel" cmp -s "$T/www/blob" "$T/got"
check "audit: forwarding logged" audit_has "forwarding [0-9]+ for 'root' from 127.0.0.1 port [0-9]+ to 127.0.0.1 port 8099"
tunnel restricted 18003 8099
fetch 18003
check "restrict key: no forwarding" test ! -s "$T/got"
check "audit: restrict refusal" audit_has "refused for 'root': key has no-port-forwarding"
tunnel permit 18004 8099
fetch 18004
check "permitopen: other destinations refused" test ! -s "$T/got"
check "audit: permitopen refusal" audit_has "refused for 'root': not in permitopen"
tunnel permit6 18005 8097 '[::1]'
fetch 18005
check "permitopen=\"[::1]:port\": the IPv6 destination is allowed" \
    cmp -s "$T/www/blob" "$T/got"
tunnel permit6 18006 8099
fetch 18006
check "permitopen=\"[::1]:port\": other destinations refused" test ! -s "$T/got"
kill "$HTTPD" "$HTTPD6" 2>/dev/null
wait "$HTTPD" "$HTTPD6" 2>/dev/null
finish
