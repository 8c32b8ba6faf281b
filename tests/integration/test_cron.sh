#!/bin/bash
# etc/service/cron/run: which daemon it picks, and a real Debian cron run
# as an airlock service whose /etc/cron.d jobs see a variable passed to
# airlock (docker run -e), both by sourcing /etc/container_environment.sh
# and through BASH_ENV.
#
# Debian's cron reads the real /etc/cron.d and /etc/crontab, so the run
# happens in a private mount namespace with tmpfs over /etc/cron.d,
# /var/spool/cron/crontabs and /run and an empty file over /etc/crontab:
# nothing of the machine's cron setup is read or touched. cron only fires
# on minute boundaries: the wait is bounded at 75 s.
# Single quotes around $VARS are deliberate: the inner shells expand them.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

RUN=$(cd "$(dirname "$0")/../../etc/service/cron" && pwd)/run

# --- the run script picks the daemon that exists
mkdir -p "$T/bin-debian" "$T/bin-alpine" "$T/bin-none"
for d in bin-debian/cron bin-alpine/crond; do
    # PATH holds only this directory: no basename(1).
    printf '#!/bin/sh\necho "${0##*/} $*"\n' >"$T/$d"
    chmod 755 "$T/$d"
done
expect_eq "cron: run execs 'cron -f' where cron exists (Debian)" \
    "cron -f" "$(PATH=$T/bin-debian /bin/sh "$RUN" 2>&1)"
expect_eq "cron: run execs 'crond -f' where only crond exists (Alpine)" \
    "crond -f" "$(PATH=$T/bin-alpine /bin/sh "$RUN" 2>&1)"
RC=0
PATH=$T/bin-none /bin/sh "$RUN" >"$T/none.out" 2>&1 || RC=$?
check "cron: run without any cron daemon fails with a clear line" \
    test "$RC" -ne 0 -a -n "$(grep 'no cron daemon' "$T/none.out")"

# --- a real cron job sees the container environment
if ! command -v cron >/dev/null 2>&1; then
    not_ok "cron: Debian cron is not installed (make deps installs it)"
    finish
    exit
fi

ROOT=$T/root
mkdir -p "$ROOT/etc/service/cron"
cp "$RUN" "$ROOT/etc/service/cron/run"
# Quotes, $ and a backquote; no '%', which crontab lines reserve.
# shellcheck disable=SC2089 # the quotes are the payload
MYVAR="passed with -e: 'single' \"double\" \$NOTEXPANDED \`nor this\`"
# shellcheck disable=SC2090
export T ROOT AIRLOCK MYVAR

cat >"$T/inner.sh" <<'EOF'
set -eu
mount -t tmpfs -o mode=0755 tmpfs /etc/cron.d
if [ -d /var/spool/cron/crontabs ]; then
    mount -t tmpfs -o mode=1730 tmpfs /var/spool/cron/crontabs
fi
mount -t tmpfs -o mode=0755 tmpfs /run
if [ -e /etc/crontab ]; then
    : >"$T/crontab"
    mount --bind "$T/crontab" /etc/crontab
fi
# cron passes '%' as stdin, hence "\%s".
cat >/etc/cron.d/airlock-source <<JOB
* * * * * root . $ROOT/etc/container_environment.sh; printf '\%s' "\$MYVAR" > $T/out_source
JOB
cat >/etc/cron.d/airlock-bashenv <<JOB
SHELL=/bin/bash
BASH_ENV=$ROOT/etc/container_environment.sh
* * * * * root printf '\%s' "\$MYVAR" > $T/out_bashenv
JOB
chmod 0644 /etc/cron.d/airlock-source /etc/cron.d/airlock-bashenv
AIRLOCK_ROOT=$ROOT AIRLOCK_SSH=off AIRLOCK_SYSLOG=off \
    timeout -k 2 90 unshare --pid --fork --mount-proc --kill-child \
    "$AIRLOCK" -- sh -c '
i=0
while [ $i -lt 750 ]; do
    [ -s "$T/out_source" ] && [ -s "$T/out_bashenv" ] && exit 0
    sleep 0.1
    i=$((i + 1))
done
exit 3'
EOF

start=$(date +%s)
RC=0
unshare --mount --propagation private bash "$T/inner.sh" >"$T/airlock.out" \
    2>"$T/airlock.err" || RC=$?
echo "# cron: waited $(($(date +%s) - start)) s for the minute boundary"
expect_eq "cron: the jobs ran within 75 s (airlock exit status)" 0 "$RC"
expect_eq "cron: a job that sources container_environment.sh sees -e vars" \
    "$MYVAR" "$(cat "$T/out_source" 2>/dev/null)"
expect_eq "cron: a job under BASH_ENV=container_environment.sh sees -e vars" \
    "$MYVAR" "$(cat "$T/out_bashenv" 2>/dev/null)"
if [ "$RC" -ne 0 ]; then
    sed 's/^/# /' "$T/airlock.err" | tail -n 20
fi

finish
