#!/bin/bash
# Dockerfile lint (hadolint is not in Debian 12): docker/Dockerfile and
# every ```dockerfile snippet of the README pass dockerfile_lint.sh's
# checks with the repository as the context; the checks themselves catch
# each broken form they exist for; .dockerignore keeps host builds out and
# the sources in; the syslog file is opt-in; and docker/Dockerfile's build
# command, run on a copy of exactly what Docker would send as the context,
# builds and installs what its second stage copies. No Docker engine is
# needed.
# The Dockerfile lines below end in a backslash inside single quotes.
# shellcheck disable=SC1003
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/dockerfile_lint.sh
source "$(dirname "$0")/dockerfile_lint.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)

# lint_ok NAME FILE: no problem found.
lint_ok() {
    local out
    out=$(dockerfile_lint "$2" "$REPO" "$1")
    expect_eq "$1: no problem" "" "$out"
}

# lint_finds NAME WANT_SUBSTRING: the Dockerfile in $T/bad is refused,
# with a message containing WANT_SUBSTRING.
lint_finds() {
    local out
    if ! out=$(dockerfile_lint "$T/bad" "$REPO" bad) && grep -qF -- "$2" <<<"$out"; then
        ok "$1"
    else
        not_ok "$1 (got: $out)"
    fi
}

# ---- the real files ---------------------------------------------------------
lint_ok docker/Dockerfile "$REPO/docker/Dockerfile"
n=0
awk -v dir="$T" '/^```dockerfile$/ { n++; f = dir "/readme-" n; next }
    /^```$/ { f = "" } f { print > f }' "$REPO/README.md"
for f in "$T"/readme-*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    lint_ok "README.md dockerfile snippet ${f##*-}" "$f"
done
check "the README has a dockerfile snippet" test "$n" -gt 0
expect_eq "docker/Dockerfile sets no AIRLOCK_SYSLOG_FILE (opt-in)" "" \
    "$(grep -nE '^[[:space:]]*ENV.*AIRLOCK_SYSLOG_FILE' "$REPO/docker/Dockerfile")"

# ---- .dockerignore ------------------------------------------------------------
for p in build/airlock build-static/airlock build-asan/x build/man/airlock.8 \
    .git/HEAD src/init/main.o src/init/main.d; do
    check ".dockerignore keeps $p out" dockerignore_excludes "$REPO" "$p"
done
for p in Makefile VERSION src/init/main.c dist/dist.mk man/airlock.8 \
    docker/install.sh etc/service/cron/run src/init/module.mk; do
    check ".dockerignore keeps $p in" test -e "$REPO/$p" -a \
        "$(dockerignore_excludes "$REPO" "$p" && echo out)" != out
done

# ---- the build stage from the context Docker would send ----------------------
# copy_context DIR: the repository's files under DIR that .dockerignore
# lets through (an excluded directory is not entered).
copy_context() {
    local rel=${1#"$REPO"} entry
    rel=${rel#/}
    for entry in "$1"/* "$1"/.[!.]*; do
        [ -e "$entry" ] || [ -L "$entry" ] || continue
        local r=${entry#"$REPO"/}
        dockerignore_excludes "$REPO" "$r" && continue
        if [ -d "$entry" ] && [ ! -L "$entry" ]; then
            mkdir -p "$T/ctx/$r"
            copy_context "$entry"
        else
            cp -P -p "$entry" "$T/ctx/$r"
        fi
    done
}
mkdir -p "$T/ctx"
copy_context "$REPO"
expect_eq "the context holds no build output and no .git" "" \
    "$(cd "$T/ctx" && find . -name '*.o' -o -name '.git' -o -path './build*' | head -n 3)"
# The build stage's own command, with /src and /out moved under $T.
run=$(grep -m 1 -E '^RUN make -C /src' "$REPO/docker/Dockerfile")
check "docker/Dockerfile has a 'RUN make -C /src' build command" test -n "$run"
run=${run#RUN }
run=${run//\/src/$T/ctx}
run=${run//\/out/$T/out}
if timeout 600 bash -c "$run" >"$T/build.log" 2>&1; then
    ok "the build stage's command builds from the clean context"
    for bin in airlock setuser airlock-sshd; do
        f=$T/out/usr/sbin/$bin
        expect_eq "/out/usr/sbin/$bin (what COPY --from=build takes) runs" \
            "$bin $(cat "$REPO/VERSION")" "$("$f" --version 2>&1)"
        expect_eq "/out/usr/sbin/$bin is stripped" "" \
            "$(readelf -SW "$f" 2>&1 | grep -E '\.(symtab|debug_info)')"
        check "/out/usr/share/man/man8/$bin.8 installed" test -s "$T/out/usr/share/man/man8/$bin.8"
    done
    for link in my_init sv; do
        expect_eq "/out/usr/sbin/$link is a link to airlock (/sbin/$link with merged /usr)" \
            airlock "$(readlink "$T/out/usr/sbin/$link")"
    done
else
    not_ok "the build stage's command failed: $(tail -n 5 "$T/build.log")"
fi

# ---- the checks catch what they are for ------------------------------------
printf '%s\n' 'FROM debian:12' 'COPY a /a        # a note' >"$T/bad"
lint_finds "an inline comment after COPY" "'#' after COPY"
printf '%s\n' 'FROM debian:12' 'RUN apt-get update && \' \
    '    apt-get install -y cron # the daemon' >"$T/bad"
lint_finds "an inline comment in a continued RUN" "'#' after RUN"
printf '%s\n' 'FROM debian:12' 'COPY build/airlock /usr/sbin/' >"$T/bad"
lint_finds "COPY of a path .dockerignore excludes" "COPY build/airlock: .dockerignore"
printf '%s\n' 'FROM debian:12' 'COPY ["./build-static/airlock", "/airlock"]' >"$T/bad"
lint_finds "COPY (JSON form) of an excluded path" "build-static/airlock: .dockerignore"
printf '%s\n' 'FROM debian:12 AS build' 'FROM debian:12' 'COPY --from=bulid /a /a' >"$T/bad"
lint_finds "COPY --from of a stage that does not exist" "COPY --from=bulid: no such stage"
printf '%s\n' 'FROM debian:12' 'COPY --from=1 /a /a' 'FROM debian:12 AS late' >"$T/bad"
lint_finds "COPY --from of a stage index not yet defined" "COPY --from=1: no such stage"
printf '%s\n' 'FROM debian:12' 'CMD ["setuser", "app", "/bin/myapp"]' >"$T/bad"
lint_finds "setuser to a user nobody created" "setuser app: no such user"
printf '%s\n' 'FROM debian:12' 'RUN useradd app' 'FROM debian:12' \
    'CMD ["setuser", "app", "/bin/myapp"]' >"$T/bad"
lint_finds "a user created in another stage does not count" "setuser app: no such user"
printf '%s\n' 'FROM debian:12' 'COPYY a /a' >"$T/bad"
lint_finds "an unknown instruction" "unknown instruction 'COPYY'"
printf '%s\n' 'RUN true' 'FROM debian:12' >"$T/bad"
lint_finds "RUN before FROM" "RUN before the first FROM"
# And the forms that are fine stay fine.
printf '%s\n' '# syntax comment' 'FROM debian:12 AS b' 'FROM debian:12' 'RUN useradd --system -m app' \
    'COPY --from=b /x /y' 'COPY --from=0 /x /z' 'COPY --from=docker.io/library/busybox:1 /bin/busybox /b' \
    'COPY --chown=app:app src /src' \
    'RUN echo a \' '# a comment line inside a continuation' '    b' \
    'CMD ["setuser", "--login", "app:app", "/bin/true"]' >"$T/bad"
out=$(dockerfile_lint "$T/bad" "$REPO" good)
expect_eq "a Dockerfile using stages, indices, images, useradd, --chown, continued comments" "" "$out"

finish
